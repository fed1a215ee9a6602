import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import App from "../src/App.svelte";
import type { HeldChoice, HeldEntry, HeldListing, HeldMeeting, MeetingEntry, RecordRef } from "../src/lib/bindings";
import { fakeCore, providers, refuse, type FakeCore } from "./fake-core";

async function renderApp(core: FakeCore) {
  render(App);
  await vi.waitFor(() => expect(core.callsTo("take_pending_dial")).toHaveLength(1));
  await screen.findByTestId("view-title");
}

/** Opens Meetings → Held elsewhere. */
async function openHeld(core: FakeCore) {
  await renderApp(core);
  await fireEvent.click(screen.getByTestId("nav-meetings"));
  await fireEvent.click(await screen.findByTestId("meetings-tab-held"));
  expect(screen.getByTestId("meetings-tab-held")).toHaveAttribute("aria-selected", "true");
  return screen.findByTestId("held-elsewhere");
}

const camille: RecordRef = { object: "Contact", id: "003000000000001AAA", name: "Camille Martin" };
const leadAna: RecordRef = { object: "Lead", id: "00Q000000000001AAA", name: "Ana Souza" };
const contactAna: RecordRef = { object: "Contact", id: "003000000000002AAA", name: "Ana Souza" };

function heldMeeting(meetingId: string, topic: string, overrides: Partial<HeldMeeting> = {}): HeldMeeting {
  return {
    provider: "zoom",
    meetingId,
    number: "85012345678",
    topic,
    startAt: Math.floor(new Date(2027, 2, 3, 10, 0).getTime() / 1000),
    minutes: 42,
    joinUrl: "https://acme.zoom.us/j/85012345678",
    host: "rep@acme.example",
    ...overrides,
  };
}

const proposed: HeldEntry = {
  meeting: heldMeeting("uuid-demo==", "Product demo"),
  recorded: null,
  people: [
    { attendee: { name: "Jeanne Rep", email: "rep@acme.example" }, isHost: true, records: [], by: null },
    { attendee: { name: "Camille Martin", email: "camille@dupont.example" }, isHost: false, records: [camille], by: "email" },
    { attendee: { name: "Guest", email: "guest@elsewhere.example" }, isHost: false, records: [], by: null },
  ],
  proposed: camille,
};

const alreadyStored: HeldEntry = {
  meeting: heldMeeting("uuid-kickoff==", "Kick-off"),
  recorded: 12,
  people: [],
  proposed: null,
};

const twoAnas: HeldEntry = {
  meeting: heldMeeting("uuid/review", "Quarterly review"),
  recorded: null,
  people: [{ attendee: { name: "Ana Souza", email: null }, isHost: false, records: [leadAna, contactAna], by: "name" }],
  proposed: null,
};

const listing = (overrides: Partial<HeldListing> = {}): HeldListing => ({
  meetings: [proposed, alreadyStored, twoAnas],
  salesforceQueries: 2,
  matchProblem: null,
  ...overrides,
});

function stored(id: number, meeting: HeldMeeting, who: RecordRef | null): MeetingEntry {
  return {
    id,
    provider: meeting.provider,
    meetingId: meeting.meetingId,
    topic: meeting.topic,
    agenda: "",
    joinUrl: meeting.joinUrl,
    passcode: null,
    startAt: meeting.startAt,
    durationMins: meeting.minutes,
    timeZone: "Europe/Paris",
    instant: false,
    invitees: [],
    who,
    what: null,
    event: { state: "pending", reason: null, nextAttemptAt: null },
    number: meeting.number,
    status: "ended",
    held: null,
    checkProblem: null,
    imported: true,
  };
}

const midnight = (y: number, m: number, d: number) => Math.floor(new Date(y, m - 1, d).getTime() / 1000);

