import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import App from "../src/App.svelte";
import {
  appStatus,
  callerMatch,
  connectedStatus,
  emitCoreEvent,
  fakeCore,
  parisNumber,
  refuse,
  settings,
  type FakeCore,
} from "./fake-core";

/** Renders the window and waits until start-up (listen, status, pending link) is done. */
async function renderApp(core: FakeCore) {
  render(App);
  await vi.waitFor(() => expect(core.callsTo("take_pending_dial")).toHaveLength(1));
  await screen.findByTestId("view-title");
}

const title = () => screen.getByTestId("view-title");

describe("navigation", () => {
  it("switches views and marks the current one for assistive technology", async () => {
    const core = fakeCore();
    await renderApp(core);
    expect(screen.getByRole("navigation", { name: "Main" })).toBeInTheDocument();
    expect(screen.getByTestId("nav-phone")).toHaveAttribute("aria-current", "page");

    await fireEvent.click(screen.getByTestId("nav-history"));
    expect(title()).toHaveTextContent("History");
    expect(screen.getByTestId("nav-history")).toHaveAttribute("aria-current", "page");
    expect(screen.getByTestId("nav-phone")).not.toHaveAttribute("aria-current");
    expect(await screen.findByTestId("history-empty")).toHaveTextContent(/Salesforce sync state/);
  });

  it("moves focus along the nav with arrow keys, wrapping at the ends", async () => {
    const core = fakeCore();
    await renderApp(core);
    screen.getByTestId("nav-phone").focus();
    await fireEvent.keyDown(document.activeElement!, { key: "ArrowDown" });
    expect(screen.getByTestId("nav-meetings")).toHaveFocus();
    await fireEvent.keyDown(document.activeElement!, { key: "End" });
    expect(screen.getByTestId("nav-settings")).toHaveFocus();
    await fireEvent.keyDown(document.activeElement!, { key: "ArrowRight" });
    expect(screen.getByTestId("nav-phone")).toHaveFocus();
  });

  it("shows the two capabilities that are not set up yet", async () => {
    const core = fakeCore();
    await renderApp(core);
    expect(screen.getByText("Phone: not set up")).toBeInTheDocument();
    expect(screen.getByText("Salesforce: not connected")).toBeInTheDocument();
  });
});

describe("links opened from other apps", () => {
  it("a dialRequested event brings the Phone view forward with the number filled in", async () => {
    const core = fakeCore();
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-settings"));

    await emitCoreEvent({ type: "dialRequested", target: parisNumber });

    expect(await screen.findByRole("heading", { name: "Phone" })).toBe(title());
    expect(screen.getByTestId<HTMLInputElement>("dial-input").value).toBe("+33 1 23 45 67 89");
    expect(screen.getByTestId("dial-normalised")).toHaveTextContent("+33123456789");
    expect(core.callsTo("parse_dial_input"), "the core already resolved the link").toEqual([]);
  });

  it("a link that opened the app before the UI listened is taken once at start", async () => {
    const core = fakeCore({ take_pending_dial: () => ({ kind: "sip", uri: "sip:alice@example.com", display: "alice@example.com" }) });
    await renderApp(core);
    expect(screen.getByTestId<HTMLInputElement>("dial-input").value).toBe("alice@example.com");
    expect(screen.getByTestId("dial-normalised")).toHaveTextContent("sip:alice@example.com");
    expect(core.callsTo("take_pending_dial")).toHaveLength(1);
  });

  it("a linkRejected event shows the reason as an alert on the Phone view", async () => {
    const core = fakeCore();
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-reports"));

    await emitCoreEvent({ type: "linkRejected", link: "tel:abc", reason: "“abc” is not a phone number." });

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("This link could not be opened: “abc” is not a phone number.");
    expect(title()).toHaveTextContent("Phone");
  });
});

describe("notices", () => {
  it("lists start-up notices and later notice events; each can be dismissed", async () => {
    const core = fakeCore({
      app_status: () =>
        appStatus({ notices: [{ code: "keyringUnavailable", message: "The system keyring is not available." }] }),
    });
    await renderApp(core);
    const notices = screen.getByTestId("notices");
    expect(notices).toHaveTextContent("The system keyring is not available.");

    await emitCoreEvent({ type: "notice", notice: { code: "audioProblem", message: "No audio devices were found." } });
    await vi.waitFor(() => expect(within(notices).getAllByRole("listitem")).toHaveLength(2));

    await fireEvent.click(screen.getByRole("button", { name: "Dismiss: The system keyring is not available." }));
    expect(within(notices).getAllByRole("listitem").map((li) => li.textContent?.trim())).toEqual([
      "No audio devices were found.",
    ]);
  });

  it("says so when the core cannot be reached at start", async () => {
    const core = fakeCore({ app_status: refuse("storage", "The settings file is unreadable.") });
    render(App);
    expect(await screen.findByRole("alert")).toHaveTextContent("The settings file is unreadable.");
    expect(core.callsTo("app_status")).toHaveLength(1);
  });
});

