// "Held elsewhere": meetings the rep held at Zoom or Webex without Ringside, listed
// for a range of whole days with their attendees matched to Contacts and Leads, and
// the ones the rep picks recorded with their Salesforce Events. Which meetings are
// listed, how attendees are matched, the person proposed and what recording stores
// are all the core's; this holds the rep's picks until they are sent.
import type { HeldEntry, HeldListing, HeldMeeting, Provider, RecordRef } from "../bindings";
import { core, errorMessage } from "../core";
import { dayRange, localDay } from "../dates";
import type { Meetings } from "./meetings.svelte";

/** Days, today included, the look-up covers until the rep picks others. */
export const HELD_DAYS = 7;

/** What the rep decided for one listed meeting. */
export type HeldPick = { checked: boolean; who: RecordRef | null };

const keyOf = (meeting: Pick<HeldMeeting, "provider" | "meetingId">) => `${meeting.provider}\u0000${meeting.meetingId}`;

export class HeldLookup {
  /** The provider the rep picked; `chosen` is the one in force. */
  provider = $state<Provider | null>(null);
  fromDate = $state(localDay(-(HELD_DAYS - 1)));
  toDate = $state(localDay(0));
  looking = $state(false);
  error = $state<string | null>(null);
  listing = $state<HeldListing | null>(null);
  /** By meeting (provider and id). */
  picks = $state<Record<string, HeldPick>>({});
  recording = $state(false);
  recordError = $state<string | null>(null);
  /** How many meetings the last "Record" stored. */
  recordedCount = $state<number | null>(null);

  readonly #meetings: Meetings;

  constructor(meetings: Meetings) {
    this.#meetings = meetings;
  }

  /** The providers meetings held elsewhere can be listed from: those with a connected account. */
  get choices(): Provider[] {
    return (this.#meetings.providers ?? []).filter((p) => p.needsAccount && p.connected).map((p) => p.provider);
  }

  /** The rep's pick while it is connected, else the first connected one; null when none is. */
  get chosen(): Provider | null {
    const choices = this.choices;
    return this.provider !== null && choices.includes(this.provider) ? this.provider : (choices[0] ?? null);
  }

  pick(entry: HeldEntry): HeldPick {
    return this.picks[keyOf(entry.meeting)] ?? { checked: false, who: null };
  }

  setChecked(entry: HeldEntry, checked: boolean): void {
    this.picks[keyOf(entry.meeting)] = { ...this.pick(entry), checked };
  }

  setWho(entry: HeldEntry, who: RecordRef | null): void {
    this.picks[keyOf(entry.meeting)] = { ...this.pick(entry), who };
  }

  /** The listed meetings the rep picked and that are not stored yet. */
  get picked(): HeldEntry[] {
    return (this.listing?.meetings ?? []).filter((e) => e.recorded === null && this.pick(e).checked);
  }

  async lookUp(): Promise<void> {
    const provider = this.chosen;
    const range = dayRange(this.fromDate, this.toDate);
    if (provider === null || range === null || this.looking) return;
    this.looking = true;
    this.error = null;
    this.recordError = null;
    this.recordedCount = null;
    try {
      const listing = await core.heldMeetings(provider, range.from, range.to);
      // Proposed and not stored yet: picked unless the rep says otherwise.
      this.picks = Object.fromEntries(
        listing.meetings.map((e) => [keyOf(e.meeting), { checked: e.recorded === null && e.proposed !== null, who: e.proposed }]),
      );
      this.listing = listing;
    } catch (e) {
      this.listing = null;
      this.error = errorMessage(e);
    } finally {
      this.looking = false;
    }
  }

  /** "Record N as Events": the picked meetings with the person chosen for each. */
  async record(): Promise<void> {
    const entries = this.picked;
    if (entries.length === 0 || this.recording) return;
    this.recording = true;
    this.recordError = null;
    this.recordedCount = null;
    try {
      const stored = await core.recordHeldMeetings(entries.map((e) => ({ meeting: e.meeting, who: this.pick(e).who })));
      const ids = new Map(stored.map((m) => [keyOf(m), m.id]));
      for (const entry of this.listing?.meetings ?? []) {
        const id = ids.get(keyOf(entry.meeting));
        if (id === undefined) continue;
        entry.recorded = id;
        this.setChecked(entry, false);
      }
      this.recordedCount = stored.length;
      for (const meeting of stored) this.#meetings.applyChanged(meeting);
      await this.#meetings.load();
    } catch (e) {
      this.recordError = errorMessage(e);
    } finally {
      this.recording = false;
    }
  }
}