describe("Meetings held elsewhere", () => {
  it("says where to connect an account when none is, and takes the rep there", async () => {
    const core = fakeCore();
    const panel = await openHeld(core);
    expect(within(panel).getByTestId("held-connect-hint")).toHaveTextContent("Connect your Zoom or Webex account in Settings → Meetings");
    expect(within(panel).queryByTestId("held-lookup")).toBeNull();
    await fireEvent.click(within(panel).getByTestId("held-open-settings"));
    expect(await screen.findByTestId("meetings-section")).toBeInTheDocument();
  });

  it("looks up a range of whole days, shows how attendees matched, and records the picked ones as Events", async () => {
    const core = fakeCore({
      meeting_providers: () => providers({ zoom: { configured: true, connected: true }, webex: { configured: true } }),
      held_meetings: () => listing(),
      record_held_meetings: ({ choices }) =>
        (choices as HeldChoice[]).map((c, i) => stored(30 + i, c.meeting, c.who)),
    });
    const panel = await openHeld(core);

    const provider = await within(panel).findByTestId("held-provider");
    expect(within(provider).getAllByRole("option").map((o) => o.textContent?.trim()), "connected accounts only").toEqual(["Zoom"]);
    // The last 7 days, today included, until the rep picks others.
    const today = new Date();
    const weekAgo = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 6);
    const day = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    expect(within(panel).getByTestId("held-from")).toHaveValue(day(weekAgo));
    expect(within(panel).getByTestId("held-to")).toHaveValue(day(today));

    await fireEvent.input(within(panel).getByTestId("held-from"), { target: { value: "2027-03-01" } });
    await fireEvent.input(within(panel).getByTestId("held-to"), { target: { value: "2027-03-07" } });
    await fireEvent.click(within(panel).getByTestId("held-lookup"));

    const entries = await within(panel).findAllByTestId("held-entry");
    expect(core.callsTo("held_meetings")).toEqual([{ provider: "zoom", from: midnight(2027, 3, 1), to: midnight(2027, 3, 8) }]);
    expect(entries).toHaveLength(3);
    const [demo, kickoff, review] = entries;

    // Proposed and not stored: picked, its person the core's proposal.
    expect(within(demo).getByTestId("held-topic")).toHaveTextContent("Product demo");
    expect(demo).toHaveTextContent("42 min");
    expect(within(demo).getByTestId("held-host")).toHaveTextContent("Host: rep@acme.example");
    expect(within(demo).getByRole("checkbox", { name: "Product demo" })).toBeChecked();
    expect(within(demo).getByTestId("held-who")).toHaveValue(camille.id);
    const attendees = within(demo).getAllByTestId("held-attendee");
    expect(attendees.map((a) => a.getAttribute("data-match"))).toEqual(["host", "email", "none"]);
    expect(attendees.map((a) => a.querySelector(".match")?.textContent)).toEqual(["host", "by email", "not in Salesforce"]);
    expect(attendees[1]).toHaveTextContent("Camille Martin");

    // Already stored: marked, nothing to pick.
    expect(within(kickoff).getByTestId("held-recorded")).toHaveTextContent("Recorded");
    expect(within(kickoff).queryByTestId("held-pick")).toBeNull();
    expect(within(kickoff).queryByTestId("held-who")).toBeNull();

    // Nobody proposed (two Ana Souza): not picked until the rep chooses.
    expect(within(review).getByTestId("held-pick")).not.toBeChecked();
    expect(within(review).getByTestId("held-attendee")).toHaveAttribute("data-match", "name");
    const who = within(review).getByTestId("held-who");
    expect(who).toHaveValue("");
    expect(within(who).getAllByRole("option").map((o) => o.textContent?.trim())).toEqual([
      "Ana Souza (Lead)",
      "Ana Souza (Contact)",
      "Nobody",
    ]);

    expect(within(panel).getByTestId("held-record")).toHaveTextContent("Record 1 as Events");
    await fireEvent.change(who, { target: { value: contactAna.id } });
    await fireEvent.click(within(review).getByTestId("held-pick"));
    const record = within(panel).getByTestId("held-record");
    expect(record).toHaveTextContent("Record 2 as Events");

    const listed = core.callsTo("list_meetings").length;
    core.handle("list_meetings", () => [stored(31, twoAnas.meeting, contactAna), stored(30, proposed.meeting, camille)]);
    await fireEvent.click(record);

    await vi.waitFor(() => expect(core.callsTo("record_held_meetings")).toHaveLength(1));
    expect(core.callsTo("record_held_meetings")[0]).toEqual({
      choices: [
        { meeting: proposed.meeting, who: camille },
        { meeting: twoAnas.meeting, who: contactAna },
      ],
    });
    expect(await within(panel).findByTestId("held-recorded-message")).toHaveTextContent("Recorded: 2.");
    await vi.waitFor(() => expect(within(panel).getAllByTestId("held-recorded")).toHaveLength(3));
    expect(within(panel).queryAllByTestId("held-pick"), "nothing left to record").toHaveLength(0);
    expect(within(panel).getByTestId("held-record")).toBeDisabled();
    await vi.waitFor(() => expect(core.callsTo("list_meetings").length).toBe(listed + 1));

    // The Meetings list now has them, marked as recorded afterwards.
    await fireEvent.click(screen.getByTestId("meetings-tab-ringside"));
    const rows = await screen.findAllByTestId("meeting-entry");
    expect(rows.map((r) => within(r).getByTestId("meeting-topic").textContent)).toEqual(["Quarterly review", "Product demo"]);
    expect(within(rows[0]).getByTestId("meeting-imported")).toHaveTextContent("Recorded afterwards");
  });

  it("shows why attendees could not be matched, and a refusal of the range", async () => {
    const core = fakeCore({
      meeting_providers: () => providers({ webex: { configured: true, connected: true } }),
      held_meetings: () =>
        listing({
          meetings: [{ ...twoAnas, people: [{ ...twoAnas.people[0], records: [], by: null }] }],
          salesforceQueries: 0,
          matchProblem: "Salesforce could not be asked (offline): the meetings are listed unmatched.",
        }),
    });
    const panel = await openHeld(core);
    expect(await within(panel).findByTestId("held-provider")).toHaveValue("webex");
    await fireEvent.click(within(panel).getByTestId("held-lookup"));

    expect(await within(panel).findByTestId("held-match-problem")).toHaveTextContent("listed unmatched");
    expect(within(panel).getByTestId("held-match-problem")).toHaveClass("banner-warning");
    expect(within(panel).getByTestId("held-attendee")).toHaveAttribute("data-match", "none");
    expect(within(panel).getByTestId("held-no-person")).toBeInTheDocument();
    expect(core.callsTo("held_meetings")[0]).toMatchObject({ provider: "webex" });

    core.handle(
      "held_meetings",
      refuse("invalidInput", "Webex lists more than 2,700 meetings in this range: pick a narrower range."),
    );
    await fireEvent.click(within(panel).getByTestId("held-lookup"));
    const error = await within(panel).findByTestId("held-error");
    expect(error).toHaveTextContent("more than 2,700 meetings");
    expect(error).toHaveAttribute("role", "alert");
    expect(within(panel).queryAllByTestId("held-entry")).toHaveLength(0);
  });

  it("keeps the picks when recording fails, and says why", async () => {
    const core = fakeCore({
      meeting_providers: () => providers({ zoom: { configured: true, connected: true } }),
      held_meetings: () => listing({ meetings: [proposed] }),
      record_held_meetings: refuse("storage", "The meetings could not be stored: the disk is full."),
    });
    const panel = await openHeld(core);
    await fireEvent.click(await within(panel).findByTestId("held-lookup"));
    await within(panel).findByTestId("held-entry");
    await fireEvent.click(within(panel).getByTestId("held-record"));
    expect(await within(panel).findByTestId("held-record-error")).toHaveTextContent("the disk is full");
    expect(within(panel).getByTestId("held-pick")).toBeChecked();
    expect(within(panel).getByTestId("held-record")).toBeEnabled();
  });
});

