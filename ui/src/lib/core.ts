// The UI's only door to the Rust core: every command result is unwrapped here,
// so views await plain values and catch one error type, `CoreError`.
// This module never decides anything (no parsing, no validation, no fallback):
// it forwards intents and passes the core's answers and errors through unchanged.
import {
  commands,
  events,
  type AppStatus,
  type AudioCheck,
  type AudioDevices,
  type CallLogInput,
  type CallType,
  type FormSpec,
  type HistoryEntry,
  type HistoryQuery,
  type OutboxSummary,
  type RecordChoice,
  type RegistrationState,
  type RecordRef,
  type SaveOutcome,
  type AudioRole,
  type CallInfo,
  type CallerDetails,
  type CallerMatch,
  type Connection,
  type CoreEvent,
  type DialTarget,
  type ErrorCode,
  type AppError,
  type MatchedRecord,
  type SalesforceStatus,
  type SettingChange,
  type MeetingEntry,
  type MeetingRequest,
  type StartedMeeting,
  type MeetingTime,
  type DiffLine,
  type LayoutCheck,
  type LayoutStatus,
  type MoreInfo,
  type PublishTarget,
  type Published,
  type PulledLayout,
  type RepSetting,
  type Provider,
  type ProviderStatus,
  type MeetingSyncReport,
  type HeldListing,
  type HeldChoice,
  type Report,
  type ReportKind,
} from "./bindings";

/** The objects `createCallerRecord` accepts (the core refuses any other). */
export type CreatableObject = "Lead" | "Contact";

/** A refusal or failure reported by the core, with its stable code and the core's own sentence. */
export class CoreError extends Error implements AppError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "CoreError";
    this.code = code;
  }
}

function isAppError(value: unknown): value is AppError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as AppError).code === "string" &&
    typeof (value as AppError).message === "string"
  );
}

/**
 * Turns anything a command can produce into a value or a `CoreError`.
 * Besides typed `AppError`s, Tauri itself rejects with plain strings (unknown
 * command, denied by capability) and the bindings rethrow JS `Error`s; both
 * become code "internal" so callers handle a single shape.
 */
type Result<T> = { status: "ok"; data: T } | { status: "error"; error: AppError };

export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (thrown) {
    throw toCoreError(thrown);
  }
  if (result.status === "ok") return result.data;
  throw toCoreError(result.error);
}

export function toCoreError(value: unknown): CoreError {
  if (value instanceof CoreError) return value;
  if (isAppError(value)) return new CoreError(value.code, value.message);
  if (value instanceof Error) return new CoreError("internal", (value as Error).message);
  return new CoreError("internal", String(value));
}

/** The message to show for any failure caught around a `core` call. */
export function errorMessage(value: unknown): string {
  return toCoreError(value).message;
}

export type Unsubscribe = () => void;

