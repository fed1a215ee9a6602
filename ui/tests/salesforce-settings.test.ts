import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import SalesforceSettings from "../src/lib/views/settings/SalesforceSettings.svelte";
import { AppState, appStateContext } from "../src/lib/state/app.svelte";
import {
  appStatus,
  connectedStatus,
  emitCoreEvent,
  fakeCore,
  refuse,
  salesforceStatus,
  settings,
  type FakeCore,
} from "./fake-core";

/** Starts the app (status, events) and renders the Salesforce section alone. */
async function renderSalesforce(core: FakeCore) {
  const app = new AppState();
  await app.start();
  render(SalesforceSettings, { context: appStateContext(app) });
  await vi.waitFor(() => expect(core.callsTo("salesforce_status").length).toBeGreaterThanOrEqual(2));
  return app;
}

const withClientId = (overrides: Parameters<typeof settings>[0] = {}) =>
  appStatus({ settings: settings({ salesforceClientId: "3MVG9.ringside", ...overrides }) });

describe("Salesforce settings", () => {
  it("shows the org, the API usage and a Sign out button when connected", async () => {
    const core = fakeCore({ salesforce_status: () => connectedStatus(), salesforce_sign_out: () => null });
    const app = await renderSalesforce(core);
    const section = screen.getByTestId("settings-salesforce");
    expect(within(section).getByRole("heading", { name: "Salesforce" })).toBeInTheDocument();

    expect(await screen.findByText("Connected to https://acme.my.salesforce.com")).toBe(screen.getByTestId("sf-status"));
    expect(screen.getByTestId("sf-usage")).toHaveTextContent("API calls today: 1,234 of 15,000");
    expect(screen.queryByTestId("sf-connect")).not.toBeInTheDocument();

    core.handle("salesforce_status", () => salesforceStatus({ clientIdSet: true }));
    await fireEvent.click(screen.getByTestId("sf-sign-out"));

    expect(core.callsTo("salesforce_sign_out")).toEqual([{}]);
    await vi.waitFor(() => expect(screen.getByTestId("sf-status")).toHaveTextContent("Not connected"));
    expect(screen.queryByTestId("sf-usage")).not.toBeInTheDocument();
    app.stop();
  });

  it("keeps Connect disabled until a consumer key is saved, which happens on blur", async () => {
    const core = fakeCore({ change_setting: () => withClientId() });
    const app = await renderSalesforce(core);
    const connect = screen.getByTestId("sf-connect");
    expect(screen.getByTestId("sf-status")).toHaveTextContent("Not connected");
    expect(connect).toBeDisabled();
    expect(connect).toHaveAccessibleDescription("Enter the consumer key first.");

    const key = screen.getByLabelText("Consumer key");
    expect(key).toBe(screen.getByTestId("input-sf-client-id"));
    await fireEvent.input(key, { target: { value: "3MVG9.ringside" } });
    expect(core.callsTo("change_setting"), "nothing is saved while typing").toEqual([]);
    await fireEvent.keyDown(key, { key: "Enter" });
    await fireEvent.blur(key);

    expect(core.callsTo("change_setting"), "Enter then blur saves once").toEqual([
      { change: { key: "salesforceClientId", value: "3MVG9.ringside" } },
    ]);
    await vi.waitFor(() => expect(screen.getByTestId("sf-connect")).toBeEnabled());
    app.stop();
  });

  it("shows the core's refusal of a consumer key next to the field", async () => {
    const core = fakeCore({ change_setting: refuse("invalidInput", "“a b” is not a consumer key.") });
    const app = await renderSalesforce(core);
    const key = screen.getByTestId("input-sf-client-id");
    await fireEvent.input(key, { target: { value: "a b" } });
    await fireEvent.blur(key);

    expect(await screen.findByTestId("sf-client-id-error")).toHaveTextContent("“a b” is not a consumer key.");
    expect(screen.getByRole("alert")).toBe(screen.getByTestId("sf-client-id-error"));
    expect(key).toHaveAttribute("aria-invalid", "true");
    expect(key).toHaveValue("a b");
    app.stop();
  });

  it("waits for the browser while signing in, then shows the connection", async () => {
    let finish: (value: unknown) => void = () => {};
    const core = fakeCore({
      app_status: () => withClientId(),
      salesforce_status: () => salesforceStatus({ clientIdSet: true }),
      salesforce_sign_in: () => new Promise((resolve) => (finish = resolve)),
    });
    const app = await renderSalesforce(core);

    await fireEvent.click(screen.getByTestId("sf-connect"));

    expect(core.callsTo("salesforce_sign_in")).toEqual([{}]);
    const waiting = screen.getByTestId("sf-connect");
    expect(waiting).toHaveTextContent("Waiting for the browser…");
    expect(waiting).toBeDisabled();

    await emitCoreEvent({ type: "salesforceChanged", status: connectedStatus() });
    finish(connectedStatus().connection);

    expect(await screen.findByTestId("sf-sign-out")).toBeInTheDocument();
    expect(screen.getByTestId("sf-status")).toHaveTextContent("Connected to https://acme.my.salesforce.com");
    app.stop();
  });

  it("shows the core's sentence when signing in fails, and Connect again", async () => {
    const core = fakeCore({
      app_status: () => withClientId(),
      salesforce_sign_in: refuse("salesforce", "Salesforce refused the sign-in: this connected app is not approved."),
    });
    const app = await renderSalesforce(core);

    await fireEvent.click(screen.getByTestId("sf-connect"));

    expect(await screen.findByRole("alert")).toHaveTextContent("this connected app is not approved.");
    expect(screen.getByTestId("sf-connect")).toHaveTextContent("Connect to Salesforce");
    expect(screen.getByTestId("sf-connect")).toBeEnabled();
    app.stop();
  });

  it("saves Production or Sandbox at once, a custom domain when the field is left", async () => {
    const core = fakeCore({
      change_setting: ({ change }) => {
        const value = (change as { value: string }).value;
        return appStatus({
          settings: settings({ salesforceLogin: value.includes(".") ? `https://${value}` : value }),
        });
      },
    });
    const app = await renderSalesforce(core);
    const login = screen.getByLabelText("Sign in to");
    expect(login).toBe(screen.getByTestId("select-sf-login"));
    expect(within(login).getAllByRole("option").map((o) => o.textContent?.trim())).toEqual([
      "Production",
      "Sandbox",
      "Custom domain…",
    ]);
    expect(login).toHaveValue("production");
    expect(screen.queryByTestId("input-sf-domain")).not.toBeInTheDocument();

    await fireEvent.change(login, { target: { value: "sandbox" } });
    expect(await screen.findByText("Saved.")).toBeInTheDocument();
    expect(login).toHaveValue("sandbox");

    await fireEvent.change(login, { target: { value: "custom" } });
    const domain = screen.getByTestId<HTMLInputElement>("input-sf-domain");
    expect(core.callsTo("change_setting"), "choosing Custom alone saves nothing").toHaveLength(1);
    await fireEvent.input(domain, { target: { value: "acme.my.salesforce.com" } });
    await fireEvent.blur(domain);

    expect(core.callsTo("change_setting")).toEqual([
      { change: { key: "salesforceLogin", value: "sandbox" } },
      { change: { key: "salesforceLogin", value: "acme.my.salesforce.com" } },
    ]);
    await vi.waitFor(() => expect(domain.value, "the address the core kept").toBe("https://acme.my.salesforce.com"));
    expect(login).toHaveValue("custom");
    app.stop();
  });

  it("does not save an empty custom domain (the core would read it as Production)", async () => {
    const core = fakeCore();
    const app = await renderSalesforce(core);
    await fireEvent.change(screen.getByTestId("select-sf-login"), { target: { value: "custom" } });
    const domain = screen.getByTestId("input-sf-domain");
    await fireEvent.input(domain, { target: { value: "  " } });
    await fireEvent.keyDown(domain, { key: "Enter" });

    expect(await screen.findByRole("alert")).toHaveTextContent("Enter your My Domain address.");
    expect(core.callsTo("change_setting")).toEqual([]);
    app.stop();
  });

  it("keeps the callback port under Advanced and sends it as a number", async () => {
    const core = fakeCore({
      change_setting: () => appStatus({ settings: settings({ salesforceCallbackPort: 7890 }) }),
    });
    const app = await renderSalesforce(core);
    const port = screen.getByTestId<HTMLInputElement>("input-sf-port");
    expect(port.closest("details")).not.toHaveAttribute("open");
    expect(port.value, "0 means a free port each time").toBe("0");

    await fireEvent.input(port, { target: { value: "70000" } });
    await fireEvent.blur(port);
    expect(await screen.findByRole("alert")).toHaveTextContent("Enter a whole number from 0 to 65535.");
    expect(core.callsTo("change_setting")).toEqual([]);

    await fireEvent.input(port, { target: { value: "7890" } });
    await fireEvent.blur(port);
    expect(core.callsTo("change_setting")).toEqual([{ change: { key: "salesforceCallbackPort", value: 7890 } }]);
    await vi.waitFor(() => expect(screen.queryByRole("alert")).not.toBeInTheDocument());
    app.stop();
  });

  it("reads the status on open and follows salesforceChanged events", async () => {
    const core = fakeCore();
    const app = await renderSalesforce(core);
    await vi.waitFor(() => expect(screen.getByTestId("sf-status")).toHaveTextContent("Not connected"));

    await emitCoreEvent({ type: "salesforceChanged", status: connectedStatus({ apiUsage: { used: 20, max: 100 } }) });

    await vi.waitFor(() => expect(screen.getByTestId("sf-usage")).toHaveTextContent("API calls today: 20 of 100"));
    expect(screen.getByTestId("sf-status")).toHaveTextContent("Connected to https://acme.my.salesforce.com");
    app.stop();
  });

  it("speaks French and Japanese", async () => {
    const core = fakeCore({ app_status: () => appStatus({ language: "fr" }), salesforce_status: () => connectedStatus() });
    const app = await renderSalesforce(core);
    expect(await screen.findByText("Connecté à https://acme.my.salesforce.com")).toBeInTheDocument();
    expect(screen.getByTestId("sf-usage")).toHaveTextContent(/^Appels d’API aujourd’hui : 1\s234 sur 15\s000$/);
    expect(screen.getByTestId("sf-sign-out")).toHaveTextContent("Se déconnecter");
    expect(screen.getByLabelText("Clé du consommateur")).toBe(screen.getByTestId("input-sf-client-id"));

    await emitCoreEvent({ type: "settingsChanged", settings: settings(), language: "ja" });
    expect(await screen.findByText("https://acme.my.salesforce.com に接続済み")).toBeInTheDocument();
    expect(screen.getByTestId("sf-usage")).toHaveTextContent("本日の API コール数：1,234 / 15,000");
    expect(within(screen.getByTestId("select-sf-login")).getAllByRole("option")[0]).toHaveTextContent("本番環境");
    app.stop();
  });
});
