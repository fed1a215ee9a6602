import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import App from "../src/App.svelte";
import ReportsView from "../src/lib/views/ReportsView.svelte";
import type { Report } from "../src/lib/bindings";
import { AppState, appStateContext } from "../src/lib/state/app.svelte";
import { dayRange, dayStart, localDay } from "../src/lib/dates";
import { setLanguage } from "../src/lib/i18n/index.svelte";
import { fakeCore, refuse, report, type FakeCore } from "./fake-core";

const midnight = (y: number, m: number, d: number) => Math.floor(new Date(y, m - 1, d).getTime() / 1000);

/** Some of everything: three statuses, the rep's own and a colleague's meetings, three dispositions. */
const full = (from: number, to: number): Report =>
  report({
    from,
    to,
    meetingsByStatus: [
      { status: "held", count: 6 },
      { status: "cancelled", count: 1 },
      { status: "scheduled", count: 3 },
    ],
    meetingsByHost: [
      {
        host: null,
        counts: [
          { status: "held", count: 4 },
          { status: "scheduled", count: 2 },
        ],
        total: 6,
      },
      {
        host: "lead@acme.example",
        counts: [
          { status: "held", count: 2 },
          { status: "cancelled", count: 1 },
        ],
        total: 3,
      },
    ],
    meetings: 10,
    callsByDisposition: [
      { disposition: "Connected", calls: 4, talkSecs: 3900 },
      { disposition: "", calls: 2, talkSecs: 45 },
      { disposition: "Left voicemail", calls: 1, talkSecs: 300 },
    ],
    calls: 7,
    talkSecs: 4245,
  });

async function renderReports(core: FakeCore) {
  const app = new AppState();
  render(ReportsView, { context: appStateContext(app) });
  await vi.waitFor(() => expect(core.callsTo("report").length).toBeGreaterThan(0));
  return app;
}

const widths = (chart: HTMLElement) =>
  within(chart)
    .getAllByTestId("bar")
    .map((bar) => [bar.getAttribute("data-key"), Number(bar.getAttribute("data-value")), parseFloat(bar.getAttribute("width") ?? "")]);

