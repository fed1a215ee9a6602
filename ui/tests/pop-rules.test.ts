import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import App from "../src/App.svelte";
import type { CallLogInput, CallerMatch, FormSpec } from "../src/lib/bindings";
import {
  answered,
  appStatus,
  callInfo,
  callerMatch,
  emitCoreEvent,
  emitLayoutApplied,
  fakeCore,
  layout,
  layoutStatus,
  matchedRecord,
  popRules,
  registered,
  type FakeCore,
} from "./fake-core";

type Overrides = Parameters<typeof fakeCore>[0];

function logInput(overrides: Partial<CallLogInput> = {}): CallLogInput {
  return {
    number: "+33 1 23 45 67 89",
    callType: "inbound",
    startedAt: 1_795_000_000,
    durationSecs: 0,
    subject: "",
    notes: "",
    disposition: null,
    who: { object: "Contact", id: "003000000000001AAA", name: "Camille Martin" },
    what: null,
    custom: {},
    ...overrides,
  };
}

const formSpec = (dispositions: string[], personEditable = true): FormSpec => ({
  layout: { ...layout().callLog, personEditable, dispositions: { source: "list", values: dispositions } },
  dispositions,
  picklists: [],
  problem: null,
});

/** The window, started, with the phone registered and the call-log commands answered. */
async function renderApp(overrides: Overrides = {}): Promise<FakeCore> {
  const core = fakeCore({
    app_status: () => appStatus({ registration: registered }),
    open_record: () => null,
    new_call_log: (args) => logInput({ callType: args.callType as CallLogInput["callType"] }),
    call_log_form: () => formSpec(["Connected", "Left voicemail"]),
    ...overrides,
  });
  render(App);
  await vi.waitFor(() => expect(core.callsTo("take_pending_dial")).toHaveLength(1));
  await screen.findByTestId("view-title");
  return core;
}

const matched = (match: CallerMatch) => emitCoreEvent({ type: "callerMatched", callerMatch: match });

const hugo = matchedRecord({ object: "Lead", id: "00Q000000000001AAA", name: "Hugo Petit", fields: [{ field: "Company", value: "Petit & Fils" }] });
const acme = matchedRecord({ object: "Account", id: "001000000000009AAA", name: "Acme Corp", fields: [] });

describe("pop rules: no record", () => {
  it("offers to create a Lead or Contact by default, and shows only the number with showNumber", async () => {
    await renderApp();
    await matched(callerMatch({ records: [] }));
    expect(await screen.findByTestId("pop-create")).toBeInTheDocument();

    await matched(callerMatch({ dialled: "+33987654321", number: null, records: [], pop: popRules({ onNone: "showNumber" }) }));
    await vi.waitFor(() => expect(screen.getByTestId("pop-number")).toHaveTextContent("+33987654321"));
    expect(screen.getByTestId("pop-none")).toHaveTextContent("No one in Salesforce has this number");
    expect(screen.queryByTestId("pop-create"), "the layout shows the number only").not.toBeInTheDocument();
  });
});

describe("pop rules: several records", () => {
  it("shows the first record by priority, with the others one click away", async () => {
    await renderApp();
    await matched(callerMatch({ records: [matchedRecord(), hugo, acme], pop: popRules({ onMany: "firstByPriority" }) }));

    const card = await screen.findByTestId("pop-record");
    expect(within(card).getByTestId("pop-record-name")).toHaveTextContent("Camille Martin");
    expect(screen.queryByTestId("pop-back"), "there is no list to go back to").not.toBeInTheDocument();
    const others = screen.getByTestId("pop-others");
    expect(others).toHaveTextContent("2 other record(s)");
    expect(others).toHaveAttribute("aria-expanded", "false");
    expect(screen.queryByTestId("pop-chooser")).not.toBeInTheDocument();

    await fireEvent.click(others);
    expect(others).toHaveAttribute("aria-expanded", "true");
    const chooser = screen.getByTestId("pop-chooser");
    const choices = within(chooser).getAllByTestId("pop-choice");
    expect(choices.map((c) => c.textContent)).toEqual([
      expect.stringContaining("Hugo Petit"),
      expect.stringContaining("Acme Corp"),
    ]);

    await fireEvent.click(choices[1]);
    await vi.waitFor(() => expect(screen.getByTestId("pop-record-name")).toHaveTextContent("Acme Corp"));
    expect(screen.queryByTestId("pop-chooser"), "picking closes the list").not.toBeInTheDocument();
    await fireEvent.click(screen.getByTestId("pop-others"));
    expect(within(screen.getByTestId("pop-chooser")).getAllByTestId("pop-choice").map((c) => c.textContent)).toEqual([
      expect.stringContaining("Camille Martin"),
      expect.stringContaining("Hugo Petit"),
    ]);
  });

  it("keeps the chooser for the default rule", async () => {
    await renderApp();
    await matched(callerMatch({ records: [matchedRecord(), hugo] }));
    expect(await screen.findByTestId("pop-chooser")).toBeInTheDocument();
    expect(screen.queryByTestId("pop-record")).not.toBeInTheDocument();
    expect(screen.queryByTestId("pop-others")).not.toBeInTheDocument();
  });
});

