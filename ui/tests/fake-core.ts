// A stand-in for the Rust core at the IPC boundary: the real bindings and
// core.ts run unchanged against it (via Tauri's mockIPC), so tests exercise the
// same command names and argument shapes the shell receives.
import { mockIPC } from "@tauri-apps/api/mocks";
import {
  events,
  type AppStatus,
  type AudioDevices,
  type CallInfo,
  type CallState,
  type CallerMatch,
  type CoreEvent,
  type DialTarget,
  type ErrorCode,
  type Layout,
  type LayoutCallType,
  type LayoutCheck,
  type LayoutStatus,
  type MatchedRecord,
  type MoreInfo,
  type MoreInfoTab,
  type PopRules,
  type RepSettingState,
  type PhoneNumberInfo,
  type ProviderStatus,
  type Report,
  type SalesforceStatus,
  type Settings,
} from "../src/lib/bindings";

export type CommandName =
  | "app_status"
  | "list_audio_devices"
  | "select_audio_device"
  | "test_audio"
  | "change_setting"
  | "parse_dial_input"
  | "take_pending_dial"
  | "write_diagnostics"
  | "salesforce_status"
  | "salesforce_sign_in"
  | "salesforce_sign_out"
  | "match_number"
  | "create_caller_record"
  | "open_record"
  | "caller_details"
  | "call_log_form"
  | "new_call_log"
  | "save_call_log"
  | "history"
  | "call_log"
  | "retry_call_log"
  | "sync_outbox"
  | "outbox_summary"
  | "search_people"
  | "search_related"
  | "set_sip_password"
  | "start_phone"
  | "dial"
  | "answer_call"
  | "decline_call"
  | "hang_up"
  | "hold_call"
  | "mute_call"
  | "send_dtmf"
  | "transfer_call"
  | "transfer_to_call"
  | "set_do_not_disturb"
  | "new_meeting_request"
  | "start_meeting"
  | "open_meeting"
  | "list_meetings"
  | "retry_meeting_event"
  | "save_meeting_invitation"
  | "meeting_time"
  | "meeting_providers"
  | "connect_meetings"
  | "disconnect_meetings"
  | "sync_meetings"
  | "set_meeting_client_secret"
  | "held_meetings"
  | "record_held_meetings"
  | "report"
  | "save_report_csv"
  | "resend_invitation"
  | "layout_status"
  | "refresh_layout"
  | "set_rep_setting"
  | "layout_document"
  | "can_publish_layouts"
  | "validate_layout"
  | "publish_layout"
  | "pull_layout"
  | "diff_layouts"
  | "more_info";

type Args = Record<string, unknown>;
export type Handler = (args: Args) => unknown;
export type Call = { command: CommandName; args: Args };

export function settings(overrides: Partial<Settings> = {}): Settings {
  return {
    language: "system",
    defaultRegion: "FR",
    salesforceLogin: "production",
    salesforceClientId: "",
    salesforceCallbackPort: 0,
    sipUser: "",
    sipDomain: "",
    sipProxy: "",
    sipTransport: "udp",
    sipTlsCa: "",
    sipSrtp: "off",
    voiceProcessing: true,
    jitsiServer: "https://meet.jit.si",
    zoomClientId: "",
    zoomOauthUrl: "https://zoom.us",
    webexClientId: "",
    webexUrl: "https://webexapis.com",
    meetingsCallbackPort: 0,
    ...overrides,
  };
}

export function appStatus(overrides: Partial<AppStatus> = {}): AppStatus {
  return {
    version: "0.1.0",
    language: "en",
    settings: settings(),
    notices: [],
    registration: { state: "unregistered" },
    calls: [],
    doNotDisturb: false,
    voicemail: null,
    dataDir: "/home/rep/.local/share/ringside",
    logFile: "/home/rep/.local/share/ringside/logs/ringside.log",
    ...overrides,
  };
}

/** The SIP registration that lets the rep place calls. */
export const registered = { state: "registered", expiresSecs: 600, expiresAt: 1_795_000_600 } as const;

/** A call as the core describes it; an incoming call from the Paris number unless told otherwise. */
export function callInfo(overrides: Partial<CallInfo> = {}): CallInfo {
  return {
    id: 1,
    direction: "incoming",
    remoteUri: "sip:+33123456789@pbx.example.com",
    remoteUser: "+33123456789",
    remoteName: "Camille Martin",
    state: { state: "incoming" },
    muted: false,
    startedAt: 1_795_000_000_000,
    answeredAt: null,
    endedAt: null,
    media: {
      sent: 0,
      received: 0,
      dropped: 0,
      eventsSent: 0,
      lost: 0,
      late: 0,
      concealedMs: 0,
      jitterMs: 0,
      rttMs: null,
      lossPermille: 0,
      farLossPermille: null,
      srtp: false,
      srtpFailures: 0,
      iceChecks: 0,
      bufferMs: 20,
      micLevel: 0,
      speakerLevel: 0,
      speakerGapsMs: 0,
    },
    codec: null,
    answerLatencyUs: null,
    sipCallId: "call-1@pbx.example.com",
    ...overrides,
  };
}

