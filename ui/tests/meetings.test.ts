import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import App from "../src/App.svelte";
import type { EventSync, MeetingEntry, MeetingRequest } from "../src/lib/bindings";
import { callerMatch, emitCoreEvent, fakeCore, matchedRecord, refuse, type FakeCore } from "./fake-core";

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

function meeting(id: number, event: EventSync, overrides: Partial<MeetingEntry> = {}): MeetingEntry {
  return {
    id,
    provider: "jitsi",
    meetingId: `MeetingWithCamilleMartin-${id}`,
    topic: "Meeting with Camille Martin",
    agenda: "",
    joinUrl: `https://meet.jit.si/MeetingWithCamilleMartin-${id}`,
    passcode: null,
    startAt: Math.floor(Date.now() / 1000),
    durationMins: 30,
    timeZone: "Europe/Paris",
    instant: true,
    invitees: [],
    who: request.who ?? null,
    what: request.what ?? null,
    event,
    ...overrides,
  };
}

describe("Start meeting on the pop", () => {
  it("asks the core for the request of this record, starts it, and follows its Event", async () => {
    const queued = meeting(4, { state: "pending", reason: null, nextAttemptAt: null });
    const core = fakeCore({
      new_meeting_request: () => request,
      start_meeting: () => ({ meeting: queued, openUrl: queued.joinUrl, openProblem: null }),
    });
    await renderApp(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    await fireEvent.click(await screen.findByTestId("pop-meet"));
    await vi.waitFor(() => expect(core.callsTo("start_meeting")).toHaveLength(1));
    expect(core.callsTo("new_meeting_request")[0]).toEqual({ record: matchedRecord() });
    expect(core.callsTo("start_meeting")[0]).toEqual({ request });

    const strip = await screen.findByTestId("pop-meeting");
    expect(within(strip).getByTestId("pop-meeting-url")).toHaveTextContent(queued.joinUrl);
    expect(within(strip).getByTestId("sync-state")).toHaveAttribute("data-state", "pending");
    const synced = { ...queued, event: { state: "synced", eventId: "00U000000000001AAA", url: null } as EventSync };
    await emitCoreEvent({ type: "meetingChanged", meeting: synced });
    await vi.waitFor(() => expect(within(strip).getByTestId("sync-state")).toHaveAttribute("data-state", "synced"));

    // The Meetings view then lists it once, as the core does.
    core.handle("list_meetings", () => [synced]);
    await fireEvent.click(screen.getByTestId("nav-meetings"));
    await vi.waitFor(() => expect(core.callsTo("list_meetings")).toHaveLength(1));
    const entries = await screen.findAllByTestId("meeting-entry");
    expect(entries).toHaveLength(1);
    expect(within(entries[0]).getByTestId("sync-state")).toHaveAttribute("data-state", "synced");
  });

  it("shows the core's refusal and starts nothing else", async () => {
    const core = fakeCore({
      new_meeting_request: () => request,
      start_meeting: refuse("invalidInput", "The meeting was not created. Zoom is not connected."),
    });
    await renderApp(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    await fireEvent.click(await screen.findByTestId("pop-meet"));
    expect(await screen.findByTestId("pop-meet-error")).toHaveTextContent("Zoom is not connected");
    expect(screen.queryByTestId("pop-meeting")).toBeNull();
  });
});

describe("the Meetings view", () => {
  it("lists the window of days with each Event's state, and retries a refused one", async () => {
    const refused = meeting(2, { state: "attention", reason: "A validation rule of your org refused the meeting's Event." });
    const core = fakeCore({
      list_meetings: () => [meeting(3, { state: "synced", eventId: "00U000000000001AAA", url: null }), refused],
      retry_meeting_event: () => ({ ...refused, event: { state: "pending", reason: null, nextAttemptAt: null } }),
      open_meeting: () => null,
    });
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-meetings"));
    const entries = await screen.findAllByTestId("meeting-entry");
    expect(entries).toHaveLength(2);
    const { from, to } = core.callsTo("list_meetings")[0] as { from: number; to: number };
    expect(to - from).toBe(60 * 86_400);
    expect(within(entries[1]).getByTestId("sync-reason")).toHaveTextContent("validation rule");
    await fireEvent.click(within(entries[1]).getByTestId("meeting-retry"));
    await vi.waitFor(() => expect(within(entries[1]).getByTestId("sync-state")).toHaveAttribute("data-state", "pending"));
    expect(core.callsTo("retry_meeting_event")[0]).toEqual({ id: 2 });
    await fireEvent.click(within(entries[0]).getByTestId("meeting-join"));
    expect(core.callsTo("open_meeting")[0]).toEqual({ id: 3 });
  });
});
