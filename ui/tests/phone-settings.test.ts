import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import App from "../src/App.svelte";
import type { SettingChange } from "../src/lib/bindings";
import { appStatus, emitCoreEvent, fakeCore, settings, type FakeCore } from "./fake-core";

async function renderApp(core: FakeCore) {
  render(App);
  await vi.waitFor(() => expect(core.callsTo("take_pending_dial")).toHaveLength(1));
  await screen.findByTestId("view-title");
}

describe("Settings → Phone", () => {
  it("keeps a state the core announced while Connect was still answering", async () => {
    let release: (() => void) | undefined;
    const core = fakeCore({
      set_sip_password: () => null,
      start_phone: () =>
        new Promise((resolve) => {
          release = () => resolve({ state: "registering" });
        }),
    });
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-settings"));
    await fireEvent.input(screen.getByTestId("input-sipPassword"), { target: { value: "x" } });
    await fireEvent.click(screen.getByTestId("phone-connect"));
    await vi.waitFor(() => expect(release).toBeDefined());
    await emitCoreEvent({ type: "registrationChanged", state: { state: "failed", reason: "the registrar refused the password" } });
    release!();
    await vi.waitFor(() => expect(screen.getByTestId("phone-connect")).not.toBeDisabled());
    expect(screen.getByTestId("phone-state")).toHaveTextContent("refused the password");
  });

  it("saves the account, hands the password to the core once, connects, and shows the state", async () => {
    let current = settings();
    const core = fakeCore({
      change_setting: (args) => {
        const change = args.change as SettingChange;
        current = { ...current, [change.key]: change.value };
        return appStatus({ settings: current });
      },
      set_sip_password: () => null,
      start_phone: () => ({ state: "registering" }),
    });
    await renderApp(core);
    expect(screen.getByTestId("chip-phone")).toHaveTextContent("Phone: not set up");
    await fireEvent.click(screen.getByTestId("nav-settings"));
    for (const [id, value] of [["input-sipUser", "alice"], ["input-sipDomain", "ringside.test"], ["input-sipProxy", "127.0.0.1:5060"]]) {
      await fireEvent.input(screen.getByTestId(id), { target: { value } });
    }
    await fireEvent.input(screen.getByTestId("input-sipPassword"), { target: { value: "alice-secret" } });
    await fireEvent.click(screen.getByTestId("phone-connect"));
    await vi.waitFor(() => expect(core.callsTo("start_phone")).toHaveLength(1));
    expect(core.callsTo("change_setting").map((a) => (a.change as SettingChange).key)).toEqual(["sipUser", "sipDomain", "sipProxy"]);
    expect(core.callsTo("set_sip_password")).toEqual([{ password: "alice-secret" }]);
    expect((screen.getByTestId("input-sipPassword") as HTMLInputElement).value).toBe("");
    expect(screen.getByTestId("chip-phone")).toHaveTextContent("Phone: connecting");

    await emitCoreEvent({ type: "registrationChanged", state: { state: "registered", expiresSecs: 600, expiresAt: 1_795_000_600 } });
    await vi.waitFor(() => expect(screen.getByTestId("chip-phone")).toHaveTextContent("Phone: registered"));
    expect(screen.getByTestId("phone-state")).toHaveTextContent("Registered for 600 s");
    await emitCoreEvent({ type: "registrationChanged", state: { state: "failed", reason: "the registrar refused the password" } });
    await vi.waitFor(() => expect(screen.getByTestId("phone-state")).toHaveTextContent("refused the password"));
    expect(screen.getByTestId("chip-phone")).toHaveTextContent("Phone: error");
  });

  it("offers TLS with a CA file, and saves the CA path the core accepted", async () => {
    let current = settings();
    const core = fakeCore({
      change_setting: (args) => {
        const change = args.change as SettingChange;
        if (change.key === "sipTlsCa" && change.value === "/nope.pem") {
          throw { code: "invalidInput", message: "“/nope.pem” cannot be read: No such file or directory (os error 2)" };
        }
        current = { ...current, [change.key]: change.value };
        return appStatus({ settings: current });
      },
    });
    await renderApp(core);
    await fireEvent.click(screen.getByTestId("nav-settings"));
    expect(screen.queryByTestId("input-sipTlsCa")).toBeNull();
    await fireEvent.change(screen.getByTestId("select-sipTransport"), { target: { value: "tls" } });
    const ca = await screen.findByTestId("input-sipTlsCa");
    await fireEvent.input(ca, { target: { value: "/nope.pem" } });
    await fireEvent.change(ca);
    await screen.findByText(/cannot be read/);
    await fireEvent.input(ca, { target: { value: "/etc/ssl/company-ca.pem" } });
    await fireEvent.change(ca);
    await vi.waitFor(() => expect(current.sipTlsCa).toBe("/etc/ssl/company-ca.pem"));
  });

  it("shows waiting voicemail in the header once the PBX says so", async () => {
    const core = fakeCore({});
    await renderApp(core);
    expect(screen.queryByTestId("chip-voicemail")).toBeNull();
    await emitCoreEvent({ type: "voicemailChanged", voicemail: { waiting: true, newMessages: 2, oldMessages: 8 } });
    await vi.waitFor(() => expect(screen.getByTestId("chip-voicemail")).toHaveTextContent("Voicemail: 2 new"));
    await emitCoreEvent({ type: "voicemailChanged", voicemail: { waiting: false, newMessages: 0, oldMessages: 10 } });
    await vi.waitFor(() => expect(screen.queryByTestId("chip-voicemail")).toBeNull());
  });
});
