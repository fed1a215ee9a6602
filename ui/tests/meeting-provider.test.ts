import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import App from "../src/App.svelte";
import type { MeetingEntry, MeetingRequest } from "../src/lib/bindings";
import { callerMatch, emitCoreEvent, fakeCore, providers, refuse, type FakeCore } from "./fake-core";

async function renderApp(core: FakeCore) {
  render(App);
  await vi.waitFor(() => expect(core.callsTo("take_pending_dial")).toHaveLength(1));
  await screen.findByTestId("view-title");
}

const request: MeetingRequest = {
  provider: "jitsi",
  topic: "",
  agenda: "",
  startAt: null,
  durationMins: 0,
  timeZone: "",
  invitees: [],
  who: { object: "Contact", id: "003000000000001AAA", name: "Camille Martin" },
  what: { object: "Account", id: "001000000000001AAA", name: "Boulangeries Dupont" },
};

function started(provider: MeetingEntry["provider"], instant = true): MeetingEntry {
  return {
    id: 21,
    provider,
    meetingId: "85012345678",
    topic: "Meeting with Camille Martin",
    agenda: "",
    joinUrl: "https://acme.zoom.us/j/85012345678",
    passcode: null,
    startAt: Math.floor(Date.now() / 1000),
    durationMins: 30,
    timeZone: "Europe/Paris",
    instant,
    invitees: [],
    who: request.who ?? null,
    what: request.what ?? null,
    event: { state: "pending", reason: null, nextAttemptAt: null },
    number: "85012345678",
    status: "scheduled",
    held: null,
    checkProblem: null,
  };
}

const options = (select: HTMLElement) =>
  within(select)
    .getAllByRole<HTMLOptionElement>("option")
    .map((o) => [o.value, o.textContent?.trim(), o.disabled]);

describe("the provider of a new meeting", () => {
  it("offers Jitsi and the connected accounts, the others disabled with where to connect them", async () => {
    const core = fakeCore({
      meeting_providers: () => providers({ zoom: { configured: true, connected: true } }),
      new_meeting_request: () => request,
      start_meeting: ({ request }) => ({ meeting: started((request as MeetingRequest).provider), openUrl: null, openProblem: null }),
    });
    await renderApp(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    const select = await screen.findByTestId("pop-meet-provider");
    await vi.waitFor(() => expect(options(select)).toHaveLength(3));
    expect(screen.getByLabelText("Meeting provider")).toBe(select);
    expect(options(select)).toEqual([
      ["jitsi", "Jitsi Meet", false],
      ["zoom", "Zoom", false],
      ["webex", "Webex — connect it in Settings → Meetings", true],
    ]);
    expect(select, "Jitsi until the rep picks another").toHaveValue("jitsi");

    await fireEvent.change(select, { target: { value: "zoom" } });
    await fireEvent.click(screen.getByTestId("pop-meet"));
    await vi.waitFor(() => expect(core.callsTo("start_meeting")).toHaveLength(1));
    expect(core.callsTo("start_meeting")[0]).toEqual({ request: { ...request, provider: "zoom" } });
    expect(await screen.findByTestId("pop-meeting")).toHaveTextContent("Zoom meeting started.");

    // The pick is kept: the schedule form starts from it and sends it.
    await fireEvent.click(screen.getByTestId("pop-schedule"));
    const form = await screen.findByTestId("schedule-form");
    const scheduleSelect = within(form).getByTestId("schedule-provider");
    expect(scheduleSelect).toHaveValue("zoom");
    await vi.waitFor(() => expect(within(form).getByTestId("schedule-submit")).toBeEnabled());
    await fireEvent.click(within(form).getByTestId("schedule-submit"));
    await vi.waitFor(() => expect(core.callsTo("start_meeting")).toHaveLength(2));
    expect(core.callsTo("start_meeting")[1].request).toMatchObject({ provider: "zoom" });
  });

  it("falls back to Jitsi once the picked account is disconnected", async () => {
    const core = fakeCore({
      meeting_providers: () => providers({ webex: { configured: true, connected: true } }),
      new_meeting_request: () => request,
      start_meeting: () => ({ meeting: started("jitsi"), openUrl: null, openProblem: null }),
    });
    await renderApp(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    const select = await screen.findByTestId("pop-meet-provider");
    await vi.waitFor(() => expect(within(select).getByRole<HTMLOptionElement>("option", { name: "Webex" }).disabled).toBe(false));
    await fireEvent.change(select, { target: { value: "webex" } });
    expect(select).toHaveValue("webex");

    // Disconnected elsewhere (Settings): the next read of the providers says so.
    core.handle("meeting_providers", () => providers({ webex: { configured: true } }));
    await fireEvent.click(screen.getByTestId("nav-settings"));
    await screen.findByTestId("meeting-provider-webex");
    await fireEvent.click(screen.getByTestId("nav-phone"));
    const again = await screen.findByTestId("pop-meet-provider");
    await vi.waitFor(() => expect(again).toHaveValue("jitsi"));
    await fireEvent.click(screen.getByTestId("pop-meet"));
    await vi.waitFor(() => expect(core.callsTo("start_meeting")).toHaveLength(1));
    expect(core.callsTo("start_meeting")[0]).toEqual({ request });
  });

  it("offers Jitsi alone when the providers cannot be read", async () => {
    const core = fakeCore({
      meeting_providers: refuse("storage", "The settings file is unreadable."),
      new_meeting_request: () => request,
      start_meeting: () => ({ meeting: started("jitsi"), openUrl: null, openProblem: null }),
    });
    await renderApp(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    const select = await screen.findByTestId("pop-meet-provider");
    await vi.waitFor(() => expect(core.callsTo("meeting_providers").length).toBeGreaterThan(0));
    expect(options(select)).toEqual([["jitsi", "Jitsi Meet", false]]);
    await fireEvent.click(screen.getByTestId("pop-meet"));
    await vi.waitFor(() => expect(core.callsTo("start_meeting")).toHaveLength(1));
    expect(core.callsTo("start_meeting")[0]).toEqual({ request });
  });
});