describe("the Reports view", () => {
  it("is the Reports entry of the navigation", async () => {
    const core = fakeCore();
    render(App);
    await vi.waitFor(() => expect(core.callsTo("take_pending_dial")).toHaveLength(1));
    await fireEvent.click(screen.getByTestId("nav-reports"));
    expect(await screen.findByRole("heading", { name: "Reports" })).toBe(screen.getByTestId("view-title"));
    expect(screen.getByTestId("nav-reports")).toHaveAttribute("aria-current", "page");
    await vi.waitFor(() => expect(core.callsTo("report")).toHaveLength(1));
  });

  it("asks for the last 30 days, then for the whole local days the rep picks", async () => {
    const core = fakeCore();
    await renderReports(core);
    const today = new Date();
    expect(core.callsTo("report")[0]).toEqual({
      from: Math.floor(new Date(today.getFullYear(), today.getMonth(), today.getDate() - 29).getTime() / 1000),
      to: Math.floor(new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1).getTime() / 1000),
    });
    expect(screen.getByLabelText("From")).toHaveValue(localDay(-29));
    expect(screen.getByLabelText("to")).toHaveValue(localDay(0));

    await fireEvent.change(screen.getByTestId("reports-from"), { target: { value: "2027-01-01" } });
    await fireEvent.change(screen.getByTestId("reports-to"), { target: { value: "2027-01-31" } });
    await vi.waitFor(() => expect(core.callsTo("report")).toHaveLength(3));
    // From local midnight of the first day to local midnight after the last (exclusive).
    expect(core.callsTo("report")[2]).toEqual({ from: midnight(2027, 1, 1), to: midnight(2027, 2, 1) });
    expect(await screen.findByTestId("reports-empty")).toHaveTextContent("No meetings and no calls on these days.");
    expect(screen.queryByTestId("report-meetingsByStatus")).toBeNull();
  });

  it("sums up and draws each table with bars proportional to their counts", async () => {
    const core = fakeCore({ report: ({ from, to }) => full(Number(from), Number(to)) });
    await renderReports(core);

    expect(await screen.findByTestId("reports-meetings")).toHaveTextContent("Meetings: 10");
    expect(screen.getByTestId("reports-calls")).toHaveTextContent("Calls: 7");
    expect(screen.getByTestId("reports-talk")).toHaveTextContent("Talk time: 1 h 11 min");

    // By status: in the statuses' order, each bar's length its count against the largest.
    const byStatus = screen.getByTestId("chart-meetingsByStatus");
    const rows = within(byStatus).getAllByTestId("bar-row");
    expect(rows.map((r) => r.getAttribute("data-label"))).toEqual(["Scheduled", "Held", "Cancelled"]);
    const status = widths(byStatus);
    expect(status.map(([key, value]) => [key, value])).toEqual([
      ["scheduled", 3],
      ["held", 6],
      ["cancelled", 1],
    ]);
    const [scheduled, held, cancelled] = status.map(([, , width]) => width as number);
    expect(held).toBeGreaterThan(0);
    expect(scheduled / held).toBeCloseTo(0.5);
    expect(cancelled / held).toBeCloseTo(1 / 6);
    expect(byStatus.querySelector("svg")).toHaveAttribute("aria-label", "Meetings by status");

    // By host: the rep's own as "You", each bar stacked by status; lengths follow the totals.
    const byHost = screen.getByTestId("chart-meetingsByHost");
    expect(within(byHost).getAllByTestId("bar-row").map((r) => r.getAttribute("data-label"))).toEqual(["You", "lead@acme.example"]);
    const [you, lead] = within(byHost).getAllByTestId("bar-row");
    const stacked = (row: HTMLElement) => widths(row).map(([key, value, width]) => ({ key, value, width: width as number }));
    expect(stacked(you).map((s) => [s.key, s.value])).toEqual([
      ["scheduled", 2],
      ["held", 4],
    ]);
    const sum = (row: HTMLElement) => stacked(row).reduce((total, s) => total + s.width, 0);
    expect(sum(lead) / sum(you)).toBeCloseTo(0.5);
    expect(stacked(you)[0].width / stacked(you)[1].width).toBeCloseTo(0.5);
    // A segment starts where the one before it ends.
    const [first, second] = within(you).getAllByTestId("bar");
    expect(parseFloat(second.getAttribute("x")!)).toBeCloseTo(parseFloat(first.getAttribute("x")!) + parseFloat(first.getAttribute("width")!));
    expect(byHost).toHaveTextContent("Scheduled");

    // By disposition: calls as bars, talk time written beside them, no disposition named so.
    const byDisposition = screen.getByTestId("chart-callsByDisposition");
    const calls = within(byDisposition).getAllByTestId("bar-row");
    expect(calls.map((r) => r.getAttribute("data-label"))).toEqual(["Connected", "No disposition", "Left voicemail"]);
    expect(calls[0]).toHaveTextContent("4 · 1 h 5 min");
    expect(calls[1]).toHaveTextContent("2 · 45 s");
    const dispositions = widths(byDisposition).map(([, , width]) => width as number);
    expect(dispositions[1] / dispositions[0]).toBeCloseTo(0.5);

    // Each chart's numbers as a table too.
    const table = screen.getByTestId("report-table-meetingsByHost");
    expect(within(table).getAllByRole("columnheader").map((th) => th.textContent)).toEqual([
      "Host",
      "Scheduled",
      "Held",
      "Cancelled",
      "Total",
    ]);
    expect(within(table).getAllByRole("row")[1].textContent).toBe("You2406");
    expect(within(screen.getByTestId("report-table-callsByDisposition")).getByRole("rowheader", { name: "No disposition" })).toBeInTheDocument();
  });

  it("exports the table asked for, for the range shown, and says where it went", async () => {
    const core = fakeCore({
      report: ({ from, to }) => full(Number(from), Number(to)),
      save_report_csv: ({ kind }) => `/home/rep/Downloads/ringside-${String(kind)}.csv`,
    });
    await renderReports(core);
    const shown = core.callsTo("report")[0];

    await fireEvent.click(await screen.findByTestId("report-export-meetingsByHost"));
    await vi.waitFor(() => expect(core.callsTo("save_report_csv")).toHaveLength(1));
    expect(core.callsTo("save_report_csv")[0]).toEqual({ ...shown, kind: "meetingsByHost" });
    expect(await screen.findByTestId("report-saved-meetingsByHost")).toHaveTextContent(
      "Saved to /home/rep/Downloads/ringside-meetingsByHost.csv",
    );

    await fireEvent.click(screen.getByTestId("report-export-callsByDisposition"));
    await vi.waitFor(() => expect(core.callsTo("save_report_csv")).toHaveLength(2));
    expect(core.callsTo("save_report_csv")[1]).toEqual({ ...shown, kind: "callsByDisposition" });
    expect(await screen.findByTestId("report-saved-callsByDisposition")).toBeInTheDocument();
    expect(screen.queryByTestId("report-saved-meetingsByHost")).toBeNull();

    core.handle("save_report_csv", refuse("io", "Downloads is not writable."));
    await fireEvent.click(screen.getByTestId("report-export-meetingsByStatus"));
    expect(await screen.findByTestId("reports-export-error")).toHaveTextContent("Downloads is not writable.");
  });

  it("names the statuses in the UI language", async () => {
    setLanguage("fr");
    const core = fakeCore({ report: ({ from, to }) => full(Number(from), Number(to)) });
    await renderReports(core);
    const byStatus = await screen.findByTestId("chart-meetingsByStatus");
    expect(within(byStatus).getAllByTestId("bar-row").map((r) => r.getAttribute("data-label"))).toEqual([
      "Planifiée",
      "Tenue",
      "Annulée",
    ]);
    expect(screen.getByTestId("chart-meetingsByHost")).toHaveTextContent("Vous");
    expect(screen.getByTestId("chart-callsByDisposition")).toHaveTextContent("Sans résultat");
    expect(screen.getByTestId("reports-talk")).toHaveTextContent("Temps de conversation : 1 h 11 min");
  });

  it("shows the core's refusal", async () => {
    const core = fakeCore({ report: refuse("storage", "The history could not be read.") });
    await renderReports(core);
    expect(await screen.findByRole("alert")).toHaveTextContent("The history could not be read.");
  });
});

describe("whole local days", () => {
  // A day the clocks change is not 24 hours long: a range must still start and end at local midnight.
  const zone = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = "Europe/Paris";
  });
  afterAll(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });

  it("start at local midnight and end at the next day's, whatever the day's length", () => {
    expect(dayStart("2027-03-28")).toBe(Date.UTC(2027, 2, 27, 23) / 1000);
    expect(dayRange("2027-03-28", "2027-03-28")).toEqual({
      from: Date.UTC(2027, 2, 27, 23) / 1000,
      to: Date.UTC(2027, 2, 28, 22) / 1000,
    });
    expect(dayRange("2027-10-31", "2027-10-31")!.to - dayRange("2027-10-31", "2027-10-31")!.from).toBe(25 * 3600);
    expect(dayRange("", "2027-03-28")).toBeNull();
    expect(localDay(-1, new Date(2027, 2, 1, 12))).toBe("2027-02-28");
  });
});
