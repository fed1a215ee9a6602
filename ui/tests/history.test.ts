import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import App from "../src/App.svelte";
import type { CallLogInput, FormSpec, HistoryEntry, SyncState } from "../src/lib/bindings";
import { callerMatch, emitCoreEvent, fakeCore, matchedRecord, type FakeCore } from "./fake-core";

async function renderApp(core: FakeCore) {
  render(App);
  await vi.waitFor(() => expect(core.callsTo("take_pending_dial")).toHaveLength(1));
  await screen.findByTestId("view-title");
}

function input(overrides: Partial<CallLogInput> = {}): CallLogInput {
  return {
    number: "+33 1 23 45 67 89",
    callType: "outbound",
    startedAt: 1_795_000_000,
    durationSecs: 125,
    subject: "Call with Camille Martin",
    notes: "",
    disposition: "Connected",
    who: { object: "Contact", id: "003000000000001AAA", name: "Camille Martin" },
    what: null,
    custom: {},
    ...overrides,
  };
}

function entry(id: number, sync: SyncState, overrides: Partial<CallLogInput> = {}): HistoryEntry {
  return {
    log: { id, callId: `rs-${id}`, e164: "+33123456789", content: input(overrides), saved: sync.state !== "draft", revision: 1, createdAt: 0, updatedAt: 0 },
    sync,
  };
}

const spec: FormSpec = {
  layout: {
    subjectTemplate: "Call with {name}",
    subjectTemplateNoPerson: "Call {number}",
    dispositions: { source: "list", values: ["Connected", "Left voicemail"] },
    dispositionRequired: false,
    relatedObjects: ["Account", "Opportunity", "Case"],
    personEditable: true,
    autoSave: false,
    fields: [{ field: "Reason__c", label: "Reason", kind: "picklist", required: true, default: null, values: ["Billing", "Support"] }],
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
  dispositions: ["Connected", "Left voicemail"],
  picklists: [["Reason__c", ["Billing", "Support"]]],
  problem: null,
};

describe("History", () => {
  it("lists logs with their Salesforce state, the reason of a refusal, and retries on request", async () => {
    const refused = entry(2, { state: "attention", reason: "A validation rule of your org refused this log", taskId: null });
    const core = fakeCore({
      history: () => [entry(1, { state: "synced", taskId: "00T000000000001AAA", url: null }), refused],
      outbox_summary: () => ({ drafts: 0, pending: 0, attention: 1 }),
      retry_call_log: () => entry(2, { state: "pending", attempts: 0, nextAttemptAt: null, reason: null }),
    });
    await renderApp(core);
    expect(await screen.findByTestId("nav-history-attention")).toHaveTextContent("1");
    await fireEvent.click(screen.getByTestId("nav-history"));
    const rows = await screen.findAllByTestId("history-entry");
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).getByTestId("sync-state")).toHaveTextContent("In Salesforce");
    expect(within(rows[1]).getByTestId("sync-reason")).toHaveTextContent("validation rule");
    expect(screen.getByTestId("history-summary")).toHaveTextContent("1 need your attention");

    await fireEvent.click(within(rows[1]).getByTestId("history-retry"));
    expect(core.callsTo("retry_call_log")).toEqual([{ id: 2 }]);
    await vi.waitFor(() =>
      expect(within(screen.getAllByTestId("history-entry")[1]).getByTestId("sync-state")).toHaveTextContent("Waiting to be sent"),
    );
  });

  it("searches through the core and updates a row when its log is saved elsewhere", async () => {
    const core = fakeCore({ history: () => [entry(1, { state: "pending", attempts: 0, nextAttemptAt: null, reason: null })] });
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-history"));
    await screen.findByTestId("history-entry");
    await emitCoreEvent({ type: "callLogSaved", entry: entry(1, { state: "synced", taskId: "00T000000000001AAA", url: null }) });
    await vi.waitFor(() => expect(screen.getByTestId("sync-state")).toHaveTextContent("In Salesforce"));
    await fireEvent.input(screen.getByTestId("history-search"), { target: { value: "camille" } });
    await vi.waitFor(() => expect(core.callsTo("history").at(-1)).toEqual({ query: { text: "camille", from: null, until: null, limit: 200 } }));
    await fireEvent.change(screen.getByTestId("history-from"), { target: { value: "2026-12-01" } });
    await fireEvent.change(screen.getByTestId("history-until"), { target: { value: "2026-12-01" } });
    const query = core.callsTo("history").at(-1)!.query as { from: number; until: number };
    expect(query.until - query.from).toBe(24 * 3600);
    expect(new Date(query.from * 1000).getDate()).toBe(1);
  });
});

describe("the call-log form", () => {
  it("opens from the pop with the person, and shows the core's problems next to their fields", async () => {
    const core = fakeCore({
      match_number: () => callerMatch(),
      call_log_form: () => spec,
      new_call_log: (args) => input({ who: { object: "Contact", id: (args.record as { id: string }).id, name: "Camille Martin" } }),
      save_call_log: (args) => ({
        entry: { ...entry(7, { state: "draft", problems: [] }), log: { ...entry(7, { state: "draft", problems: [] }).log, content: args.input as CallLogInput, saved: false } },
        problems: [
          { field: "notes", message: "The notes are 40000 characters long; Salesforce keeps at most 32000." },
          { field: "Reason__c", message: "Reason is required." },
        ],
      }),
    });
    await renderApp(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    await fireEvent.click(await screen.findByTestId("pop-log-call"));
    expect(core.callsTo("new_call_log")[0]).toMatchObject({ callType: "outbound", record: matchedRecord() });
    const form = await screen.findByTestId("log-form");
    expect(within(form).getByTestId("picker-who-value")).toHaveTextContent("Camille Martin");
    await vi.waitFor(() => expect(within(form).getByTestId("log-disposition")).toHaveTextContent("Left voicemail"));

    await fireEvent.input(within(form).getByTestId("log-notes"), { target: { value: "x".repeat(40000) } });
    await fireEvent.click(within(form).getByTestId("log-save"));
    await vi.waitFor(() => expect(core.callsTo("save_call_log")).toHaveLength(1));
    const sent = core.callsTo("save_call_log")[0];
    expect(sent.save).toBe(true);
    expect((sent.input as CallLogInput).notes).toHaveLength(40000);
    expect(await screen.findByTestId("problem-notes")).toHaveTextContent("at most 32000");
    expect(screen.getByTestId("log-problems")).toBeInTheDocument();
    expect(screen.getByTestId("sync-state")).toHaveTextContent("Draft");
    expect((screen.getByTestId("log-notes") as HTMLTextAreaElement).value).toHaveLength(40000);
  });

  it("searches the person's open records for the related-to field", async () => {
    const core = fakeCore({
      call_log_form: () => spec,
      new_call_log: () => input(),
      search_related: () => [
        { record: { object: "Opportunity", id: "006000000000001AAA", name: "Renewal 2027" }, detail: "Negotiation", related: true },
      ],
    });
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-history"));
    await fireEvent.input(await screen.findByTestId("history-new-number"), { target: { value: "0123456789" } });
    await fireEvent.click(screen.getByTestId("history-new"));
    await fireEvent.click(await screen.findByTestId("picker-what-change"));
    expect(core.callsTo("search_related")[0]).toEqual({ who: input().who, term: "" });
    await fireEvent.click(await screen.findByTestId("picker-what-result"));
    expect(screen.getByTestId("picker-what-value")).toHaveTextContent("Renewal 2027");
  });
});
