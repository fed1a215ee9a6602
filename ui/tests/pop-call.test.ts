// The pop's Call buttons: beside the shown fields the outbound layout calls for the
// record's object, dialling through the same path as the dialer's Call.
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import PhoneView from "../src/lib/views/PhoneView.svelte";
import type { AppStatus, Layout, SearchObject } from "../src/lib/bindings";
import { AppState, appStateContext } from "../src/lib/state/app.svelte";
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
  refuse,
  registered,
  type FakeCore,
  type Handler,
} from "./fake-core";

type Overrides = Parameters<typeof fakeCore>[0];

/** `layout(callType)` with each object's phone fields replaced by `phoneFields[object]`. */
function withPhoneFields(base: Layout, phoneFields: Record<string, string[]>): Layout {
  const search: SearchObject[] = base.search.map((s) => ({ ...s, phoneFields: phoneFields[s.object] ?? s.phoneFields }));
  return { ...base, search };
}

/**
 * Outbound calls Contact's Phone and OtherPhone (and a Lead's Fax); inbound calls
 * Contact's AssistantPhone: a button beside AssistantPhone would be the inbound layout's.
 */
const outboundLayouts = () =>
  layoutStatus({
    inbound: withPhoneFields(layout("inbound"), { Contact: ["AssistantPhone"] }),
    outbound: withPhoneFields(layout("outbound"), { Contact: ["Phone", "OtherPhone", "MobilePhone"], Lead: ["Fax"] }),
  });

/** A Contact whose pop shows several numbers: some the outbound layout calls, some not. */
const contact = matchedRecord({
  fields: [
    { field: "Title", value: "Head of Purchasing" },
    { field: "Phone", value: "+33 1 23 45 67 89" },
    { field: "MobilePhone", value: "  " },
    { field: "AssistantPhone", value: "+33 1 98 76 54 32" },
    { field: "Fax", value: "+33 1 23 45 67 00" },
    { field: "OtherPhone", value: "06 12 34 56 78" },
  ],
});

const dialled: Handler = () =>
  callInfo({ id: 9, direction: "outgoing", remoteName: null, state: { state: "dialling" }, remoteUser: "+33612345678" });

/** The Phone view, started with the phone registered (unless told), showing the pop for `contact`. */
async function renderPop(overrides: Overrides = {}, status: Partial<AppStatus> = {}): Promise<{ core: FakeCore; app: AppState }> {
  const core = fakeCore({
    app_status: () => appStatus({ registration: registered, ...status }),
    layout_status: () => outboundLayouts(),
    ...overrides,
  });
  const app = new AppState();
  await app.start();
  render(PhoneView, { context: appStateContext(app) });
  await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch({ callType: "outbound", records: [contact] }) });
  await screen.findByTestId("pop-record");
  return { core, app };
}

const callButtons = () => screen.queryAllByTestId("pop-call-number");
const calledFields = () => callButtons().map((b) => b.dataset.field);