export const answered = (held = false, remoteHeld = false): CallState => ({ state: "answered", held, remoteHeld });

export function audioDevices(overrides: Partial<AudioDevices> = {}): AudioDevices {
  return {
    host: "ALSA",
    inputs: [
      { id: "in-builtin", name: "Built-in Microphone", isDefault: true },
      { id: "in-usb", name: "USB Webcam Microphone", isDefault: false },
    ],
    outputs: [
      { id: "out-builtin", name: "Built-in Speakers", isDefault: true },
      { id: "out-hdmi", name: "HDMI Output", isDefault: false },
    ],
    roles: [
      { role: "microphone", preferredId: null, preferredName: null, activeId: "in-builtin", fallback: false },
      { role: "speaker", preferredId: null, preferredName: null, activeId: "out-builtin", fallback: false },
      { role: "ringer", preferredId: null, preferredName: null, activeId: "out-builtin", fallback: false },
    ],
    problem: null,
    ...overrides,
  };
}

export const parisNumber: DialTarget = {
  kind: "phone",
  e164: "+33123456789",
  display: "+33 1 23 45 67 89",
  extension: null,
  region: "FR",
};

export function salesforceStatus(overrides: Partial<SalesforceStatus> = {}): SalesforceStatus {
  return { connection: null, apiUsage: null, login: "production", clientIdSet: false, ...overrides };
}

export const connectedStatus = (overrides: Partial<SalesforceStatus> = {}): SalesforceStatus =>
  salesforceStatus({
    connection: { instanceUrl: "https://acme.my.salesforce.com", userId: "005000000000001AAA", orgId: "00D000000000001EAA" },
    apiUsage: { used: 1234, max: 15000 },
    clientIdSet: true,
    ...overrides,
  });

export const parisInfo: PhoneNumberInfo = {
  e164: "+33123456789",
  international: "+33 1 23 45 67 89",
  nationalNumber: "123456789",
  extension: null,
  region: "FR",
  kind: "fixedLine",
};

export function matchedRecord(overrides: Partial<MatchedRecord> = {}): MatchedRecord {
  return {
    object: "Contact",
    id: "003000000000001AAA",
    name: "Camille Martin",
    matchedField: "Phone",
    fields: [
      { field: "Title", value: "Head of Purchasing" },
      { field: "Account.Name", value: "Boulangeries Dupont" },
      { field: "Owner.Name", value: "Jeanne Rep" },
    ],
    url: "https://acme.my.salesforce.com/lightning/r/Contact/003000000000001AAA/view",
    accountId: "001000000000001AAA",
    timeZone: null,
    confirmed: true,
    ...overrides,
  };
}

/** A `CallerMatch` whose outcome follows its records, as the core builds it. */
export function callerMatch(overrides: Partial<CallerMatch> = {}): CallerMatch {
  const records = overrides.records ?? [matchedRecord()];
  return {
    dialled: "+33123456789",
    number: parisInfo,
    internal: false,
    stage: "live",
    problem: null,
    callType: "inbound",
    pop: popRules(),
    ...overrides,
    records,
    outcome: overrides.outcome ?? (records.length === 0 ? "none" : records.length === 1 ? "one" : "many"),
  };
}

/** The built-in pop rules (`assets/layouts/default.json`). */
export function popRules(overrides: Partial<PopRules> = {}): PopRules {
  return { on: "ring", onNone: "offerCreate", onOne: "pop", onMany: "chooser", openInSalesforce: false, ...overrides };
}

