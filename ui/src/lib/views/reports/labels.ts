// Words and numbers of the Reports view: status names, talk time, counts in the
// UI language.
import type { ReportStatus } from "../../bindings";
import { currentLanguage, t } from "../../i18n/index.svelte";

/** The order statuses are shown in, from planned to what became of it. */
export const statusOrder: readonly ReportStatus[] = ["scheduled", "inProgress", "held", "notHeld", "cancelled", "unknown"];

export const statusLabel = (status: ReportStatus): string => t(`reportStatus.${status}`);

export const count = (n: number): string => new Intl.NumberFormat(currentLanguage()).format(n);

/** Talk time in hours and minutes (seconds only under a minute). */
export function talkTime(secs: number): string {
  if (secs > 0 && secs < 60) return t("reports.seconds", { seconds: Math.round(secs) });
  const minutes = Math.round(secs / 60);
  const hours = Math.floor(minutes / 60);
  return hours > 0
    ? t("reports.hoursMinutes", { hours: count(hours), minutes: minutes % 60 })
    : t("reports.minutes", { minutes });
}