describe("pop rules: one record", () => {
  it("popAndLog opens the call-log form for the record once Salesforce answered, and only once", async () => {
    const core = await renderApp();
    const rules = popRules({ onOne: "popAndLog" });
    await matched(callerMatch({ stage: "local", pop: rules, records: [matchedRecord({ confirmed: false })] }));
    await screen.findByTestId("pop-record");
    expect(core.callsTo("new_call_log"), "a local answer may still change").toEqual([]);

    await matched(callerMatch({ pop: rules }));
    const form = await screen.findByTestId("log-form");
    expect(screen.getByTestId("nav-history")).toHaveAttribute("aria-current", "page");
    expect(within(form).getByTestId("picker-who-value")).toHaveTextContent("Camille Martin");
    expect(core.callsTo("new_call_log")).toEqual([
      { number: "+33 1 23 45 67 89", callType: "outbound", record: matchedRecord() },
    ]);

    await fireEvent.click(screen.getByTestId("nav-phone"));
    await matched(callerMatch({ pop: rules }));
    await screen.findByTestId("pop-record");
    expect(core.callsTo("new_call_log"), "never twice for the same caller").toHaveLength(1);
  });

  it("popAndLog never replaces a call log the rep is writing", async () => {
    const core = await renderApp();
    await fireEvent.click(screen.getByTestId("nav-history"));
    await fireEvent.input(screen.getByTestId("history-new-number"), { target: { value: "+81 3-1234-5678" } });
    await fireEvent.click(screen.getByTestId("history-new"));
    await fireEvent.input(await screen.findByTestId("log-notes"), { target: { value: "Wants a demo" } });

    await fireEvent.click(screen.getByTestId("nav-phone"));
    await matched(callerMatch({ pop: popRules({ onOne: "popAndLog" }) }));
    await screen.findByTestId("pop-record");
    expect(core.callsTo("new_call_log"), "only the log the rep opened").toHaveLength(1);
    await fireEvent.click(screen.getByTestId("nav-history"));
    expect(screen.getByTestId<HTMLTextAreaElement>("log-notes").value).toBe("Wants a demo");
  });

  it("openInSalesforce opens a single confirmed record once, with the Open in Salesforce command", async () => {
    const core = await renderApp();
    const rules = popRules({ openInSalesforce: true });
    await matched(callerMatch({ stage: "local", pop: rules, records: [matchedRecord({ confirmed: false })] }));
    await screen.findByTestId("pop-record");
    expect(core.callsTo("open_record"), "not before Salesforce confirmed it").toEqual([]);

    await matched(callerMatch({ pop: rules }));
    await vi.waitFor(() => expect(core.callsTo("open_record")).toEqual([{ object: "Contact", id: "003000000000001AAA" }]));
    await matched(callerMatch({ pop: rules }));
    await fireEvent.click(screen.getByTestId("nav-settings"));
    await fireEvent.click(screen.getByTestId("nav-phone"));
    await screen.findByTestId("pop-record");
    expect(core.callsTo("open_record"), "never twice for the same match").toHaveLength(1);

    await matched(callerMatch({ dialled: "+33611223344", number: null, pop: rules, records: [matchedRecord(), hugo] }));
    await screen.findByTestId("pop-chooser");
    expect(core.callsTo("open_record"), "not when several records match").toHaveLength(1);
  });
});

describe("pop rules: on answer", () => {
  it("keeps the pop (and what it does) until the incoming call is answered", async () => {
    const core = await renderApp();
    await emitCoreEvent({ type: "callChanged", call: callInfo({ id: 3 }) });
    await matched(callerMatch({ pop: popRules({ on: "answer", openInSalesforce: true }) }));

    const card = await screen.findByTestId("incoming-call");
    expect(within(card).getByTestId("incoming-name"), "the ringing card still names the caller").toHaveTextContent(
      "Camille Martin",
    );
    expect(screen.queryByTestId("pop"), "no pop while it rings").not.toBeInTheDocument();
    expect(core.callsTo("open_record")).toEqual([]);

    await emitCoreEvent({ type: "callChanged", call: callInfo({ id: 3, state: answered(), answeredAt: Date.now() }) });
    const pop = await screen.findByTestId("pop");
    expect(within(pop).getByTestId("pop-record-name")).toHaveTextContent("Camille Martin");
    await vi.waitFor(() => expect(core.callsTo("open_record")).toHaveLength(1));
  });

  it("popAndLog on a ringing call opens an inbound log while the call still rings", async () => {
    const core = await renderApp();
    await emitCoreEvent({ type: "callChanged", call: callInfo({ id: 3 }) });
    await matched(callerMatch({ pop: popRules({ onOne: "popAndLog" }) }));
    await screen.findByTestId("log-form");
    expect(core.callsTo("new_call_log")[0]).toMatchObject({ callType: "inbound", record: matchedRecord() });
    expect(screen.getByTestId("incoming-call"), "Answer is still at hand").toBeInTheDocument();
  });

  it("shows the pop in the ringing card when the layout pops on ring", async () => {
    await renderApp();
    await emitCoreEvent({ type: "callChanged", call: callInfo({ id: 3 }) });
    await matched(callerMatch());
    const card = await screen.findByTestId("incoming-call");
    await vi.waitFor(() => expect(within(card).getByTestId("pop")).toBeInTheDocument());
  });
});

describe("a layout applied live", () => {
  it("makes an open call-log form ask for its fields again", async () => {
    const core = await renderApp();
    await matched(callerMatch());
    await fireEvent.click(await screen.findByTestId("pop-log-call"));
    const form = await screen.findByTestId("log-form");
    await vi.waitFor(() => expect(within(form).getByTestId("log-disposition")).toHaveTextContent("Left voicemail"));
    expect(core.callsTo("call_log_form")).toHaveLength(1);

    core.handle("call_log_form", () => formSpec(["Meeting booked"], false));
    await emitLayoutApplied(layoutStatus({ name: "Inside sales" }));
    await vi.waitFor(() => expect(within(form).getByTestId("log-disposition")).toHaveTextContent("Meeting booked"));
    expect(within(form).getByTestId("log-disposition")).not.toHaveTextContent("Left voicemail");
    expect(form, "the admin fixed the person").toHaveTextContent("Set by your admin: the call’s match.");
    expect(core.callsTo("call_log_form")).toHaveLength(2);
  });
});