describe("Sync now on the Meetings view", () => {
  it("asks the providers how meetings went, says what it found and reads the list again", async () => {
    const core = fakeCore({
      sync_meetings: () => ({ checked: 5, changed: 2, failed: 1, stopped: "Zoom's daily limit is reached: next try after midnight UTC." }),
    });
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-meetings"));
    await vi.waitFor(() => expect(core.callsTo("list_meetings")).toHaveLength(1));
    await fireEvent.click(screen.getByTestId("meetings-sync"));
    const result = await screen.findByTestId("meetings-sync-result");
    expect(result).toHaveTextContent("Checked 5 meeting(s) with their providers; 2 with news.");
    expect(result).toHaveTextContent("1 could not be checked.");
    expect(result).toHaveTextContent("Stopped early: Zoom's daily limit is reached");
    expect(core.callsTo("sync_meetings")).toEqual([{}]);
    await vi.waitFor(() => expect(core.callsTo("list_meetings")).toHaveLength(2));
    await vi.waitFor(() => expect(screen.getByTestId("meetings-sync")).toBeEnabled());

    core.handle("sync_meetings", refuse("signedOut", "Zoom is not connected: connect it again in Settings → Meetings."));
    await fireEvent.click(screen.getByTestId("meetings-sync"));
    expect(await screen.findByTestId("meetings-error")).toHaveTextContent("connect it again");
  });
});
