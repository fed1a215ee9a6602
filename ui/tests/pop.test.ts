import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import PhoneView from "../src/lib/views/PhoneView.svelte";
import { AppState, appStateContext } from "../src/lib/state/app.svelte";
import {
  callerMatch,
  connectedStatus,
  emitCoreEvent,
  fakeCore,
  matchedRecord,
  parisInfo,
  parisNumber,
  refuse,
  type FakeCore,
} from "./fake-core";

/** The Phone view with the app started (events flow) and the Paris number in the dialer. */
async function renderPhone(core: FakeCore, { fill = true } = {}) {
  const app = new AppState();
  await app.start();
  render(PhoneView, { context: appStateContext(app) });
  if (fill) app.dialer.fill(parisNumber);
  await vi.waitFor(() => expect(core.callsTo("salesforce_status")).toHaveLength(1));
  return app;
}

const lead = matchedRecord({
  object: "Lead",
  id: "00Q000000000001AAA",
  name: "Hugo Petit",
  matchedField: "MobilePhone",
  fields: [
    { field: "Company", value: "Petit & Fils" },
    { field: "Status", value: "Open - Not Contacted" },
  ],
});
const account = matchedRecord({
  object: "Account",
  id: "001000000000001AAA",
  name: "Boulangeries Dupont",
  fields: [{ field: "Industry", value: "Food & Beverage" }],
});

const rows = (card: HTMLElement) =>
  within(card)
    .getAllByRole("term")
    .map((term) => [term.textContent?.trim(), term.nextElementSibling?.textContent?.trim()]);

describe("look-up button", () => {
  it("is enabled for a phone number only, and asks the core with its E.164 form", async () => {
    const core = fakeCore({ match_number: () => callerMatch() });
    const app = await renderPhone(core, { fill: false });
    const lookUp = screen.getByRole("button", { name: "Look up" });
    expect(lookUp).toBe(screen.getByTestId("dial-lookup"));
    expect(lookUp, "nothing in the dialer").toBeDisabled();

    app.dialer.fill({ kind: "sip", uri: "sip:alice@example.com", display: "alice@example.com" });
    await vi.waitFor(() => expect(screen.getByTestId("dial-normalised")).toBeInTheDocument());
    expect(lookUp, "a SIP address is not looked up").toBeDisabled();

    app.dialer.fill(parisNumber);
    await vi.waitFor(() => expect(lookUp).toBeEnabled());
    await fireEvent.click(lookUp);

    expect(core.callsTo("match_number")).toEqual([{ number: "+33123456789" }]);
    expect(await screen.findByTestId("pop-record")).toBeInTheDocument();
    app.stop();
  });
});