export const core = {
  appStatus: (): Promise<AppStatus> => unwrap(commands.appStatus()),
  listAudioDevices: (): Promise<AudioDevices> => unwrap(commands.listAudioDevices()),
  selectAudioDevice: (role: AudioRole, deviceId: string | null): Promise<AudioDevices> =>
    unwrap(commands.selectAudioDevice(role, deviceId)),
  /** Records `seconds` from the microphone, then plays them back (levels come as events). */
  testAudio: (seconds: number): Promise<AudioCheck> => unwrap(commands.testAudio(seconds)),
  changeSetting: (change: SettingChange): Promise<AppStatus> => unwrap(commands.changeSetting(change)),
  parseDialInput: (input: string): Promise<DialTarget> => unwrap(commands.parseDialInput(input)),
  takePendingDial: (): Promise<DialTarget | null> => unwrap(commands.takePendingDial()),
  writeDiagnostics: (): Promise<string> => unwrap(commands.writeDiagnostics()),
  salesforceStatus: (): Promise<SalesforceStatus> => unwrap(commands.salesforceStatus()),
  /** Opens the browser and resolves once the rep finished there (this may take minutes). */
  salesforceSignIn: (): Promise<Connection> => unwrap(commands.salesforceSignIn()),
  salesforceSignOut: (): Promise<null> => unwrap(commands.salesforceSignOut()),
  /** The final answer; the local one (if any) and this one also arrive as `callerMatched` events. */
  matchNumber: (number: string): Promise<CallerMatch> => unwrap(commands.matchNumber(number)),
  createCallerRecord: (
    object: CreatableObject,
    e164: string,
    lastName: string,
    company: string | null,
  ): Promise<MatchedRecord> => unwrap(commands.createCallerRecord(object, e164, lastName, company)),
  openRecord: (object: string, id: string): Promise<null> => unwrap(commands.openRecord(object, id)),
  callerDetails: (object: string, id: string, accountId: string | null): Promise<CallerDetails> =>
    unwrap(commands.callerDetails(object, id, accountId)),
  callLogForm: (): Promise<FormSpec> => unwrap(commands.callLogForm()),
  /** A new log as the form opens it: the number, the person the pop shows, now, the layout's defaults. */
  newCallLog: (number: string, callType: CallType, record: MatchedRecord | null): Promise<CallLogInput> =>
    unwrap(commands.newCallLog(number, callType, record)),
  /** `save` queues it for Salesforce when it passes the form's rules; `problems` says what does not. */
  saveCallLog: (id: number | null, input: CallLogInput, save: boolean): Promise<SaveOutcome> =>
    unwrap(commands.saveCallLog(id, input, save)),
  history: (query: HistoryQuery): Promise<HistoryEntry[]> => unwrap(commands.history(query)),
  callLog: (id: number): Promise<HistoryEntry> => unwrap(commands.callLog(id)),
  retryCallLog: (id: number): Promise<HistoryEntry> => unwrap(commands.retryCallLog(id)),
  syncOutbox: (): Promise<OutboxSummary> => unwrap(commands.syncOutbox()),
  outboxSummary: (): Promise<OutboxSummary> => unwrap(commands.outboxSummary()),
  searchPeople: (term: string): Promise<RecordChoice[]> => unwrap(commands.searchPeople(term)),
  searchRelated: (who: RecordRef | null, term: string): Promise<RecordChoice[]> =>
    unwrap(commands.searchRelated(who, term)),

  /** Stores the SIP password in the OS keyring; it never comes back. */
  setSipPassword: (password: string): Promise<null> => unwrap(commands.setSipPassword(password)),
  /** (Re)connects the phone with the SIP settings in force. */
  startPhone: (): Promise<RegistrationState> => unwrap(commands.startPhone()),

  /** Places a call to what the rep typed (a number, extension or SIP address, read by the core). */
  dial: (input: string): Promise<CallInfo> => unwrap(commands.dial(input)),
  /** Answers a ringing call; a call in progress goes on hold. */
  answerCall: (id: number): Promise<null> => unwrap(commands.answerCall(id)),
  /** 603 Decline, or 486 Busy Here with `busy`. */
  declineCall: (id: number, busy: boolean): Promise<null> => unwrap(commands.declineCall(id, busy)),
  /** CANCEL while it rings out, BYE once answered. */
  hangUp: (id: number): Promise<null> => unwrap(commands.hangUp(id)),
  /** Taking a call off hold puts the other talking call on hold. */
  holdCall: (id: number, on: boolean): Promise<null> => unwrap(commands.holdCall(id, on)),
  muteCall: (id: number, on: boolean): Promise<null> => unwrap(commands.muteCall(id, on)),
  sendDtmf: (id: number, digits: string): Promise<null> => unwrap(commands.sendDtmf(id, digits)),
  /** Blind transfer. */
  transferCall: (id: number, target: string): Promise<null> => unwrap(commands.transferCall(id, target)),
  /** Attended transfer: joins the far ends of `id` and `other`. */
  transferToCall: (id: number, other: number): Promise<null> => unwrap(commands.transferToCall(id, other)),
  setDoNotDisturb: (on: boolean): Promise<null> => unwrap(commands.setDoNotDisturb(on)),
  newMeetingRequest: (record: MatchedRecord | null): Promise<MeetingRequest> =>
    unwrap(commands.newMeetingRequest(record)),
  /** Creates the meeting, queues its Event and opens the host's link in the browser. */
  startMeeting: (request: MeetingRequest): Promise<StartedMeeting> => unwrap(commands.startMeeting(request)),
  openMeeting: (id: number): Promise<null> => unwrap(commands.openMeeting(id)),
  listMeetings: (from: number, to: number): Promise<MeetingEntry[]> => unwrap(commands.listMeetings(from, to)),
  retryMeetingEvent: (id: number): Promise<MeetingEntry> => unwrap(commands.retryMeetingEvent(id)),
  /** Writes the .ics invitation into Downloads; resolves to the file's path. */
  saveMeetingInvitation: (id: number): Promise<string> => unwrap(commands.saveMeetingInvitation(id)),
  meetingTime: (local: string, timeZone: string): Promise<MeetingTime> => unwrap(commands.meetingTime(local, timeZone)),
  /** Sends a failed or unsure invitation email again; resolves to the meeting with its new invitation state. */
  resendInvitation: (id: number): Promise<MeetingEntry> => unwrap(commands.resendInvitation(id)),
  /** Every provider, with whether its client ID is set and its account connected. */
  meetingProviders: (): Promise<ProviderStatus[]> => unwrap(commands.meetingProviders()),
  /** Opens the provider's sign-in page and resolves once the rep finished there (this may take minutes). */
  connectMeetings: (provider: Provider): Promise<null> => unwrap(commands.connectMeetings(provider)),
  disconnectMeetings: (provider: Provider): Promise<null> => unwrap(commands.disconnectMeetings(provider)),
  /** Asks the providers how meetings went; their Events follow through the outbox. */
  syncMeetings: (): Promise<MeetingSyncReport> => unwrap(commands.syncMeetings()),
  /** Stores the provider app's client secret in the OS keyring (empty forgets it); it never comes back. */
  setMeetingClientSecret: (provider: Provider, secret: string): Promise<null> =>
    unwrap(commands.setMeetingClientSecret(provider, secret)),
  /** Meetings held at the provider in `[from, to)` (unix seconds), their attendees matched in Salesforce. */
  heldMeetings: (provider: Provider, from: number, to: number): Promise<HeldListing> =>
    unwrap(commands.heldMeetings(provider, from, to)),
  /** Stores the picked held meetings with their Events; resolves to those stored now. */
  recordHeldMeetings: (choices: HeldChoice[]): Promise<MeetingEntry[]> => unwrap(commands.recordHeldMeetings(choices)),
  /** Meetings and calls counted over `[from, to)` (unix seconds). */
  report: (from: number, to: number): Promise<Report> => unwrap(commands.report(from, to)),
  /** Writes one table of the report as CSV into Downloads; resolves to the file's path. */
  saveReportCsv: (from: number, to: number, kind: ReportKind): Promise<string> =>
    unwrap(commands.saveReportCsv(from, to, kind)),

  layoutStatus: (): Promise<LayoutStatus> => unwrap(commands.layoutStatus()),
  /** Asks the org for the layout assigned to the rep now; a failed check also arrives as `layoutApplied`. */
  refreshLayout: (): Promise<LayoutStatus> => unwrap(commands.refreshLayout()),
  /** The rep's own value for an unlocked on/off setting; `null` goes back to the admin's. */
  setRepSetting: (setting: RepSetting, value: boolean | null): Promise<LayoutStatus> =>
    unwrap(commands.setRepSetting(setting, value)),
  /** The document in force, as an admin would write it. */
  layoutDocument: (): Promise<string> => unwrap(commands.layoutDocument()),
  canPublishLayouts: (): Promise<boolean> => unwrap(commands.canPublishLayouts()),
  /** Schema and rules always; the org's describes too when signed in. */
  validateLayout: (text: string): Promise<LayoutCheck> => unwrap(commands.validateLayout(text)),
  publishLayout: (text: string, target: PublishTarget): Promise<Published> =>
    unwrap(commands.publishLayout(text, target)),
  /** The layout published for `target` (null: the one assigned to this user). */
  pullLayout: (target: PublishTarget | null): Promise<PulledLayout> => unwrap(commands.pullLayout(target)),
  diffLayouts: (published: string, edited: string): Promise<DiffLine[]> =>
    unwrap(commands.diffLayouts(published, edited)),
  /** The records the layout's "more info" tab `label` lists for an account (newest first, at most 20). */
  moreInfo: (label: string, accountId: string): Promise<MoreInfo> => unwrap(commands.moreInfo(label, accountId)),

  /** Subscribes to the core's single event stream; resolves once the listener is registered. */
  async onEvent(handler: (event: CoreEvent) => void): Promise<Unsubscribe> {
    return events.coreEvent.listen((event) => handler(event.payload));
  },
};

export type Core = typeof core;
