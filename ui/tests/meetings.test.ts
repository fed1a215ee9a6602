import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import App from "../src/App.svelte";
import type { EventSync, Invitation, MeetingEntry, MeetingRequest } from "../src/lib/bindings";
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
    number: null,
    status: "scheduled",
    held: null,
    checkProblem: null,
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

describe("events and answers", () => {
  it("keeps the Event's recorded state when the event overtakes the command's answer", async () => {
    const queued = meeting(5, { state: "pending", reason: null, nextAttemptAt: null });
    const synced = { ...queued, event: { state: "synced", eventId: "00U000000000005AAA", url: null } as EventSync };
    const core = fakeCore({
      new_meeting_request: () => request,
      start_meeting: async () => {
        // The outbox records the Event before the shell answers.
        await emitCoreEvent({ type: "meetingChanged", meeting: synced });
        return { meeting: queued, openUrl: queued.joinUrl, openProblem: null };
      },
    });
    await renderApp(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    await fireEvent.click(await screen.findByTestId("pop-meet"));
    const strip = await screen.findByTestId("pop-meeting");
    await vi.waitFor(() => expect(core.callsTo("start_meeting")).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 50));
    expect(within(strip).getByTestId("sync-state")).toHaveAttribute("data-state", "synced");
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

describe("Schedule… on the pop", () => {
  it("shows the moment in both zones as the core reads it, and sends the local time with its zone", async () => {
    const scheduled = meeting(8, { state: "pending", reason: null, nextAttemptAt: null }, { instant: false, timeZone: "America/New_York" });
    const core = fakeCore({
      new_meeting_request: () => ({ ...request, invitees: ["camille@dupont.example"] }),
      meeting_time: (args) =>
        (args.local as string).endsWith("T02:30")
          ? { startAt: null, problem: "2027-03-14 02:30 does not exist in America/New_York", note: null, repZone: "Europe/Paris" }
          : { startAt: 1_805_032_800, problem: null, note: null, repZone: "Europe/Paris" },
      start_meeting: () => ({ meeting: scheduled, openUrl: null, openProblem: null }),
    });
    await renderApp(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    await fireEvent.click(await screen.findByTestId("pop-schedule"));
    const form = await screen.findByTestId("schedule-form");
    await vi.waitFor(() => expect(within(form).getByTestId("schedule-invitees")).toHaveValue("camille@dupont.example"));
    await fireEvent.input(within(form).getByTestId("schedule-date"), { target: { value: "2027-03-14" } });
    await fireEvent.input(within(form).getByTestId("schedule-time"), { target: { value: "02:30" } });
    await fireEvent.input(within(form).getByTestId("schedule-zone"), { target: { value: "America/New_York" } });
    expect(await within(form).findByTestId("schedule-problem")).toHaveTextContent("does not exist");
    await fireEvent.input(within(form).getByTestId("schedule-time"), { target: { value: "10:00" } });
    expect(await within(form).findByTestId("schedule-times")).toHaveTextContent("America/New_York");
    expect(core.callsTo("meeting_time").at(-1)).toEqual({ local: "2027-03-14T10:00", timeZone: "America/New_York" });
    await fireEvent.input(within(form).getByTestId("schedule-invitees"), { target: { value: "camille@dupont.example, ana@acme.example" } });
    await fireEvent.click(within(form).getByTestId("schedule-submit"));
    await vi.waitFor(() => expect(core.callsTo("start_meeting")).toHaveLength(1));
    expect(core.callsTo("start_meeting")[0].request).toMatchObject({
      localStart: "2027-03-14T10:00",
      timeZone: "America/New_York",
      durationMins: 30,
      invitees: ["camille@dupont.example", "ana@acme.example"],
      who: request.who,
    });
    expect(await screen.findByTestId("pop-meeting")).toHaveTextContent("scheduled for");
    expect(screen.queryByTestId("schedule-form")).toBeNull();
  });
});

describe("the invitation email", () => {
  const pending: EventSync = { state: "pending", reason: null, nextAttemptAt: null };
  const invitation = (state: Invitation["state"], reason: string | null = null, recipients = ["camille@dupont.example"]): Invitation => ({
    state,
    recipients,
    reason,
  });

  async function meetingsView(core: FakeCore) {
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-meetings"));
    return screen.findAllByTestId("meeting-entry");
  }

  it("says where each meeting's invitation is, and shows nothing for a meeting without one", async () => {
    const core = fakeCore({
      list_meetings: () => [
        meeting(7, pending, { invitation: invitation("sent", null, ["a@x.example", "b@y.example"]) }),
        meeting(6, pending, { invitation: invitation("pending", "Salesforce is not signed in: sign in from Settings → Salesforce.") }),
        meeting(5, pending, { invitation: invitation("sending") }),
        meeting(4, pending, { invitation: invitation("failed", "Salesforce refused the email: the address is invalid.") }),
        meeting(3, pending, { invitation: invitation("unsure", "the answer was lost") }),
        meeting(2, pending, { invitation: null }),
        // A core from before invitations leaves the field out.
        meeting(1, pending),
      ],
    });
    const [sent, waiting, sending, failed, unsure, none, absent] = await meetingsView(core);

    const shown = (entry: HTMLElement) => within(entry).getByTestId("meeting-invitation");
    expect(shown(sent)).toHaveAttribute("data-state", "sent");
    expect(shown(sent)).toHaveTextContent("Invitation emailed to a@x.example, b@y.example");
    expect(shown(waiting)).toHaveAttribute("data-state", "pending");
    expect(shown(waiting)).toHaveTextContent("Invitation waiting to be sent: Salesforce is not signed in");
    expect(shown(sending)).toHaveAttribute("data-state", "sending");
    expect(shown(sending).textContent?.trim()).toBe("Invitation waiting to be sent");
    expect(shown(failed)).toHaveAttribute("data-state", "failed");
    expect(shown(failed)).toHaveTextContent("Invitation not sent: Salesforce refused the email: the address is invalid.");
    expect(shown(unsure)).toHaveAttribute("data-state", "unsure");
    expect(shown(unsure)).toHaveTextContent("The invitation may have been sent (the answer was lost)");

    for (const entry of [failed, unsure]) {
      expect(within(entry).getByTestId("meeting-invitation-resend"), "a refused or maybe-sent invitation can be sent again").toHaveTextContent("Send again");
    }
    for (const entry of [sent, waiting, sending]) {
      expect(within(entry).queryByTestId("meeting-invitation-resend"), "only a refused or maybe-sent invitation is offered again").toBeNull();
    }
    for (const entry of [none, absent]) {
      expect(within(entry).queryByTestId("meeting-invitation"), "a meeting whose layout emails nothing shows no invitation").toBeNull();
    }
  });

  it("sends a refused invitation again and shows the meeting the core answers", async () => {
    const failed = meeting(4, pending, { invitation: invitation("failed", "Salesforce refused the email.") });
    const core = fakeCore({
      list_meetings: () => [failed],
      resend_invitation: () => ({ ...failed, invitation: invitation("sending") }),
    });
    const [entry] = await meetingsView(core);
    await fireEvent.click(within(entry).getByTestId("meeting-invitation-resend"));
    await vi.waitFor(() => expect(within(entry).getByTestId("meeting-invitation")).toHaveAttribute("data-state", "sending"));
    expect(core.callsTo("resend_invitation")).toEqual([{ id: 4 }]);
    expect(within(entry).queryByTestId("meeting-invitation-resend"), "an invitation on its way is not offered again").toBeNull();
  });

  it("shows the core's refusal of Send again beside the invitation, which stays as it was", async () => {
    const failed = meeting(4, pending, { invitation: invitation("failed", "Salesforce refused the email.") });
    const core = fakeCore({
      list_meetings: () => [failed],
      resend_invitation: refuse("signedOut", "Salesforce is not signed in: sign in again from Settings → Salesforce."),
    });
    const [entry] = await meetingsView(core);
    await fireEvent.click(within(entry).getByTestId("meeting-invitation-resend"));
    expect(await within(entry).findByTestId("meeting-invitation-error")).toHaveTextContent("sign in again from Settings → Salesforce");
    expect(within(entry).getByTestId("meeting-invitation")).toHaveAttribute("data-state", "failed");
    expect(within(entry).getByTestId("meeting-invitation-resend")).toBeEnabled();

    // The next attempt starts without the old refusal.
    core.handle("resend_invitation", () => ({ ...failed, invitation: invitation("sent") }));
    await fireEvent.click(within(entry).getByTestId("meeting-invitation-resend"));
    await vi.waitFor(() => expect(within(entry).getByTestId("meeting-invitation")).toHaveAttribute("data-state", "sent"));
    expect(within(entry).queryByTestId("meeting-invitation-error")).toBeNull();
  });

  it("asks before sending a maybe-sent invitation again, since it may arrive twice", async () => {
    const unsure = meeting(3, pending, { invitation: invitation("unsure", "the answer was lost") });
    const core = fakeCore({
      list_meetings: () => [unsure],
      resend_invitation: () => ({ ...unsure, invitation: invitation("sent") }),
    });
    const [entry] = await meetingsView(core);

    await fireEvent.click(within(entry).getByTestId("meeting-invitation-resend"));
    expect(within(entry).getByTestId("meeting-invitation-twice")).toHaveTextContent("arrive twice");
    expect(core.callsTo("resend_invitation"), "nothing is sent before the rep confirms").toHaveLength(0);
    await fireEvent.click(within(entry).getByTestId("meeting-invitation-resend-cancel"));
    expect(within(entry).queryByTestId("meeting-invitation-twice")).toBeNull();
    expect(core.callsTo("resend_invitation"), "Cancel sends nothing").toHaveLength(0);

    await fireEvent.click(within(entry).getByTestId("meeting-invitation-resend"));
    await fireEvent.click(within(entry).getByTestId("meeting-invitation-resend-confirm"));
    await vi.waitFor(() => expect(within(entry).getByTestId("meeting-invitation")).toHaveAttribute("data-state", "sent"));
    expect(core.callsTo("resend_invitation")).toEqual([{ id: 3 }]);
    expect(within(entry).getByTestId("meeting-invitation")).toHaveTextContent("Invitation emailed to camille@dupont.example");
  });

  it("follows a row's invitation through meetingChanged", async () => {
    const waiting = meeting(6, pending, { invitation: invitation("pending") });
    const core = fakeCore({ list_meetings: () => [waiting] });
    const [entry] = await meetingsView(core);
    expect(within(entry).getByTestId("meeting-invitation")).toHaveAttribute("data-state", "pending");
    await emitCoreEvent({ type: "meetingChanged", meeting: { ...waiting, invitation: invitation("failed", "Salesforce refused the email.") } });
    await vi.waitFor(() => expect(within(entry).getByTestId("meeting-invitation")).toHaveAttribute("data-state", "failed"));
    expect(within(entry).getByTestId("meeting-invitation")).toHaveTextContent("Invitation not sent: Salesforce refused the email.");
    expect(within(entry).getByTestId("meeting-invitation-resend")).toBeInTheDocument();
  });

  it("shows the started meeting's invitation on the pop, follows it, and sends it again from there", async () => {
    const started = meeting(9, pending, {
      invitees: ["camille@dupont.example"],
      invitation: invitation("pending", "Salesforce is not signed in."),
    });
    const core = fakeCore({
      new_meeting_request: () => request,
      start_meeting: () => ({ meeting: started, openUrl: started.joinUrl, openProblem: null }),
      resend_invitation: () => ({ ...started, invitation: invitation("sending") }),
    });
    await renderApp(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    await fireEvent.click(await screen.findByTestId("pop-meet"));
    const strip = await screen.findByTestId("pop-meeting");
    const shown = () => within(strip).getByTestId("meeting-invitation");
    await vi.waitFor(() => expect(shown()).toHaveAttribute("data-state", "pending"));
    expect(shown()).toHaveTextContent("Invitation waiting to be sent: Salesforce is not signed in.");

    await emitCoreEvent({ type: "meetingChanged", meeting: { ...started, invitation: invitation("failed", "Salesforce refused the email.") } });
    await vi.waitFor(() => expect(shown()).toHaveAttribute("data-state", "failed"));
    await fireEvent.click(within(strip).getByTestId("meeting-invitation-resend"));
    await vi.waitFor(() => expect(shown()).toHaveAttribute("data-state", "sending"));
    expect(core.callsTo("resend_invitation")).toEqual([{ id: 9 }]);

    await emitCoreEvent({ type: "meetingChanged", meeting: { ...started, invitation: invitation("sent") } });
    await vi.waitFor(() => expect(shown()).toHaveTextContent("Invitation emailed to camille@dupont.example"));
  });
});
