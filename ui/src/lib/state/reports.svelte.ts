// Reports: meetings and calls counted by the core for a range of whole local days,
// and its tables written as CSV. The counting, the statuses and the CSV are the
// core's; this keeps the days picked and the last answer.
import type { Report, ReportKind } from "../bindings";
import { core, errorMessage } from "../core";
import { dayRange, localDay } from "../dates";

/** Days, today included, a report covers until the rep picks others. */
export const REPORT_DAYS = 30;

export class Reports {
  fromDate = $state(localDay(-(REPORT_DAYS - 1)));
  toDate = $state(localDay(0));
  report = $state<Report | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  /** The table being written, while it is. */
  exporting = $state<ReportKind | null>(null);
  /** Where the last table was written. */
  saved = $state<{ kind: ReportKind; path: string } | null>(null);
  exportError = $state<string | null>(null);

  // Bumped by every read: the answer for days the rep has since changed is dropped.
  #version = 0;

  async load(): Promise<void> {
    const range = dayRange(this.fromDate, this.toDate);
    if (range === null) return;
    const version = ++this.#version;
    this.loading = true;
    this.error = null;
    try {
      const report = await core.report(range.from, range.to);
      if (version === this.#version) this.report = report;
    } catch (e) {
      if (version === this.#version) {
        this.report = null;
        this.error = errorMessage(e);
      }
    } finally {
      if (version === this.#version) this.loading = false;
    }
  }

  setDates(fromDate: string, toDate: string): void {
    this.fromDate = fromDate;
    this.toDate = toDate;
    this.saved = null;
    this.exportError = null;
    void this.load();
  }

  /** Writes one table of the report on screen (its own range) as CSV. */
  async exportCsv(kind: ReportKind): Promise<void> {
    const report = this.report;
    if (report === null || this.exporting !== null) return;
    this.exporting = kind;
    this.saved = null;
    this.exportError = null;
    try {
      this.saved = { kind, path: await core.saveReportCsv(report.from, report.to, kind) };
    } catch (e) {
      this.exportError = errorMessage(e);
    } finally {
      this.exporting = null;
    }
  }
}
