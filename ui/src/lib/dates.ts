// Whole local days as the date inputs give them (`YYYY-MM-DD`), and the unix
// seconds the core's `[from, to)` ranges are written in. A day starts at local
// midnight, whatever its length (a day the clocks change is 23 or 25 hours).

/** Unix seconds at local midnight of `date` plus `days`, or null when `date` is not a date. */
export function dayStart(date: string, days = 0): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return null;
  const d = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + days);
  return Math.floor(d.getTime() / 1000);
}

/** The local day `days` from today (negative: before), as a date input's value. */
export function localDay(days = 0, now: Date = new Date()): string {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() + days);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * `[from, to)` for the days `fromDate` to `toDate`, both included: local midnight
 * of the first, local midnight after the last. Null while either is not a date.
 */
export function dayRange(fromDate: string, toDate: string): { from: number; to: number } | null {
  const from = dayStart(fromDate, 0);
  const to = dayStart(toDate, 1);
  return from === null || to === null ? null : { from, to };
}
