import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import MeetingSettings from "../src/lib/views/settings/MeetingSettings.svelte";
import { AppState, appStateContext } from "../src/lib/state/app.svelte";
import { appStatus, fakeCore, providers, refuse, settings, type FakeCore } from "./fake-core";

/** Starts the app (status, events) and renders the Meetings section alone, once the providers are listed. */
async function renderMeetings(core: FakeCore) {
  const app = new AppState();
  await app.start();
  render(MeetingSettings, { context: appStateContext(app) });
  await screen.findByTestId("meeting-provider-jitsi");
  return app;
}

const row = (provider: string) => screen.getByTestId(`meeting-provider-${provider}`);
const state = (provider: string) => screen.getByTestId(`provider-state-${provider}`);

describe("Settings → Meetings", () => {
  it("lists every provider with its state; Jitsi needs no account and keeps its server", async () => {
    const core = fakeCore({
      app_status: () => appStatus({ settings: settings({ jitsiServer: "https://meet.acme.example", webexClientId: "C0ffee" }) }),
      meeting_providers: () => providers({ webex: { configured: true, connected: true } }),
    });
    const app = await renderMeetings(core);
    const section = screen.getByTestId("meetings-section");
    expect(within(section).getByRole("heading", { name: "Meetings" })).toBeInTheDocument();

    expect(state("jitsi")).toHaveAttribute("data-state", "noAccount");
    expect(state("jitsi")).toHaveTextContent("no account needed");
    expect(within(row("jitsi")).queryByRole("button"), "nothing to connect").toBeNull();
    expect(screen.getByLabelText("Jitsi Meet server")).toHaveValue("https://meet.acme.example");

    expect(state("zoom")).toHaveAttribute("data-state", "notSetUp");
    expect(state("zoom")).toHaveTextContent("Not set up");
    expect(screen.getByTestId("connect-zoom")).toBeDisabled();
    expect(screen.getByTestId("connect-zoom")).toHaveAccessibleDescription("Enter the client ID first.");

    expect(state("webex")).toHaveAttribute("data-state", "connected");
    expect(state("webex")).toHaveTextContent("Connected");
    expect(screen.getByTestId("input-webexClientId")).toHaveValue("C0ffee");
    expect(screen.getByTestId("disconnect-webex")).toHaveTextContent("Disconnect Webex");
    expect(screen.queryByTestId("connect-webex")).toBeNull();

    // The sign-in addresses wait under Advanced.
    expect(screen.getByTestId("input-zoomOauthUrl").closest("details")).not.toHaveAttribute("open");
    expect(screen.getByTestId("input-zoomOauthUrl")).toHaveValue("https://zoom.us");
    expect(screen.getByTestId("input-webexUrl")).toHaveValue("https://webexapis.com");
    app.stop();
  });

  it("saves a client ID when committed, then connects in the browser and disconnects", async () => {
    let finish: (value: unknown) => void = () => {};
    const core = fakeCore({
      change_setting: ({ change }) => appStatus({ settings: settings({ zoomClientId: (change as { value: string }).value }) }),
      connect_meetings: () => new Promise((resolve) => (finish = resolve)),
      disconnect_meetings: () => null,
    });
    const app = await renderMeetings(core);

    const clientId = screen.getByLabelText("Client ID", { selector: "#input-zoomClientId" });
    expect(clientId).toBe(screen.getByTestId("input-zoomClientId"));
    await fireEvent.input(clientId, { target: { value: "zoomAppId42" } });
    expect(core.callsTo("change_setting"), "nothing is saved while typing").toEqual([]);
    core.handle("meeting_providers", () => providers({ zoom: { configured: true } }));
    await fireEvent.change(clientId);

    expect(core.callsTo("change_setting")).toEqual([{ change: { key: "zoomClientId", value: "zoomAppId42" } }]);
    await vi.waitFor(() => expect(state("zoom")).toHaveAttribute("data-state", "notConnected"));
    expect(screen.getByTestId("provider-saved-zoom")).toHaveTextContent("Saved.");
    const connect = screen.getByTestId("connect-zoom");
    expect(connect).toBeEnabled();
    expect(connect).toHaveTextContent("Connect Zoom");

    await fireEvent.click(connect);
    expect(core.callsTo("connect_meetings")).toEqual([{ provider: "zoom" }]);
    expect(connect).toHaveTextContent("Waiting for the browser…");
    expect(connect).toBeDisabled();
    expect(connect).toHaveAccessibleDescription("Finish signing in in the browser window that opened.");

    core.handle("meeting_providers", () => providers({ zoom: { configured: true, connected: true } }));
    finish(null);
    expect(await screen.findByTestId("disconnect-zoom")).toBeEnabled();
    expect(state("zoom")).toHaveAttribute("data-state", "connected");

    core.handle("meeting_providers", () => providers({ zoom: { configured: true } }));
    await fireEvent.click(screen.getByTestId("disconnect-zoom"));
    expect(core.callsTo("disconnect_meetings")).toEqual([{ provider: "zoom" }]);
    await vi.waitFor(() => expect(state("zoom")).toHaveAttribute("data-state", "notConnected"));
    expect(screen.getByTestId("connect-zoom")).toBeEnabled();
    app.stop();
  });

  it("shows the core's refusal of a sign-in in the provider's row, and Connect again", async () => {
    const core = fakeCore({
      meeting_providers: () => providers({ webex: { configured: true } }),
      connect_meetings: refuse("invalidInput", "Webex refused the sign-in: the redirect address is not registered."),
    });
    const app = await renderMeetings(core);

    await fireEvent.click(screen.getByTestId("connect-webex"));

    const error = await screen.findByTestId("provider-error-webex");
    expect(error).toHaveTextContent("the redirect address is not registered");
    expect(screen.getByRole("alert")).toBe(error);
    expect(row("webex")).toContainElement(error);
    expect(screen.getByTestId("connect-webex")).toBeEnabled();
    expect(screen.getByTestId("connect-webex")).toHaveTextContent("Connect Webex");
    app.stop();
  });

  it("saves a sign-in address under Advanced and shows a refusal of it", async () => {
    const core = fakeCore({
      change_setting: refuse("invalidInput", "“ftp://zoom.us” is not an https address."),
    });
    const app = await renderMeetings(core);
    const url = screen.getByTestId("input-zoomOauthUrl");
    await fireEvent.input(url, { target: { value: "ftp://zoom.us" } });
    await fireEvent.change(url);

    expect(core.callsTo("change_setting")).toEqual([{ change: { key: "zoomOauthUrl", value: "ftp://zoom.us" } }]);
    expect(await screen.findByTestId("provider-error-zoom")).toHaveTextContent("is not an https address");
    expect(url, "what the rep typed stays to be fixed").toHaveValue("ftp://zoom.us");
    app.stop();
  });

  it("hands a Webex client secret to the core for the keyring, never shows it back, and clears it", async () => {
    const core = fakeCore({
      meeting_providers: () => providers({ webex: { configured: true } }),
      set_meeting_client_secret: () => null,
    });
    const app = await renderMeetings(core);
    expect(screen.queryByTestId("input-zoom-secret"), "Zoom's app has no secret").toBeNull();

    const secret = screen.getByLabelText("Client secret (optional)");
    expect(secret).toBe(screen.getByTestId("input-webex-secret"));
    expect(secret).toHaveAttribute("type", "password");
    expect(secret).toHaveValue("");
    expect(screen.getByTestId("save-secret-webex")).toBeDisabled();

    await fireEvent.input(secret, { target: { value: "s3cr3t-from-admin" } });
    await fireEvent.click(screen.getByTestId("save-secret-webex"));

    expect(core.callsTo("set_meeting_client_secret")).toEqual([{ provider: "webex", secret: "s3cr3t-from-admin" }]);
    expect(await screen.findByTestId("secret-status-webex")).toHaveTextContent("Client secret saved in the keyring.");
    expect(secret, "the secret is not kept on screen").toHaveValue("");
    expect(document.body.textContent).not.toContain("s3cr3t-from-admin");

    await fireEvent.click(screen.getByTestId("clear-secret-webex"));
    expect(core.callsTo("set_meeting_client_secret").at(-1)).toEqual({ provider: "webex", secret: "" });
    await vi.waitFor(() => expect(screen.getByTestId("secret-status-webex")).toHaveTextContent("Client secret cleared."));
    app.stop();
  });

  it("says so when the providers cannot be read", async () => {
    const core = fakeCore({ meeting_providers: refuse("storage", "The settings file is unreadable.") });
    const app = new AppState();
    await app.start();
    render(MeetingSettings, { context: appStateContext(app) });
    expect(await screen.findByTestId("meeting-providers-error")).toHaveTextContent("The settings file is unreadable.");
    expect(core.callsTo("meeting_providers").length).toBeGreaterThan(0);
    app.stop();
  });
});
