import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import PhoneView from "../src/lib/views/PhoneView.svelte";
import { AppState, appStateContext } from "../src/lib/state/app.svelte";
import type { LayoutStatus, MoreInfo, MoreInfoRow, MoreInfoTab } from "../src/lib/bindings";
import { columnLabel } from "../src/lib/views/pop/labels";
import {
  callerMatch,
  emitCoreEvent,
  emitLayoutApplied,
  fakeCore,
  layout,
  layoutStatus,
  matchedRecord,
  moreInfo,
  moreInfoTab,
  refuse,
  type FakeCore,
} from "./fake-core";

type Overrides = Parameters<typeof fakeCore>[0];

const cases = moreInfoTab({ label: "Cases", object: "Case", fields: ["CaseNumber", "Subject", "Status"] });

/** The built-in layout with these "more info" tabs for every call type. */
const withTabs = (tabs: MoreInfoTab[] = [moreInfoTab(), cases], overrides: Partial<LayoutStatus> = {}): LayoutStatus =>
  layoutStatus({
    inbound: layout("inbound", { moreInfoTabs: tabs }),
    outbound: layout("outbound", { moreInfoTabs: tabs }),
    ...overrides,
  });

const row = (n: number, values: string[] = [`Opportunity ${n}`, "Prospecting", "2027-01-15"]): MoreInfoRow => ({
  id: `0060000000000${String(n).padStart(2, "0")}AAA`,
  values,
  url: `https://acme.my.salesforce.com/lightning/r/Opportunity/0060000000000${String(n).padStart(2, "0")}AAA/view`,
});

const opportunities = moreInfo({
  rows: [row(1, ["Renouvellement 2027", "Negotiation/Review", "2026-12-15"]), row(2, ["Extension Lyon", "Prospecting", "2027-02-01"])],
  total: 2,
});

/** The Phone view with the app started (events flow) and the Paris caller's card on screen. */
async function renderPop(overrides: Overrides = {}, match = callerMatch()): Promise<{ core: FakeCore; app: AppState }> {
  const core = fakeCore({ layout_status: () => withTabs(), open_record: () => null, ...overrides });
  const app = new AppState();
  await app.start();
  render(PhoneView, { context: appStateContext(app) });
  await emitCoreEvent({ type: "callerMatched", callerMatch: match });
  await screen.findByTestId("pop-record");
  return { core, app };
}

