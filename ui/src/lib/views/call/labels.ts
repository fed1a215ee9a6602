// How a call is named and described on screen. Presentation only: the states and
// reasons are the core's.
import type { CallInfo, MediaStats, RegistrationState } from "../../bindings";
import { t } from "../../i18n/index.svelte";

/**
 * Why no call can be placed whatever the number: the phone is not registered.
 * Null once it is. Every place that offers Call (the dialer, the pop's numbers)
 * says the same.
 */
export function callBlockedReason(registration: RegistrationState | undefined): string | null {
  switch (registration?.state) {
    case "registered":
      return null;
    case "registering":
      return t("phone.callConnecting");
    case "retrying":
    case "failed":
      return t("phone.callError", { reason: registration.reason });
    default:
      return t("phone.callNotSetUp");
  }
}

/** `mm:ss`, or `h:mm:ss` from the first hour on. Negative (clock skew) shows as 00:00. */
export function formatDuration(ms: number): string {
  const total = Math.floor(Math.max(0, ms) / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return hours > 0 ? `${hours}:${two(minutes)}:${two(seconds)}` : `${two(minutes)}:${two(seconds)}`;
}

/** ISO 8601 duration for `<time datetime>`. */
export function isoDuration(ms: number): string {
  return `PT${Math.floor(Math.max(0, ms) / 1000)}S`;
}

/** The far end's name when the call carried one, else its number or address. */
export function callTitle(call: CallInfo): string {
  return call.remoteName?.trim() || call.remoteUser || call.remoteUri || t("call.unknown");
}

/** The number under the name, when the title is the name. */
export function callSubtitle(call: CallInfo): string | null {
  if (!call.remoteName?.trim()) return null;
  return call.remoteUser || call.remoteUri || null;
}

/** Calling, ringing, talking, on hold, held by the other side — or why it ended. */
export function stateLabel(call: CallInfo): string {
  const state = call.state;
  switch (state.state) {
    case "dialling":
    case "trying":
      return t("call.calling");
    case "ringing":
      return t("call.ringing");
    case "incoming":
      return t("call.incoming");
    case "answered":
      if (state.held) return t("call.onHold");
      if (state.remoteHeld) return t("call.heldByOther");
      return t("call.talking");
    case "ended":
      return t("call.ended", { reason: state.reason });
  }
}

export type Quality = "good" | "fair" | "poor";

/**
 * The line's quality from what RTCP and the jitter buffer measure: loss either way,
 * jitter and round trip. Thresholds follow common VoIP practice (ITU-T G.114 puts the
 * one-way limit for conversation at 150 ms, so a 300 ms round trip is where talk
 * starts to overlap). `null` until any media has arrived.
 */
export function callQuality(media: MediaStats): Quality | null {
  if (media.received === 0) return null;
  const loss = Math.max(media.lossPermille, media.farLossPermille ?? 0) / 10;
  const rtt = media.rttMs ?? 0;
  if (loss > 5 || media.jitterMs > 60 || rtt > 400) return "poor";
  if (loss > 1 || media.jitterMs > 30 || rtt > 250) return "fair";
  return "good";
}

/** Loss, jitter and round trip in words, for the indicator's tooltip. */
export function qualityDetails(media: MediaStats, codec: string | null): string {
  const loss = Math.max(media.lossPermille, media.farLossPermille ?? 0) / 10;
  const parts = [
    codec ?? "",
    t("call.qualityLoss", { percent: loss.toFixed(1) }),
    t("call.qualityJitter", { ms: String(media.jitterMs) }),
  ];
  if (media.rttMs !== null) parts.push(t("call.qualityRtt", { ms: String(media.rttMs) }));
  // Gaps are this computer's doing (busy, a device running fast), not the network's.
  if (media.speakerGapsMs > 0) parts.push(t("call.qualityGaps", { ms: String(media.speakerGapsMs) }));
  return parts.filter(Boolean).join(" · ");
}