describe("pop Call buttons", () => {
  it("sit only beside shown, non-empty values of the outbound layout's phone fields for the record's object", async () => {
    const { app } = await renderPop();

    expect(
      calledFields(),
      "MobilePhone is blank, AssistantPhone is inbound's, Fax is a Lead's phone field, Title is no phone field",
    ).toEqual(["Phone", "OtherPhone"]);
    const phone = screen.getByRole("button", { name: "Call +33 1 23 45 67 89" });
    expect(phone).toHaveAttribute("data-field", "Phone");
    expect(phone.closest("dd"), "the button is beside the value it calls").toHaveTextContent("+33 1 23 45 67 89");
    expect(screen.getByRole("button", { name: "Call 06 12 34 56 78" })).toBeEnabled();
    app.stop();
  });

  it("follow a layout the core applies", async () => {
    const { app } = await renderPop();
    expect(calledFields()).toEqual(["Phone", "OtherPhone"]);

    const status = outboundLayouts();
    await emitLayoutApplied({
      ...status,
      outbound: withPhoneFields(status.outbound, { Contact: ["AssistantPhone"] }),
    });
    await vi.waitFor(() => expect(calledFields(), "the new outbound layout calls AssistantPhone only").toEqual(["AssistantPhone"]));

    await emitLayoutApplied({ ...status, outbound: withPhoneFields(status.outbound, { Contact: [] }) });
    await vi.waitFor(() => expect(callButtons(), "a layout that calls none of Contact's fields").toEqual([]));
    app.stop();
  });

  it("appear for no object the outbound layout does not search", async () => {
    const account = matchedRecord({
      object: "Account",
      id: "001000000000001AAA",
      name: "Boulangeries Dupont",
      fields: [{ field: "Phone", value: "+33 1 23 45 67 89" }],
    });
    const { app } = await renderPop();
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch({ dialled: "+33100000000", records: [account] }) });
    await vi.waitFor(() => expect(screen.getByTestId("pop-object")).toHaveTextContent("Account"));
    expect(callButtons(), "the built-in outbound layout searches Contact and Lead, not Account").toEqual([]);
    app.stop();
  });

  it("place the call with the field's value through the core's dial, as the dialer's Call does", async () => {
    const { core, app } = await renderPop({ dial: dialled });

    await fireEvent.click(screen.getByRole("button", { name: "Call 06 12 34 56 78" }));

    expect(core.callsTo("dial"), "the value as shown: the core reads it").toEqual([{ input: "06 12 34 56 78" }]);
    expect(await screen.findByTestId("call-state")).toHaveTextContent("Calling…");
    expect(screen.queryByTestId("pop-call-error")).not.toBeInTheDocument();
    app.stop();
  });

  it("are off with the dialer's reason while the phone is not registered", async () => {
    const { core, app } = await renderPop({ dial: dialled }, { registration: { state: "unregistered" } });
    const phone = screen.getByRole("button", { name: "Call +33 1 23 45 67 89" });
    expect(phone).toBeDisabled();
    expect(phone).toHaveAccessibleDescription(/once a SIP account is set up in Settings → Phone/);
    await fireEvent.click(phone);
    expect(core.callsTo("dial")).toEqual([]);

    await emitCoreEvent({ type: "registrationChanged", state: { state: "failed", reason: "The registrar refused the password." } });
    await vi.waitFor(() =>
      expect(phone).toHaveAccessibleDescription("The phone is not connected: The registrar refused the password."),
    );

    await emitCoreEvent({ type: "registrationChanged", state: registered });
    await vi.waitFor(() => expect(phone).toBeEnabled());
    expect(screen.queryByTestId("pop-call-hint")).not.toBeInTheDocument();
    app.stop();
  });

  it("during a call say the current one goes on hold, and leave the hold to the core's dial", async () => {
    const talking = callInfo({ id: 3, direction: "outgoing", remoteName: null, state: answered(), answeredAt: Date.now() - 1_000 });
    const { core, app } = await renderPop({ dial: dialled }, { calls: [talking] });
    const other = screen.getByRole("button", { name: "Call 06 12 34 56 78" });
    expect(other).toBeEnabled();
    expect(other).toHaveAccessibleDescription("Calling puts your current call on hold.");

    await fireEvent.click(other);
    await vi.waitFor(() => expect(core.callsTo("dial")).toEqual([{ input: "06 12 34 56 78" }]));
    expect(core.callsTo("hold_call"), "no hold of its own: the core's dial does it").toEqual([]);
    app.stop();
  });

  it("show the core's refusal in the card, not under the dialer", async () => {
    const { core, app } = await renderPop({
      dial: refuse("unavailable", "Calls need the UDP transport for now: choose UDP in Settings → Phone."),
    });
    const card = screen.getByTestId("pop-record");

    await fireEvent.click(within(card).getByRole("button", { name: "Call +33 1 23 45 67 89" }));

    expect(await within(card).findByTestId("pop-call-error")).toHaveTextContent("Calls need the UDP transport");
    expect(core.callsTo("dial")).toEqual([{ input: "+33 1 23 45 67 89" }]);
    expect(screen.queryByTestId("dial-call-error"), "the dialer's number was not the one refused").not.toBeInTheDocument();
    app.stop();
  });
});
