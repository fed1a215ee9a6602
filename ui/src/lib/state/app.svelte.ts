// The UI's single source of state: what the core told us (status, devices,
// notices, dial requests, Salesforce, caller matches, calls, the layout in force,
// whether this user may publish layouts) and where the rep is (current view). Views
// read it and call its intents; it applies core answers and `CoreEvent`s in one
// place, so no view ever sees a half-updated state. It holds no rules of the product.
import { getContext, setContext, untrack } from "svelte";
import type {
  AppStatus,
  AudioCheck,
  AudioDevices,
  AudioRole,
  CallType,
  CallerMatch,
  CoreEvent,
  DialTarget,
  MatchedRecord,
  Notice,
  SalesforceStatus,
  SettingChange,
} from "../bindings";
import { core, errorMessage, type Unsubscribe } from "../core";
import { setLanguage } from "../i18n/index.svelte";
import { Dialer } from "./dialer.svelte";
import { CallerPop } from "./pop.svelte";
import { History } from "./history.svelte";
import { Meetings } from "./meetings.svelte";
import { Reports } from "./reports.svelte";
import { Calls, isEnded, matchIsFor } from "./calls.svelte";
import { LayoutState } from "./layout.svelte";
import { LayoutAdmin } from "./admin.svelte";

/** `admin` is offered only to users who may publish layouts (`admin.allowed`). */
export const views = ["phone", "meetings", "history", "reports", "settings", "admin"] as const;
export type View = (typeof views)[number];

export type ShownNotice = Notice & { id: number };

export type LinkRejection = { link: string; reason: string };

const noticeKey = (notice: Notice) => `${notice.code}\u0000${notice.message}`;

export class AppState {
  view = $state<View>("phone");
  status = $state<AppStatus | null>(null);
  /** Set when the core could not be reached at start; shown instead of silently empty views. */
  startupError = $state<string | null>(null);
  notices = $state<ShownNotice[]>([]);
  devices = $state<AudioDevices | null>(null);
  /** "Test my audio": where it is, while it runs (and its result after). */
  audioCheck = $state<AudioCheck | null>(null);
  linkRejection = $state<LinkRejection | null>(null);
  /** Null until the core answered `salesforceStatus` (or sent `salesforceChanged`). */
  salesforce = $state<SalesforceStatus | null>(null);
  readonly dialer = new Dialer();
  readonly pop = new CallerPop();
  readonly history = new History();
  readonly meetings = new Meetings();
  readonly reports = new Reports();
  readonly calls = new Calls();
  readonly layout = new LayoutState();
  readonly admin = new LayoutAdmin();

  #nextNoticeId = 1;
  // Bumped by every `salesforceChanged`: a status read that started before one is stale.
  #salesforceVersion = 0;
  // Bumped by every `registrationChanged`: a command's answer older than one is stale.
  #registrationVersion = 0;
  // Who is signed in to Salesforce as last seen ("" for nobody): the Admin page is
  // asked for again only when it changes, not on every API usage update.
  #salesforceIdentity: string | null = null;
  // Notices the rep dismissed; a status listing them again does not bring them
  // back, a fresh `notice` event (a new occurrence) does.
  #dismissed = new Set<string>();
  #unsubscribe: Unsubscribe | undefined;
  #stopped = false;