/** A layout in force for one call type, shaped as the built-in one (searched: Contact, then Lead). */
export function layout(callType: LayoutCallType = "inbound", overrides: Partial<Layout> = {}): Layout {
  return {
    name: "Ringside default",
    callType,
    search: [
      {
        object: "Contact",
        phoneFields: ["Phone", "MobilePhone"],
        nameField: "Name",
        popFields: ["Title", "Account.Name"],
        countryField: "MailingCountry",
        stateField: "MailingState",
        accountField: "AccountId",
        filter: null,
      },
      {
        object: "Lead",
        phoneFields: ["Phone"],
        nameField: "Name",
        popFields: ["Company", "Status"],
        countryField: "Country",
        stateField: null,
        accountField: null,
        filter: "IsConverted = false",
      },
    ],
    pop: popRules(),
    internalPrefixes: [],
    internalExtensionDigits: 5,
    ignoreInternalCalls: true,
    callLog: {
      subjectTemplate: "Call with {name}",
      subjectTemplateNoPerson: "Call {number}",
      dispositions: { source: "list", values: ["Connected", "Left voicemail"] },
      dispositionRequired: false,
      relatedObjects: ["Account", "Opportunity"],
      personEditable: true,
      autoSave: false,
      fields: [],
      mapping: {
        subject: "Subject",
        notes: "Description",
        callId: "CallObject",
        callType: "CallType",
        duration: "CallDurationInSeconds",
        disposition: "CallDisposition",
        activityDate: "ActivityDate",
        subtype: { field: "TaskSubtype", value: "Call" },
        status: { field: "Status", value: "Completed" },
      },
    },
    meetings: { emailAttendeesOnLaunch: false, usePmi: false, joinBeforeHost: false },
    moreInfoTabs: [],
    ...overrides,
  };
}

/** A layout's "more info" tab: the account's opportunities, as the admin guide's example. */
export function moreInfoTab(overrides: Partial<MoreInfoTab> = {}): MoreInfoTab {
  return {
    label: "Opportunities",
    object: "Opportunity",
    accountField: "AccountId",
    fields: ["Name", "StageName", "CloseDate"],
    ...overrides,
  };
}

/** The core's answer for a "more info" tab: nothing on the account unless told otherwise. */
export function moreInfo(overrides: Partial<MoreInfo> = {}): MoreInfo {
  return {
    label: "Opportunities",
    object: "Opportunity",
    columns: ["Name", "StageName", "CloseDate"],
    rows: [],
    total: 0,
    ...overrides,
  };
}

/** The six on/off settings, unlocked at the built-in values, with `overrides` by setting. */
export function repSettings(overrides: Partial<Record<RepSettingState["setting"], Partial<RepSettingState>>> = {}): RepSettingState[] {
  const defaults: [RepSettingState["setting"], boolean][] = [
    ["autoSaveLogs", false],
    ["ignoreInternalCalls", true],
    ["editablePerson", true],
    ["emailAttendeesOnLaunch", false],
    ["usePmi", false],
    ["joinBeforeHost", false],
  ];
  return defaults.map(([setting, value]) => ({
    setting,
    value,
    adminValue: value,
    locked: false,
    overridden: false,
    ...overrides[setting],
  }));
}

/** The built-in layout in force, checked with the org at `checkedAt`. */
export function layoutStatus(overrides: Partial<LayoutStatus> = {}): LayoutStatus {
  return {
    name: "Ringside default",
    origin: null,
    checkedAt: null,
    refused: null,
    problem: null,
    repSettings: repSettings(),
    inbound: layout("inbound"),
    outbound: layout("outbound"),
    internal: layout("internal", { search: [], pop: popRules({ onNone: "showNumber" }) }),
    ...overrides,
  };
}