describe("caller pop", () => {
  it("shows one record with its fields and opens it in Salesforce", async () => {
    const core = fakeCore({ open_record: () => null });
    const app = await renderPhone(core);

    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });

    const pop = await screen.findByTestId("pop");
    expect(within(pop).getByTestId("pop-number")).toHaveTextContent("+33 1 23 45 67 89");
    const card = within(pop).getByTestId("pop-record");
    expect(within(card).getByRole("heading", { name: "Camille Martin" })).toBeInTheDocument();
    expect(within(card).getByTestId("pop-object")).toHaveTextContent("Contact");
    expect(rows(card)).toEqual([
      ["Title", "Head of Purchasing"],
      ["Account", "Boulangeries Dupont"],
      ["Owner", "Jeanne Rep"],
    ]);
    expect(within(card).getByTestId("pop-matched")).toHaveTextContent("Matched on: Phone");
    expect(screen.queryByTestId("pop-checking")).not.toBeInTheDocument();
    expect(screen.queryByTestId("pop-unconfirmed")).not.toBeInTheDocument();

    await fireEvent.click(within(card).getByRole("button", { name: "Open in Salesforce" }));
    expect(core.callsTo("open_record")).toEqual([{ object: "Contact", id: "003000000000001AAA" }]);
    app.stop();
  });

  it("lists the record's open opportunities and cases, asked once with its ids", async () => {
    const core = fakeCore({
      caller_details: (args) => ({
        object: args.object,
        id: args.id,
        openOpportunities: {
          total: 4,
          top: [{ id: "006000000000001AAA", title: "Renouvellement 2027", detail: "Negotiation/Review · 2026-12-15", url: null }],
        },
        openCases: { total: 0, top: [] },
      }),
    });
    const app = await renderPhone(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });

    const opps = await screen.findByTestId("pop-related-opportunities");
    expect(opps).toHaveTextContent("Open opportunities (4)");
    expect(opps).toHaveTextContent("Renouvellement 2027");
    expect(opps).toHaveTextContent("Negotiation/Review · 2026-12-15");
    expect(screen.getByTestId("pop-related-cases")).toHaveTextContent("Open cases (0)");
    expect(core.callsTo("caller_details")).toEqual([
      { object: "Contact", id: "003000000000001AAA", accountId: "001000000000001AAA" },
    ]);
    app.stop();
  });

  it("shows the caller's local time in their time zone", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-21T08:30:00Z"));
    const core = fakeCore();
    const app = await renderPhone(core);
    const tokyo = matchedRecord({ timeZone: "Asia/Tokyo" });
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch({ records: [tokyo] }) });
    const local = await screen.findByTestId("pop-local-time");
    expect(local).toHaveTextContent(/Sat 05:30\sPM/); // 08:30 UTC is 17:30 in Tokyo
    expect(local).toHaveTextContent("Asia/Tokyo");
    vi.useRealTimers();
    app.stop();
  });

  it("says so when opportunities and cases cannot be loaded", async () => {
    const core = fakeCore({ caller_details: refuse("unavailable", "Salesforce is unavailable (HTTP 503).") });
    const app = await renderPhone(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    expect(await screen.findByTestId("pop-related-error")).toHaveTextContent("Salesforce is unavailable (HTTP 503).");
    app.stop();
  });

  it("shows why a record cannot be opened", async () => {
    const core = fakeCore({ open_record: refuse("signedOut", "Not connected to Salesforce.") });
    const app = await renderPhone(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    await fireEvent.click(await screen.findByTestId("pop-open"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Not connected to Salesforce.");
    app.stop();
  });

  it("shows an API name it does not know as it is", async () => {
    const core = fakeCore();
    const app = await renderPhone(core);
    const record = matchedRecord({
      object: "Patient__c",
      matchedField: "Emergency_Phone__c",
      fields: [{ field: "Ward__c", value: "B2" }, { field: "MailingCountry", value: "France" }],
    });
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch({ records: [record] }) });

    const card = await screen.findByTestId("pop-record");
    expect(within(card).getByTestId("pop-object")).toHaveTextContent("Patient__c");
    expect(rows(card)).toEqual([
      ["Ward__c", "B2"],
      ["Country", "France"],
    ]);
    expect(within(card).getByTestId("pop-matched")).toHaveTextContent("Matched on: Emergency_Phone__c");
    app.stop();
  });

  it("shows the local answer at once, marked, then replaces it with the live one", async () => {
    let answer: (value: unknown) => void = () => {};
    const local = callerMatch({ stage: "local", records: [matchedRecord({ name: "C. Martin", confirmed: false })] });
    const core = fakeCore({
      match_number: async () => {
        await emitCoreEvent({ type: "callerMatched", callerMatch: local });
        return new Promise((resolve) => (answer = resolve));
      },
    });
    const app = await renderPhone(core);

    await fireEvent.click(screen.getByTestId("dial-lookup"));

    expect(await screen.findByRole("heading", { name: "C. Martin" })).toBeInTheDocument();
    expect(screen.getByTestId("pop-checking")).toHaveTextContent("Checking Salesforce…");
    expect(screen.getByTestId("pop-unconfirmed")).toHaveTextContent("From local history");
    expect(screen.getByTestId("dial-lookup"), "one look-up at a time for a number").toBeDisabled();

    const live = callerMatch({ records: [matchedRecord()] });
    await emitCoreEvent({ type: "callerMatched", callerMatch: live });
    answer(live);

    expect(await screen.findByRole("heading", { name: "Camille Martin" })).toBeInTheDocument();
    await vi.waitFor(() => expect(screen.queryByTestId("pop-checking")).not.toBeInTheDocument());
    expect(screen.queryByTestId("pop-unconfirmed")).not.toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "C. Martin" })).not.toBeInTheDocument();
    expect(screen.getByTestId("dial-lookup")).toBeEnabled();
    app.stop();
  });

  it("ignores a local answer that arrives after the live one", async () => {
    const core = fakeCore();
    const app = await renderPhone(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    await emitCoreEvent({
      type: "callerMatched",
      callerMatch: callerMatch({ stage: "local", records: [matchedRecord({ name: "Old name", confirmed: false })] }),
    });
    await vi.waitFor(() => expect(screen.getByTestId("pop-record")).toBeInTheDocument());
    expect(screen.getByTestId("pop-record-name")).toHaveTextContent("Camille Martin");
    expect(screen.queryByTestId("pop-checking")).not.toBeInTheDocument();
    app.stop();
  });

  it("keeps a local-only answer with the core's reason", async () => {
    const core = fakeCore({ salesforce_status: () => connectedStatus() });
    const app = await renderPhone(core);
    await emitCoreEvent({
      type: "callerMatched",
      callerMatch: callerMatch({
        stage: "localOnly",
        records: [matchedRecord({ confirmed: false })],
        problem: "Salesforce cannot be reached: the network is down.",
      }),
    });

    expect(await screen.findByTestId("pop-problem")).toHaveTextContent("Salesforce cannot be reached: the network is down.");
    expect(screen.getByTestId("pop-unconfirmed")).toBeInTheDocument();
    expect(screen.queryByTestId("pop-checking")).not.toBeInTheDocument();
    expect(screen.queryByTestId("pop-connect"), "signed in as far as the app knows").not.toBeInTheDocument();
    app.stop();
  });

  it("offers to connect when the local-only answer comes from being signed out", async () => {
    const core = fakeCore();
    const app = await renderPhone(core);
    await emitCoreEvent({
      type: "callerMatched",
      callerMatch: callerMatch({
        stage: "localOnly",
        records: [matchedRecord({ confirmed: false, url: null })],
        problem: "Not connected to Salesforce.",
      }),
    });

    const problem = await screen.findByTestId("pop-problem");
    expect(problem).toHaveTextContent("Not connected to Salesforce.");
    await fireEvent.click(within(problem).getByRole("button", { name: "Connect to Salesforce" }));
    expect(app.view).toBe("settings");
    app.stop();
  });

  it("lists several records in the core's order; one can be picked and left again", async () => {
    const core = fakeCore({ open_record: () => null });
    const app = await renderPhone(core);
    await emitCoreEvent({
      type: "callerMatched",
      callerMatch: callerMatch({ records: [lead, matchedRecord(), account] }),
    });

    const chooser = await screen.findByTestId("pop-chooser");
    expect(within(chooser).getByRole("heading")).toHaveTextContent("3 records have this number");
    const choices = within(chooser).getAllByTestId("pop-choice");
    expect(choices.map((c) => c.textContent?.replace(/\s+/g, " ").trim())).toEqual([
      "Hugo Petit Lead Petit & Fils",
      "Camille Martin Contact Head of Purchasing",
      "Boulangeries Dupont Account Food & Beverage",
    ]);
    expect(screen.queryByTestId("pop-record")).not.toBeInTheDocument();

    await fireEvent.click(choices[0]);
    const card = screen.getByTestId("pop-record");
    expect(within(card).getByRole("heading", { name: "Hugo Petit" })).toBeInTheDocument();
    expect(rows(card)).toEqual([
      ["Company", "Petit & Fils"],
      ["Status", "Open - Not Contacted"],
    ]);
    expect(within(card).getByTestId("pop-matched")).toHaveTextContent("Matched on: Mobile");
    expect(screen.queryByTestId("pop-chooser")).not.toBeInTheDocument();
    await fireEvent.click(screen.getByTestId("pop-open"));
    expect(core.callsTo("open_record")).toEqual([{ object: "Lead", id: "00Q000000000001AAA" }]);

    await fireEvent.click(screen.getByRole("button", { name: "Back to all matches" }));
    expect(within(screen.getByTestId("pop-chooser")).getAllByTestId("pop-choice")).toHaveLength(3);
    app.stop();
  });

  it("says so for an internal call and searches nothing", async () => {
    const core = fakeCore();
    const app = await renderPhone(core);
    await emitCoreEvent({
      type: "callerMatched",
      callerMatch: callerMatch({ internal: true, records: [] }),
    });
    expect(await screen.findByTestId("pop-internal")).toHaveTextContent("Internal call — not searched");
    expect(screen.queryByTestId("pop-create")).not.toBeInTheDocument();
    expect(screen.queryByTestId("pop-none")).not.toBeInTheDocument();
    app.stop();
  });

  it("shows a short extension as dialled (it has no E.164 form)", async () => {
    const core = fakeCore();
    const app = await renderPhone(core, { fill: false });
    await emitCoreEvent({
      type: "callerMatched",
      callerMatch: callerMatch({ dialled: "2041", number: null, internal: true, records: [] }),
    });
    expect(await screen.findByTestId("pop-number")).toHaveTextContent("2041");
    expect(screen.getByTestId("pop-internal")).toHaveTextContent("Internal call — not searched");
    app.stop();
  });

  it("shows the core's refusal; signed out, it offers the way to Settings", async () => {
    const core = fakeCore({
      match_number: refuse("signedOut", "Not connected to Salesforce: sign in from Settings."),
    });
    const app = await renderPhone(core);
    await fireEvent.click(screen.getByTestId("dial-lookup"));

    const error = await screen.findByRole("alert");
    expect(error).toBe(screen.getByTestId("pop-error"));
    expect(error).toHaveTextContent("Not connected to Salesforce: sign in from Settings.");
    await fireEvent.click(within(error).getByRole("button", { name: "Connect to Salesforce" }));
    expect(app.view).toBe("settings");
    app.stop();
  });

  it("shows another refusal without the Settings link", async () => {
    const core = fakeCore({ match_number: refuse("unavailable", "Salesforce is down for maintenance.") });
    const app = await renderPhone(core);
    await fireEvent.click(screen.getByTestId("dial-lookup"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Salesforce is down for maintenance.");
    expect(screen.queryByTestId("pop-connect")).not.toBeInTheDocument();
    app.stop();
  });

  it("closes on request", async () => {
    const core = fakeCore();
    const app = await renderPhone(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    await fireEvent.click(await screen.findByRole("button", { name: "Close" }));
    expect(screen.queryByTestId("pop")).not.toBeInTheDocument();
    app.stop();
  });
});

describe("nobody has the number", () => {
  const nobody = callerMatch({ records: [] });

  it("offers to create a Lead or Contact and needs a last name", async () => {
    const core = fakeCore({ match_number: () => nobody });
    const app = await renderPhone(core);
    await fireEvent.click(screen.getByTestId("dial-lookup"));

    expect(await screen.findByTestId("pop-none")).toHaveTextContent("No one in Salesforce has this number");
    const form = screen.getByTestId("pop-create");
    expect(within(form).getByRole("radio", { name: "Lead" })).toBe(screen.getByTestId("pop-create-lead"));
    expect(screen.getByTestId("pop-create-lead")).toBeChecked();
    expect(screen.getByLabelText("Company")).toBe(screen.getByTestId("pop-create-company"));

    await fireEvent.click(screen.getByTestId("pop-create-submit"));

    expect(await screen.findByRole("alert")).toHaveTextContent("Enter a last name.");
    const lastName = screen.getByLabelText("Last name");
    expect(lastName).toHaveAttribute("aria-invalid", "true");
    expect(lastName).toHaveAccessibleDescription("Enter a last name.");
    expect(core.callsTo("create_caller_record")).toEqual([]);

    await fireEvent.click(screen.getByTestId("pop-create-contact"));
    expect(screen.queryByTestId("pop-create-company"), "a company is for Leads only").not.toBeInTheDocument();
    app.stop();
  });

  it("creates a Contact with the E.164 number and shows it as the pop", async () => {
    const created = matchedRecord({ id: "003000000000009AAA", name: "Durand", fields: [] });
    const core = fakeCore({ match_number: () => nobody, create_caller_record: () => created, open_record: () => null });
    const app = await renderPhone(core);
    await fireEvent.click(screen.getByTestId("dial-lookup"));
    await screen.findByTestId("pop-create");

    await fireEvent.click(screen.getByTestId("pop-create-contact"));
    await fireEvent.input(screen.getByTestId("pop-create-last-name"), { target: { value: "Durand" } });
    await fireEvent.click(screen.getByTestId("pop-create-submit"));

    expect(core.callsTo("create_caller_record")).toEqual([
      { object: "Contact", number: "+33123456789", lastName: "Durand", company: null },
    ]);
    const card = await screen.findByTestId("pop-record");
    expect(within(card).getByRole("heading", { name: "Durand" })).toBeInTheDocument();
    expect(screen.getByTestId("pop-created")).toHaveTextContent("Created in Salesforce.");
    expect(screen.queryByTestId("pop-create")).not.toBeInTheDocument();
    expect(screen.queryByTestId("pop-none")).not.toBeInTheDocument();
    await fireEvent.click(within(card).getByTestId("pop-open"));
    expect(core.callsTo("open_record")).toEqual([{ object: "Contact", id: "003000000000009AAA" }]);

    // The next look-up of the number finds the new record.
    core.handle("match_number", () => callerMatch({ records: [created] }));
    await fireEvent.click(screen.getByTestId("dial-lookup"));
    expect(screen.queryByTestId("pop-create"), "the created record stays while checking").not.toBeInTheDocument();
    await vi.waitFor(() => expect(screen.queryByTestId("pop-created")).not.toBeInTheDocument());
    expect(screen.getByTestId("pop-record-name")).toHaveTextContent("Durand");
    expect(core.callsTo("match_number")).toHaveLength(2);
    app.stop();
  });

  it("sends a Lead's company, and shows the core's refusal in the form", async () => {
    const core = fakeCore({
      match_number: () => nobody,
      create_caller_record: refuse("salesforce", "Salesforce refused the Lead: a duplicate rule blocked it."),
    });
    const app = await renderPhone(core);
    await fireEvent.click(screen.getByTestId("dial-lookup"));
    await screen.findByTestId("pop-create");

    await fireEvent.input(screen.getByTestId("pop-create-last-name"), { target: { value: "Petit" } });
    await fireEvent.input(screen.getByTestId("pop-create-company"), { target: { value: "Petit & Fils" } });
    await fireEvent.click(screen.getByTestId("pop-create-submit"));

    expect(core.callsTo("create_caller_record")).toEqual([
      { object: "Lead", number: "+33123456789", lastName: "Petit", company: "Petit & Fils" },
    ]);
    expect(await screen.findByTestId("pop-create-error")).toHaveTextContent("a duplicate rule blocked it.");
    expect(screen.getByTestId("pop-create")).toBeInTheDocument();
    app.stop();
  });

  it("does not offer to create when Salesforce could not be asked", async () => {
    const core = fakeCore();
    const app = await renderPhone(core);
    await emitCoreEvent({
      type: "callerMatched",
      callerMatch: callerMatch({ stage: "localOnly", records: [], problem: "Salesforce cannot be reached." }),
    });
    expect(await screen.findByTestId("pop-none")).toHaveTextContent("No one with this number in the local history.");
    expect(screen.getByTestId("pop-problem")).toHaveTextContent("Salesforce cannot be reached.");
    expect(screen.queryByTestId("pop-create")).not.toBeInTheDocument();
    app.stop();
  });
});

describe("a look-up for another number", () => {
  it("does not show answers for the number the rep has left", async () => {
    const other = { ...parisInfo, e164: "+33987654321", international: "+33 9 87 65 43 21" };
    let answer: (value: unknown) => void = () => {};
    const core = fakeCore({ match_number: () => new Promise((resolve) => (answer = resolve)) });
    const app = await renderPhone(core);
    await fireEvent.click(screen.getByTestId("dial-lookup"));

    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch({ number: other }) });
    expect(screen.getByTestId("pop-checking")).toBeInTheDocument();
    expect(screen.queryByTestId("pop-record")).not.toBeInTheDocument();

    answer(callerMatch());
    expect(await screen.findByTestId("pop-record")).toBeInTheDocument();
    expect(screen.getByTestId("pop-number")).toHaveTextContent("+33 1 23 45 67 89");
    app.stop();
  });
});

