// How a call is named and described on screen. Presentation only: the states and
// reasons are the core's.
import type { CallInfo } from "../../bindings";
import { t } from "../../i18n/index.svelte";

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