/** A layout document as an admin writes it (two-space JSON, final newline). */
export function layoutDocument(overrides: Record<string, unknown> = {}): string {
  const pop = { on: "ring", onNone: "offerCreate", onOne: "pop", onMany: "chooser", openInSalesforce: false };
  const contact = {
    object: "Contact",
    phoneFields: ["Phone", "MobilePhone"],
    nameField: "Name",
    popFields: ["Title", "Account.Name"],
    countryField: "MailingCountry",
    stateField: "MailingState",
    accountField: "AccountId",
    filter: null,
  };
  const lead = {
    object: "Lead",
    phoneFields: ["Phone"],
    nameField: "Name",
    popFields: ["Company", "Status"],
    countryField: "Country",
    stateField: null,
    accountField: null,
    filter: "IsConverted = false",
  };
  const setting = (value: boolean, locked = false) => ({ value, locked });
  const doc = {
    formatVersion: 1,
    name: "Ringside default",
    calls: {
      inbound: { search: [contact, lead], pop },
      outbound: { search: [contact, lead], pop },
      internal: { search: [], pop: { ...pop, onNone: "showNumber" } },
    },
    callLog: {
      subjectTemplate: "Call with {name}",
      subjectTemplateNoPerson: "Call {number}",
      dispositions: { source: "list", values: ["Connected", "Left voicemail"] },
      dispositionRequired: false,
      relatedObjects: ["Account", "Opportunity"],
      fields: [],
      mapping: { subject: "Subject", notes: "Description", callId: "CallObject" },
    },
    settings: {
      autoSaveLogs: setting(false),
      ignoreInternalCalls: setting(true),
      internalNumbers: { value: { prefixes: [], extensionDigits: 5 }, locked: false },
      editablePerson: setting(true),
      emailAttendeesOnLaunch: setting(false),
      usePmi: setting(false),
      joinBeforeHost: setting(false),
      moreInfoTabs: { value: [], locked: true },
    },
    ...overrides,
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

/** A check without problems, done with the org, previewing `layoutStatus()`'s layouts. */
export function validCheck(overrides: Partial<LayoutCheck> = {}): LayoutCheck {
  const status = layoutStatus();
  return {
    problems: [],
    checkedWithOrg: true,
    preview: { inbound: status.inbound, outbound: status.outbound, internal: status.internal },
    ...overrides,
  };
}

/** The providers as Settings lists them: Jitsi ready, Zoom and Webex not set up, unless told otherwise. */
export function providers(overrides: Partial<Record<"zoom" | "webex", Partial<ProviderStatus>>> = {}): ProviderStatus[] {
  return [
    { provider: "jitsi", needsAccount: false, configured: true, connected: false },
    { provider: "zoom", needsAccount: true, configured: false, connected: false, ...overrides.zoom },
    { provider: "webex", needsAccount: true, configured: false, connected: false, ...overrides.webex },
  ];
}

/** A report with nothing counted, for `[from, to)` as asked. */
export function report(overrides: Partial<Report> = {}): Report {
  return {
    from: 0,
    to: 0,
    meetingsByStatus: [],
    meetingsByHost: [],
    meetings: 0,
    callsByDisposition: [],
    calls: 0,
    talkSecs: 0,
    ...overrides,
  };
}

/** A handler that refuses the way the core does: an `AppError` as the rejection value. */
export function refuse(code: ErrorCode, message: string): Handler {
  return () => {
    throw { code, message };
  };
}

export type FakeCore = {
  calls: Call[];
  callsTo(command: CommandName): Args[];
  handle(command: CommandName, handler: Handler): void;
};

export function fakeCore(overrides: Partial<Record<CommandName, Handler>> = {}): FakeCore {
  const handlers: Partial<Record<CommandName, Handler>> = {
    app_status: () => appStatus(),
    list_audio_devices: () => audioDevices(),
    take_pending_dial: () => null,
    salesforce_status: () => salesforceStatus(),
    caller_details: (args) => ({ object: args.object, id: args.id, openOpportunities: null, openCases: null }),
    history: () => [],
    list_meetings: () => [],
    outbox_summary: () => ({ drafts: 0, pending: 0, attention: 0 }),
    // The call commands answer nothing: what they did arrives as events.
    answer_call: () => null,
    decline_call: () => null,
    hang_up: () => null,
    hold_call: () => null,
    mute_call: () => null,
    send_dtmf: () => null,
    transfer_call: () => null,
    transfer_to_call: () => null,
    set_do_not_disturb: () => null,
    layout_status: () => layoutStatus(),
    can_publish_layouts: () => false,
    layout_document: () => layoutDocument(),
    validate_layout: () => validCheck(),
    more_info: (args) => moreInfo({ label: String(args.label) }),
    meeting_providers: () => providers(),
    report: (args) => report({ from: Number(args.from), to: Number(args.to) }),
    ...overrides,
  };
  const calls: Call[] = [];
  mockIPC(
    (command, args) => {
      const name = command as CommandName;
      const payload = (args ?? {}) as Args;
      calls.push({ command: name, args: payload });
      const handler = handlers[name];
      if (!handler) throw new Error(`the fake core has no handler for ${command}`);
      return handler(payload);
    },
    { shouldMockEvents: true },
  );
  return {
    calls,
    callsTo: (command) => calls.filter((c) => c.command === command).map((c) => c.args),
    handle: (command, handler) => {
      handlers[command] = handler;
    },
  };
}

/** Sends a `CoreEvent` the way the shell does (event name "core-event"). */
export function emitCoreEvent(event: CoreEvent): Promise<void> {
  return events.coreEvent.emit(event);
}

/** The core put a layout in force (or a check did not complete: `status.problem`). */
export const emitLayoutApplied = (status: LayoutStatus = layoutStatus()): Promise<void> =>
  emitCoreEvent({ type: "layoutApplied", status });

/** The org offered a layout that failed its checks (`status.refused`); the one in force stays. */
export const emitLayoutRefused = (status: LayoutStatus): Promise<void> => emitCoreEvent({ type: "layoutRefused", status });
