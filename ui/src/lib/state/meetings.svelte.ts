// Meetings as the core reports them: the list for the Meetings view (a window of
// days around today) and the meeting just started from the pop. `meetingChanged`
// events replace an entry in place (its Event queued, recorded or refused, its
// invitation email sent or not). The providers (set up, connected) are the core's
// too; the provider the rep last picked for a new meeting is kept here while the
// app runs. The rules (defaults, checks, who and what, when an invitation may be
// sent again) are all the core's.
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import type {
  MatchedRecord,
  MeetingEntry,
  MeetingSyncReport,
  Provider,
  ProviderStatus,
  StartedMeeting,
} from "../bindings";
import { core, errorMessage } from "../core";
import { HeldLookup } from "./held.svelte";

/** Days before and after today the Meetings view lists. */
export const WINDOW_DAYS = 30;

export class Meetings {
  list = $state<MeetingEntry[]>([]);
  loading = $state(false);
  error = $state<string | null>(null);
  /** The meeting the rep just started, shown under the record it was started from. */
  started = $state<StartedMeeting | null>(null);
  starting = $state(false);
  startError = $state<string | null>(null);
  /** The providers as the core last described them; null until it answered. */
  providers = $state<ProviderStatus[] | null>(null);
  providersError = $state<string | null>(null);
  /** The provider the rep last picked for a new meeting. */
  provider = $state<Provider>("jitsi");
  /** "Sync now": waiting for the providers, then what the pass found. */
  syncing = $state(false);
  syncReport = $state<MeetingSyncReport | null>(null);
  /** "Held elsewhere": meetings held at Zoom or Webex, to record afterwards. */
  readonly held: HeldLookup = new HeldLookup(this);

  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      const now = Math.floor(Date.now() / 1000);
      const span = WINDOW_DAYS * 86_400;
      this.list = await core.listMeetings(now - span, now + span);
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.loading = false;
    }
  }

  // The latest state each meeting's events told: an event can overtake the answer of
  // the command that made the meeting (its Event recorded before the answer arrives).
  #fromEvents = new Map<number, { seq: number; meeting: MeetingEntry }>();
  #seq = 0;

  /** A `meetingChanged` event. */
  applyEvent(meeting: MeetingEntry): void {
    this.#fromEvents.set(meeting.id, { seq: ++this.#seq, meeting });
    this.applyChanged(meeting);
  }

  /** `answer` unless an event about it arrived after `since` (then that event's state). */
  #newest(answer: MeetingEntry, since: number): MeetingEntry {
    const seen = this.#fromEvents.get(answer.id);
    return seen && seen.seq > since ? seen.meeting : answer;
  }

  /** The answer of `startMeeting`: shown under its record, at its newest known state. */
  applyStarted(started: StartedMeeting): void {
    // Every event about a new meeting is at least as new as the answer that made it.
    const meeting = this.#newest(started.meeting, 0);
    this.started = { ...started, meeting };
    this.applyChanged(meeting);
  }

  applyChanged(meeting: MeetingEntry): void {
    const at = this.list.findIndex((m) => m.id === meeting.id);
    if (at >= 0) this.list[at] = meeting;
    else this.list = [meeting, ...this.list].sort((a, b) => b.startAt - a.startAt || b.id - a.id);
    if (this.started?.meeting.id === meeting.id) this.started = { ...this.started, meeting };
  }

  // Bumped by every read of the providers: an answer older than the last one is dropped.
  #providersVersion = 0;

  async loadProviders(): Promise<void> {
    const version = ++this.#providersVersion;
    try {
      const providers = await core.meetingProviders();
      if (version !== this.#providersVersion) return;
      this.providers = providers;
      this.providersError = null;
    } catch (e) {
      if (version === this.#providersVersion) this.providersError = errorMessage(e);
    }
  }

  /** Whether a meeting can be made with `provider` now: it needs no account, or its account is connected. */
  usable(provider: Provider): boolean {
    const status = this.providers?.find((p) => p.provider === provider);
    if (!status) return provider === "jitsi";
    return !status.needsAccount || status.connected;
  }

  /** The provider a new meeting is made with: the rep's pick while it can be used, else Jitsi. */
  get chosenProvider(): Provider {
    return this.usable(this.provider) ? this.provider : "jitsi";
  }

  /**
   * Opens the provider's sign-in page and waits for the rep to finish there (possibly
   * minutes). Throws `CoreError`; the providers are read again either way.
   */
  async connect(provider: Provider): Promise<void> {
    try {
      await core.connectMeetings(provider);
    } finally {
      await this.loadProviders();
    }
  }

  async disconnect(provider: Provider): Promise<void> {
    try {
      await core.disconnectMeetings(provider);
    } finally {
      await this.loadProviders();
    }
  }

  /** "Sync now": the providers are asked how meetings went, then the list is read again. */
  async sync(): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    this.syncReport = null;
    this.error = null;
    try {
      this.syncReport = await core.syncMeetings();
      await this.load();
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.syncing = false;
    }
  }

  /** "Start meeting" on a record: an instant meeting with the chosen provider, opened in the browser by the core. */
  async startWith(record: MatchedRecord | null): Promise<void> {
    this.starting = true;
    this.startError = null;
    try {
      const request = await core.newMeetingRequest(record);
      this.applyStarted(await core.startMeeting({ ...request, provider: this.chosenProvider }));
    } catch (e) {
      this.startError = errorMessage(e);
    } finally {
      this.starting = false;
    }
  }

  async open(id: number): Promise<void> {
    try {
      await core.openMeeting(id);
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  async retry(id: number): Promise<void> {
    try {
      const since = this.#seq;
      this.applyChanged(this.#newest(await core.retryMeetingEvent(id), since));
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  /** Where the last invitation was written, by meeting. */
  savedInvitation = $state<{ id: number; path: string } | null>(null);

  async saveInvitation(id: number): Promise<void> {
    try {
      this.savedInvitation = { id, path: await core.saveMeetingInvitation(id) };
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  /** Meetings whose "Send again" is waiting for the core's answer. */
  resending = new SvelteSet<number>();
  /** Why the last "Send again" failed, by meeting; cleared by the next attempt. */
  resendErrors = new SvelteMap<number, string>();

  /** "Send again" on a failed or unsure invitation; the answer replaces the meeting. */
  async resendInvitation(id: number): Promise<void> {
    if (this.resending.has(id)) return;
    this.resending.add(id);
    this.resendErrors.delete(id);
    try {
      const since = this.#seq;
      this.applyChanged(this.#newest(await core.resendInvitation(id), since));
    } catch (e) {
      this.resendErrors.set(id, errorMessage(e));
    } finally {
      this.resending.delete(id);
    }
  }

  /** A new pop: what was started from the previous one is not shown under it. */
  clearStarted(): void {
    this.started = null;
    this.startError = null;
  }
}