/** A command answer the test releases when it wants to see the state before it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const tabNames = () => screen.getAllByRole("tab").map((tab) => tab.textContent?.trim());
const selectedTab = () => screen.getAllByRole("tab").findIndex((tab) => tab.getAttribute("aria-selected") === "true");

describe("more info tabs: when they show", () => {
  it("shows no tabs when the layout has none, only the related lists as before", async () => {
    const { app } = await renderPop({ layout_status: () => layoutStatus() });
    expect(screen.queryByTestId("pop-tabs")).not.toBeInTheDocument();
    expect(screen.queryByTestId("pop-tab-panel"), "without tabs there is no panel to label").not.toBeInTheDocument();
    expect(screen.queryByRole("tab")).not.toBeInTheDocument();
    app.stop();
  });

  it("shows no tabs for a record that belongs to no account, whatever the layout", async () => {
    const lead = matchedRecord({ object: "Lead", id: "00Q000000000001AAA", name: "Hugo Petit", accountId: null });
    const { core, app } = await renderPop({}, callerMatch({ records: [lead] }));
    expect(screen.queryByTestId("pop-tabs"), "a tab lists records of the caller's account").not.toBeInTheDocument();
    expect(core.callsTo("more_info")).toEqual([]);
    app.stop();
  });

  it("lists Details first, then one tab per layout tab, with Details selected", async () => {
    const { core, app } = await renderPop();
    const tablist = screen.getByRole("tablist", { name: "Record information" });
    expect(tablist).toBe(screen.getByTestId("pop-tabs"));
    expect(tabNames()).toEqual(["Details", "Opportunities", "Cases"]);
    expect(screen.getByTestId("pop-tab-0")).toHaveAttribute("aria-selected", "true");
    const panel = screen.getByRole("tabpanel");
    expect(panel).toBe(screen.getByTestId("pop-tab-panel"));
    expect(panel).toHaveAttribute("aria-labelledby", "pop-tab-0");
    expect(core.callsTo("more_info"), "Details is what the card showed before; no tab is asked yet").toEqual([]);
    app.stop();
  });
});

describe("more info tabs: keyboard", () => {
  it("moves and selects with the arrow keys, Home and End, wrapping at the ends", async () => {
    const { app } = await renderPop();
    const tab = (i: number) => screen.getByTestId(`pop-tab-${i}`);
    expect([0, 1, 2].map((i) => tab(i).tabIndex), "only the selected tab is in the tab order").toEqual([0, -1, -1]);

    await fireEvent.keyDown(tab(0), { key: "ArrowRight" });
    expect(document.activeElement).toBe(tab(1));
    expect(selectedTab()).toBe(1);
    expect(screen.getByRole("tabpanel")).toHaveAttribute("aria-labelledby", "pop-tab-1");

    await fireEvent.keyDown(tab(1), { key: "End" });
    expect(document.activeElement).toBe(tab(2));
    await fireEvent.keyDown(tab(2), { key: "ArrowRight" });
    expect(document.activeElement, "right of the last is the first").toBe(tab(0));
    await fireEvent.keyDown(tab(0), { key: "ArrowLeft" });
    expect(document.activeElement, "left of the first is the last").toBe(tab(2));
    await fireEvent.keyDown(tab(2), { key: "Home" });
    expect(document.activeElement).toBe(tab(0));
    expect(selectedTab()).toBe(0);
    expect([0, 1, 2].map((i) => tab(i).tabIndex)).toEqual([0, -1, -1]);
    app.stop();
  });
});

describe("more info tabs: loading a tab", () => {
  it("asks the core once per tab with its label and the record's account, with a spinner meanwhile", async () => {
    const answer = deferred<MoreInfo>();
    const { core, app } = await renderPop({ more_info: () => answer.promise });

    await fireEvent.click(screen.getByTestId("pop-tab-1"));
    const panel = screen.getByTestId("pop-tab-panel");
    expect(within(panel).getByTestId("more-info-loading")).toHaveTextContent("Loading Opportunities…");
    expect(core.callsTo("more_info")).toEqual([{ label: "Opportunities", accountId: "001000000000001AAA" }]);

    answer.resolve(opportunities);
    const table = await within(panel).findByTestId("more-info-table");
    expect(within(table).getAllByRole("columnheader").map((th) => th.textContent?.trim())).toEqual([
      "Name",
      "Stage Name",
      "Close Date",
    ]);
    const rows = within(table).getAllByTestId("more-info-row");
    expect(rows.map((r) => [...r.children].map((cell) => cell.textContent?.trim()))).toEqual([
      ["Renouvellement 2027", "Negotiation/Review", "2026-12-15"],
      ["Extension Lyon", "Prospecting", "2027-02-01"],
    ]);
    expect(screen.queryByTestId("more-info-loading")).not.toBeInTheDocument();
    expect(screen.queryByTestId("more-info-more"), "the account has no more than these two").not.toBeInTheDocument();

    await fireEvent.click(screen.getByTestId("pop-tab-0"));
    expect(screen.queryByTestId("more-info-table")).not.toBeInTheDocument();
    await fireEvent.click(screen.getByTestId("pop-tab-1"));
    expect(screen.getByTestId("more-info-table"), "the answer is kept for this record").toBeInTheDocument();
    expect(core.callsTo("more_info"), "asked once per record and tab").toHaveLength(1);
    expect(core.callsTo("caller_details"), "Details stays mounted, its lists are not asked again").toHaveLength(1);
    app.stop();
  });

  it("opens a row's record with the command Open in Salesforce uses, and shows a refusal", async () => {
    const { core, app } = await renderPop({ more_info: () => opportunities });
    await fireEvent.click(screen.getByTestId("pop-tab-1"));
    const first = within(await screen.findByTestId("more-info-table")).getAllByTestId("more-info-row")[0];

    await fireEvent.click(within(first).getByRole("button", { name: "Renouvellement 2027" }));
    expect(core.callsTo("open_record")).toEqual([{ object: "Opportunity", id: "006000000000001AAA" }]);

    core.handle("open_record", refuse("salesforce", "Salesforce is not connected: sign in from Settings → Salesforce."));
    await fireEvent.click(within(first).getByRole("button", { name: "Renouvellement 2027" }));
    expect(await screen.findByTestId("more-info-open-error")).toHaveTextContent(
      "Salesforce is not connected: sign in from Settings → Salesforce.",
    );
    app.stop();
  });

  it("says how many the account has when there are more than the rows shown", async () => {
    const twenty = Array.from({ length: 20 }, (_, i) => row(i + 1));
    const { app } = await renderPop({ more_info: () => moreInfo({ rows: twenty, total: 57 }) });
    await fireEvent.click(screen.getByTestId("pop-tab-1"));
    const table = await screen.findByTestId("more-info-table");
    expect(within(table).getAllByTestId("more-info-row")).toHaveLength(20);
    expect(screen.getByTestId("more-info-more")).toHaveTextContent("Showing 20 of 57");
    app.stop();
  });

  it("says so when the account has none", async () => {
    const { app } = await renderPop();
    await fireEvent.click(screen.getByTestId("pop-tab-2"));
    expect(await screen.findByTestId("more-info-empty")).toHaveTextContent("No Cases for this account");
    expect(screen.queryByTestId("more-info-table")).not.toBeInTheDocument();
    app.stop();
  });

  it("shows the core's refusal, and asks again when the tab is chosen again", async () => {
    const refusal = "Salesforce refused the query (INVALID_FIELD): ask your admin to check the layout's tab “Opportunities”.";
    const { core, app } = await renderPop({ more_info: refuse("salesforce", refusal) });
    await fireEvent.click(screen.getByTestId("pop-tab-1"));
    expect(await screen.findByTestId("more-info-error")).toHaveTextContent(refusal);

    core.handle("more_info", () => opportunities);
    await fireEvent.click(screen.getByTestId("pop-tab-0"));
    await fireEvent.click(screen.getByTestId("pop-tab-1"));
    expect(await screen.findByTestId("more-info-table")).toBeInTheDocument();
    expect(core.callsTo("more_info"), "a refusal is not an answer to keep").toHaveLength(2);
    app.stop();
  });
});

describe("more info tabs follow the layout", () => {
  it("appear, load again for a new layout, and leave as layoutApplied says", async () => {
    const { core, app } = await renderPop({ layout_status: () => layoutStatus(), more_info: () => opportunities });
    expect(screen.queryByTestId("pop-tabs")).not.toBeInTheDocument();

    await emitLayoutApplied(withTabs());
    expect(await screen.findByTestId("pop-tabs")).toBeInTheDocument();
    expect(tabNames()).toEqual(["Details", "Opportunities", "Cases"]);
    expect(core.callsTo("caller_details"), "the related lists are not asked again when tabs appear").toHaveLength(1);

    await fireEvent.click(screen.getByTestId("pop-tab-1"));
    await screen.findByTestId("more-info-table");
    await emitLayoutApplied(withTabs(undefined, { problem: "Salesforce could not be reached; the layout in force stays." }));
    expect(core.callsTo("more_info"), "a check that changed nothing does not ask again").toHaveLength(1);

    const origin = { recordId: "a0X000000000001AAA", target: "org", version: 2, modstamp: "2026-12-07T10:00:00.000Z" };
    await emitLayoutApplied(withTabs(undefined, { origin }));
    await vi.waitFor(() => expect(core.callsTo("more_info"), "a new layout is asked again").toHaveLength(2));
    expect(await screen.findByTestId("more-info-table")).toBeInTheDocument();

    await emitLayoutApplied(withTabs([cases], { origin }));
    await vi.waitFor(() => expect(tabNames()).toEqual(["Details", "Cases"]));
    expect(selectedTab(), "the tab shown left the layout: back to Details").toBe(0);
    expect(screen.queryByTestId("more-info-table")).not.toBeInTheDocument();

    await emitLayoutApplied(layoutStatus());
    await vi.waitFor(() => expect(screen.queryByTestId("pop-tabs")).not.toBeInTheDocument());
    expect(screen.getByTestId("pop-record")).toBeInTheDocument();
    expect(core.callsTo("caller_details")).toHaveLength(1);
    app.stop();
  });
});

describe("more info tabs in French and Japanese", () => {
  it("speaks French", async () => {
    const { app } = await renderPop({ more_info: (args) => moreInfo({ label: String(args.label), rows: [row(1)], total: 12 }) });
    app.apply({ type: "settingsChanged", settings: app.status!.settings, language: "fr" });
    await vi.waitFor(() => expect(tabNames()).toEqual(["Détails", "Opportunities", "Cases"]));
    expect(screen.getByRole("tablist", { name: "Informations sur la fiche" })).toBeInTheDocument();
    await fireEvent.click(screen.getByTestId("pop-tab-1"));
    expect(await screen.findByTestId("more-info-more")).toHaveTextContent("1 affichés sur 12");
    app.stop();
  });

  it("speaks Japanese", async () => {
    const { app } = await renderPop();
    app.apply({ type: "settingsChanged", settings: app.status!.settings, language: "ja" });
    await vi.waitFor(() => expect(tabNames()[0]).toBe("詳細"));
    await fireEvent.click(screen.getByTestId("pop-tab-2"));
    expect(await screen.findByTestId("more-info-empty")).toHaveTextContent("この取引先の「Cases」はありません");
    app.stop();
  });
});

describe("column headings", () => {
  it("make field API names readable", () => {
    expect(
      ["StageName", "Account.Name", "CloseDate", "Renewal_Date__c", "SLAExpirationDate__c", "Owner.Name", "Id"].map(columnLabel),
    ).toEqual(["Stage Name", "Account Name", "Close Date", "Renewal Date", "SLA Expiration Date", "Owner Name", "Id"]);
  });
});