describe("pop in French and Japanese", () => {
  const many = callerMatch({ records: [lead, matchedRecord(), account] });

  it("speaks French", async () => {
    const core = fakeCore({ salesforce_status: () => connectedStatus() });
    const app = await renderPhone(core);
    app.apply({ type: "settingsChanged", settings: app.status!.settings, language: "fr" });
    await emitCoreEvent({ type: "callerMatched", callerMatch: many });

    const chooser = await screen.findByTestId("pop-chooser");
    expect(within(chooser).getByRole("heading")).toHaveTextContent("3 fiches ont ce numéro");
    expect(within(chooser).getAllByTestId("pop-choice").map((c) => c.querySelector(".pick-object")?.textContent)).toEqual([
      "Piste",
      "Contact",
      "Compte",
    ]);
    await fireEvent.click(within(chooser).getAllByTestId("pop-choice")[1]);
    const card = screen.getByTestId("pop-record");
    expect(rows(card).map(([label]) => label)).toEqual(["Titre", "Compte", "Propriétaire"]);
    expect(within(card).getByTestId("pop-matched")).toHaveTextContent("Numéro trouvé dans : Téléphone");
    expect(within(card).getByRole("button", { name: "Ouvrir dans Salesforce" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Retour à toutes les correspondances" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Rechercher" })).toBe(screen.getByTestId("dial-lookup"));

    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch({ records: [] }) });
    expect(await screen.findByTestId("pop-none")).toHaveTextContent("Personne dans Salesforce n’a ce numéro");
    expect(screen.getByRole("radio", { name: "Piste" })).toBeChecked();
    expect(screen.getByLabelText("Nom")).toBe(screen.getByTestId("pop-create-last-name"));
    expect(screen.getByTestId("pop-create-submit")).toHaveTextContent("Créer");
    app.stop();
  });

  it("speaks Japanese", async () => {
    const core = fakeCore();
    const app = await renderPhone(core);
    app.apply({ type: "settingsChanged", settings: app.status!.settings, language: "ja" });
    await emitCoreEvent({
      type: "callerMatched",
      callerMatch: callerMatch({ stage: "local", records: [matchedRecord({ confirmed: false })] }),
    });

    const card = await screen.findByTestId("pop-record");
    expect(within(card).getByTestId("pop-object")).toHaveTextContent("取引先責任者");
    expect(rows(card).map(([label]) => label)).toEqual(["役職", "取引先", "所有者"]);
    expect(within(card).getByRole("button", { name: "Salesforceで開く" })).toBeInTheDocument();
    expect(screen.getByTestId("pop-checking")).toHaveTextContent("Salesforce を確認しています…");
    expect(screen.getByTestId("pop-unconfirmed")).toHaveTextContent("ローカル履歴の情報");

    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch({ internal: true, records: [] }) });
    expect(await screen.findByTestId("pop-internal")).toHaveTextContent("社内通話 — 検索していません");

    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch({ records: [] }) });
    expect(await screen.findByRole("radio", { name: "リード" })).toBeChecked();
    expect(screen.getByRole("radio", { name: "取引先責任者" })).not.toBeChecked();
    app.stop();
  });
});
