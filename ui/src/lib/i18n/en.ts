// English UI text: the reference dictionary. Every other language must define
// exactly these keys (enforced by the `Messages` type and by tests/i18n.test.ts).
// `{name}` placeholders are filled by `t(key, { name })`.
export const en = {
  "app.name": "Ringside",
  "app.startupFailed": "Ringside could not load its state from the core: {message}",

  "header.connections": "Connections",
  "header.phoneNotSetUp": "Phone: not set up",
  "header.salesforceNotConnected": "Salesforce: not connected",

  "nav.label": "Main",
  "nav.phone": "Phone",
  "nav.meetings": "Meetings",
  "nav.history": "History",
  "nav.reports": "Reports",
  "nav.settings": "Settings",

  "notices.label": "Notices",
  "notices.dismiss": "Dismiss: {message}",

  "phone.title": "Phone",
  "phone.inputLabel": "Number or link",
  "phone.inputHint": "Type or paste any format, or a tel:, sip: or callto: link.",
  "phone.keypad": "Keypad",
  "phone.star": "Star",
  "phone.hash": "Hash",
  "phone.backspace": "Delete last character",
  "phone.willDial": "Will dial",
  "phone.extension": "ext. {extension}",
  "phone.call": "Call",
  "phone.callUnavailable":
    "Calling starts once a SIP account is set up. SIP accounts arrive in a later version of Ringside.",
  "phone.linkRejected": "This link could not be opened: {reason}",
  "phone.dismissLinkRejected": "Dismiss",

  "later.notAvailable": "Not available yet. This arrives in a later version of Ringside.",
  "meetings.title": "Meetings",
  "meetings.body":
    "Start an instant Zoom, Webex or Jitsi meeting with the contact you are looking at, or schedule one. Each meeting is recorded as a Salesforce Event on the contact.",
  "history.title": "History",
  "history.body":
    "Every call you place or take, with the state of its Salesforce sync, searchable by name or number.",
  "reports.title": "Reports",
  "reports.body":
    "Charts of your meetings by status and your calls by disposition and talk time, filtered by date range.",

  "settings.title": "Settings",
  "settings.audio": "Audio",
  "settings.language": "Language",
  "settings.general": "General",
  "settings.diagnostics": "Diagnostics",
  "settings.about": "About",

  "audio.microphone": "Microphone",
  "audio.speaker": "Speaker",
  "audio.ringer": "Ringer",
  "audio.systemDefault": "System default",
  "audio.isDefault": "{name} (default)",
  "audio.notConnected": "{name} (not connected)",
  "audio.fallback": "{preferred} is not connected — using {active}",
  "audio.fallbackNoDevice": "{preferred} is not connected and no other device is available",
  "audio.chosenDevice": "The chosen device",
  "audio.refresh": "Refresh devices",
  "audio.loading": "Looking for audio devices…",
  "audio.host": "Audio system: {host}",

  "language.label": "Display language",
  "language.system": "System default",

  "general.regionLabel": "Default dialing region",
  "general.regionHint":
    "Two-letter country code (ISO 3166) used for numbers typed without a country code, for example FR, JP or US.",
  "general.saved": "Saved.",

  "diagnostics.body": "Write a support bundle to send to your support team when something goes wrong.",
  "diagnostics.write": "Write support bundle",
  "diagnostics.writing": "Writing…",
  "diagnostics.written": "Support bundle written to:",

  "about.version": "Ringside {version}",
  "about.dataDir": "Data folder:",
  "about.logFile": "Log file:",
} as const satisfies Record<string, string>;

export type MessageKey = keyof typeof en;
/** A complete dictionary: every key of `en`, no more, no fewer. */
export type Messages = { readonly [K in MessageKey]: string };