describe("language", () => {
  it("switches the whole UI to French when the core answers the change", async () => {
    const core = fakeCore({
      change_setting: ({ change }) =>
        appStatus({ language: "fr", settings: settings({ language: (change as { value: "fr" }).value }) }),
    });
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const select = await screen.findByTestId("select-language");
    expect(within(select).getAllByRole("option").map((o) => o.textContent?.trim())).toEqual([
      "System default",
      "English",
      "Français",
      "日本語",
    ]);

    await fireEvent.change(select, { target: { value: "fr" } });

    expect(core.callsTo("change_setting")).toEqual([{ change: { key: "language", value: "fr" } }]);
    expect(await screen.findByRole("heading", { name: "Paramètres" })).toBeInTheDocument();
    expect(screen.getByTestId("nav-phone")).toHaveTextContent("Téléphone");
    expect(screen.getByLabelText("Haut-parleur")).toBe(await screen.findByTestId("select-speaker"));
    expect(screen.getByText("Salesforce : non connecté")).toBeInTheDocument();
    expect(document.documentElement.lang).toBe("fr");
  });

  it("switches to Japanese on a settingsChanged event, using the language the core resolved", async () => {
    const core = fakeCore();
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-settings"));
    await screen.findByTestId("select-microphone");

    // "system" is the setting; the core resolved it to Japanese from the OS locale.
    await emitCoreEvent({ type: "settingsChanged", settings: settings({ defaultRegion: "JP" }), language: "ja" });

    expect(await screen.findByRole("heading", { name: "設定" })).toBeInTheDocument();
    expect(["nav-phone", "nav-meetings", "nav-history", "nav-reports"].map((id) => screen.getByTestId(id).textContent?.trim())).toEqual([
      "電話",
      "会議",
      "履歴",
      "レポート",
    ]);
    expect(screen.getByLabelText("マイク")).toBe(screen.getByTestId("select-microphone"));
    expect(screen.getByLabelText("着信音")).toBe(screen.getByTestId("select-ringer"));
    expect(screen.getByTestId<HTMLInputElement>("input-region").value).toBe("JP");
    expect(document.documentElement.lang).toBe("ja");
  });
});

describe("general and diagnostics settings", () => {
  it("saves the region on change and shows the value the core kept", async () => {
    const core = fakeCore({
      change_setting: () => appStatus({ settings: settings({ defaultRegion: "JP" }) }),
    });
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const region = screen.getByTestId<HTMLInputElement>("input-region");
    expect(region.value).toBe("FR");

    await fireEvent.input(region, { target: { value: "jp" } });
    await fireEvent.change(region);

    expect(core.callsTo("change_setting")).toEqual([{ change: { key: "defaultRegion", value: "jp" } }]);
    await vi.waitFor(() => expect(region.value, "the field shows what the core stored").toBe("JP"));
    expect(screen.getByText("Saved.")).toBeInTheDocument();
  });

  it("shows the core's refusal of a region and keeps what the rep typed", async () => {
    const core = fakeCore({
      change_setting: refuse("invalidInput", "“XX” is not a country code: use two letters such as FR or JP."),
    });
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const region = screen.getByTestId<HTMLInputElement>("input-region");

    await fireEvent.input(region, { target: { value: "XX" } });
    await fireEvent.change(region);

    expect(await screen.findByRole("alert")).toHaveTextContent("“XX” is not a country code");
    expect(region.value).toBe("XX");
    expect(region).toHaveAttribute("aria-invalid", "true");
  });

  it("writes a support bundle and shows its path, with the About line below", async () => {
    const core = fakeCore({ write_diagnostics: () => "/home/rep/ringside-support-2025.zip" });
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-settings"));

    await fireEvent.click(screen.getByTestId("diagnostics-write"));

    await vi.waitFor(() =>
      expect(screen.getByTestId("diagnostics-result")).toHaveTextContent("/home/rep/ringside-support-2025.zip"),
    );
    expect(screen.getByText("Ringside 0.1.0")).toBeInTheDocument();
    expect(screen.getByText("/home/rep/.local/share/ringside/logs/ringside.log")).toBeInTheDocument();
  });
});

describe("Salesforce", () => {
  it("puts the Salesforce section right after Phone and Audio, and the header follows the connection", async () => {
    const core = fakeCore();
    await renderApp(core);
    expect(screen.getByTestId("chip-salesforce")).toHaveTextContent("Salesforce: not connected");
    await fireEvent.click(screen.getByTestId("nav-settings"));

    const sections = [...document.querySelectorAll("[data-testid^='settings-']")].map((s) => s.getAttribute("data-testid"));
    expect(sections).toEqual([
      "settings-phone",
      "settings-audio",
      "settings-salesforce",
      "settings-language",
      "settings-general",
      "settings-diagnostics",
    ]);

    await emitCoreEvent({ type: "salesforceChanged", status: connectedStatus() });
    await vi.waitFor(() => expect(screen.getByTestId("chip-salesforce")).toHaveTextContent("Salesforce: connected"));
    expect(screen.getByTestId("sf-status")).toHaveTextContent("Connected to https://acme.my.salesforce.com");
  });

  it("a signed-out look-up leads to the Salesforce settings", async () => {
    const core = fakeCore({ match_number: refuse("signedOut", "Not connected to Salesforce.") });
    await renderApp(core);
    await emitCoreEvent({ type: "dialRequested", target: parisNumber });
    await fireEvent.click(await screen.findByTestId("dial-lookup"));

    await fireEvent.click(await screen.findByRole("button", { name: "Connect to Salesforce" }));

    expect(title()).toHaveTextContent("Settings");
    expect(screen.getByTestId("settings-salesforce")).toBeInTheDocument();
    expect(await screen.findByTestId("sf-connect")).toBeDisabled();
  });

  it("keeps the pop when the rep comes back to the Phone view", async () => {
    const core = fakeCore();
    await renderApp(core);
    await emitCoreEvent({ type: "callerMatched", callerMatch: callerMatch() });
    await fireEvent.click(screen.getByTestId("nav-settings"));
    await fireEvent.click(screen.getByTestId("nav-phone"));
    expect(await screen.findByTestId("pop-record-name")).toHaveTextContent("Camille Martin");
  });
});