  /**
   * Listens first, then reads the status and the pending link, so a link that
   * arrives during start-up is either pending or an event — never lost.
   */
  async start(): Promise<void> {
    let layout: Promise<unknown> = Promise.resolve();
    try {
      const unsubscribe = await core.onEvent((event) => this.apply(event));
      if (this.#stopped) unsubscribe();
      else this.#unsubscribe = unsubscribe;

      // The layout in force; a layout event that arrives meanwhile is newer and wins.
      layout = this.layout.load().catch(() => undefined);
      const status = await core.appStatus();
      this.#applyStatus(status);
      // Only the first status seeds the calls: later ones (a setting's answer) may be
      // older than the call events received since.
      this.calls.seed(status);
      const pending = await core.takePendingDial();
      if (pending) this.#requestDial(pending);
    } catch (error) {
      this.startupError = errorMessage(error);
      return;
    }
    // For the History badge; History reads it again when opened.
    this.history.summary = await core.outboxSummary().catch(() => null);
    // Only for the header chip; Settings reads it again and shows a failure there.
    await this.refreshSalesforce().catch(() => undefined);
    await layout;
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.dialer.dispose();
    this.history.dispose();
    this.calls.dispose();
    this.admin.dispose();
  }

  apply(event: CoreEvent): void {
    switch (event.type) {
      case "settingsChanged":
        if (this.status) this.status.settings = event.settings;
        setLanguage(event.language);
        break;
      case "devicesChanged":
        this.devices = event.devices;
        break;
      case "notice":
        this.#dismissed.delete(noticeKey(event.notice));
        this.#addNotices([event.notice]);
        break;
      case "dialRequested":
        this.#requestDial(event.target);
        break;
      case "linkRejected":
        this.view = "phone";
        this.linkRejection = { link: event.link, reason: event.reason };
        break;
      case "callerMatched":
        this.pop.apply(event.callerMatch);
        break;
      case "salesforceChanged":
        this.#salesforceVersion++;
        this.#setSalesforce(event.status);
        break;
      case "callLogSaved":
        this.history.applySaved(event.entry);
        break;
      case "outboxChanged":
        this.history.applySummary(event.summary);
        break;
      case "registrationChanged":
        this.#registrationVersion++;
        if (this.status) this.status.registration = event.state;
        break;
      case "callChanged":
        this.calls.applyCall(event.call);
        break;
      case "transferChanged":
        this.calls.applyTransfer(event.id, event.progress);
        break;
      case "callProblem":
        this.calls.applyProblem(event.id, event.message);
        break;
      case "doNotDisturbChanged":
        this.calls.applyDoNotDisturb(event.on);
        break;
      case "voicemailChanged":
        if (this.status) this.status.voicemail = event.voicemail;
        break;
      case "audioCheckChanged":
        this.audioCheck = event.check;
        break;
      case "meetingChanged":
        this.meetings.applyEvent(event.meeting);
        break;
      case "layoutApplied":
        this.layout.apply(event.status);
        // A refusal notice is stale once nothing is refused any more.
        if (!event.status.refused) this.notices = this.notices.filter((n) => n.code !== "layoutRefused");
        // The call-log form's fields, choices and rules follow the layout: an open form
        // asks again (a form opened later asks anyway).
        void this.history.editor?.loadSpec();
        break;
      case "layoutRefused":
        this.layout.apply(event.status);
        break;
    }
  }

  /**
   * The ringing call the pop is about, if any: its incoming card shows the pop
   * (and the Phone view does not, so there is only one).
   */
  get popCallId(): number | null {
    const match = this.pop.match;
    if (!match) return null;
    const call = this.calls.incoming.find((e) => !isEnded(e.call) && matchIsFor(match, e.call));
    return call?.call.id ?? null;
  }

  /**
   * The layout shows the pop only once the call is answered (`on: "answer"`) and its
   * caller is still ringing: neither the incoming card nor the Phone view shows it yet.
   */
  get popWaitsForAnswer(): boolean {
    return this.popCallId !== null && this.pop.match?.pop.on === "answer";
  }

  navigate(view: View): void {
    if (view === "admin" && !this.admin.allowed) return;
    this.view = view;
  }

  /** "Log a call" from the pop: History opens with the form for this number and record. */
  async logCall(record: MatchedRecord | null): Promise<void> {
    const match = this.pop.match;
    const number = match?.number?.international ?? match?.dialled ?? this.dialer.input;
    this.view = "history";
    await this.history.openNew(number, record, match ? this.#callTypeOf(match) : undefined);
  }

  /**
   * Does what the layout's pop rules ask for the pop on screen: open the record in
   * Salesforce, open its call-log form. Called by the pop while it shows; each action
   * happens once per number (`CallerPop.takeDue`). A call log the rep is writing is
   * never replaced: "Log a call" on the pop is still there.
   */
  followPopRules(): void {
    const due = this.pop.takeDue();
    untrack(() => {
      if (due.open) void this.pop.openForRules(due.open);
      if (due.log && !this.history.editor?.dirty) void this.logCall(due.log);
    });
  }

  dismissNotice(id: number): void {
    const notice = this.notices.find((n) => n.id === id);
    if (!notice) return;
    this.#dismissed.add(noticeKey(notice));
    this.notices = this.notices.filter((n) => n.id !== id);
  }

  dismissLinkRejection(): void {
    this.linkRejection = null;
  }

  /** Throws `CoreError` when the core refuses the change; the caller shows its message. */
  async changeSetting(change: SettingChange): Promise<void> {
    this.#applyStatus(await core.changeSetting(change));
    // The Salesforce status repeats the login and whether a consumer key is set.
    if (change.key.startsWith("salesforce")) await this.refreshSalesforce().catch(() => undefined);
  }

  /** Saves the password (when one is typed) and connects the phone again. */
  async connectPhone(password: string | null): Promise<void> {
    if (password) await core.setSipPassword(password);
    const version = this.#registrationVersion;
    const state = await core.startPhone();
    // The registration may have moved on (an event) before this answer arrived.
    if (this.status && version === this.#registrationVersion) this.status.registration = state;
  }

  async refreshDevices(): Promise<void> {
    this.devices = await core.listAudioDevices();
  }

  async testAudio(seconds: number): Promise<void> {
    this.audioCheck = { phase: "recording", level: 0, peak: 0 };
    try {
      this.audioCheck = await core.testAudio(seconds);
    } catch (e) {
      this.audioCheck = null;
      throw e;
    }
  }

  async selectAudioDevice(role: AudioRole, deviceId: string | null): Promise<void> {
    this.devices = await core.selectAudioDevice(role, deviceId);
  }

  async refreshSalesforce(): Promise<void> {
    const version = this.#salesforceVersion;
    const status = await core.salesforceStatus();
    if (version === this.#salesforceVersion) this.#setSalesforce(status);
  }

  /**
   * Waits for the rep to finish in the browser (possibly minutes). The core also
   * sends `salesforceChanged`; reading the status here keeps the page right without it.
   */
  async signInToSalesforce(): Promise<void> {
    try {
      await core.salesforceSignIn();
    } finally {
      await this.refreshSalesforce().catch(() => undefined);
    }
  }

  async signOutOfSalesforce(): Promise<void> {
    try {
      await core.salesforceSignOut();
    } finally {
      await this.refreshSalesforce().catch(() => undefined);
    }
  }

  #setSalesforce(status: SalesforceStatus): void {
    this.salesforce = status;
    const connection = status.connection;
    const identity = connection ? `${connection.orgId}/${connection.userId}` : "";
    if (identity === this.#salesforceIdentity) return;
    this.#salesforceIdentity = identity;
    void this.#checkAdmin();
  }

  /** Whether the Admin page is offered; leaves it when it no longer is. */
  async #checkAdmin(): Promise<void> {
    const allowed = await this.admin.checkAllowed();
    if (!allowed && this.view === "admin") this.view = "phone";
  }

  /**
   * The call type a log opened from the pop is for: the call with this number when
   * there is one (rang here: inbound), else outbound (a look-up before calling).
   */
  #callTypeOf(match: CallerMatch): CallType {
    if (match.internal) return "internal";
    const call = this.calls.entries.find((e) => matchIsFor(match, e.call));
    return call?.call.direction === "incoming" ? "inbound" : "outbound";
  }

  #applyStatus(status: AppStatus): void {
    this.status = status;
    setLanguage(status.language);
    this.#addNotices(status.notices);
  }

  #addNotices(incoming: readonly Notice[]): void {
    const shown = new Set(this.notices.map(noticeKey));
    for (const notice of incoming) {
      const key = noticeKey(notice);
      if (shown.has(key) || this.#dismissed.has(key)) continue;
      shown.add(key);
      this.notices.push({ ...notice, id: this.#nextNoticeId++ });
    }
  }

  #requestDial(target: DialTarget): void {
    this.view = "phone";
    this.linkRejection = null;
    this.dialer.fill(target);
  }
}

const contextKey = Symbol("ringside.app-state");

export function provideAppState(state: AppState): AppState {
  return setContext(contextKey, state);
}

export function useAppState(): AppState {
  const state = getContext<AppState | undefined>(contextKey);
  if (!state) throw new Error("useAppState() needs an AppState provided by an ancestor (App.svelte or a test)");
  return state;
}

/** For tests that render a single view: `render(View, { context: appStateContext(state) })`. */
export function appStateContext(state: AppState): Map<symbol, AppState> {
  return new Map([[contextKey, state]]);
}
