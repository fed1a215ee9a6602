import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import LayoutSettings from "../src/lib/views/settings/LayoutSettings.svelte";
import { AppState, appStateContext } from "../src/lib/state/app.svelte";
import type { LayoutStatus } from "../src/lib/bindings";
import {
  emitLayoutApplied,
  emitLayoutRefused,
  fakeCore,
  layoutStatus,
  refuse,
  repSettings,
  type FakeCore,
} from "./fake-core";

/** Starts the app (status, events, the layout) and renders the Layout section alone. */
async function renderLayout(core: FakeCore) {
  const app = new AppState();
  await app.start();
  render(LayoutSettings, { context: appStateContext(app) });
  await vi.waitFor(() => expect(core.callsTo("layout_status")).toHaveLength(1));
  await screen.findByTestId("layout-name");
  return app;
}

const published = (overrides: Partial<LayoutStatus> = {}) =>
  layoutStatus({
    name: "Inside sales",
    origin: { recordId: "a01000000000001AAA", target: "profile:00e000000000001AAA", version: 4, modstamp: "2026-11-20T09:00:00.000Z" },
    checkedAt: 1_795_000_000,
    ...overrides,
  });

describe("Settings → Layout", () => {
  it("names the layout in force and where it came from, and follows the core's events", async () => {
    const core = fakeCore();
    const app = await renderLayout(core);
    const section = screen.getByTestId("layout-section");
    expect(within(section).getByRole("heading", { name: "Layout" })).toBeInTheDocument();
    expect(screen.getByTestId("layout-name")).toHaveTextContent("Ringside default");
    expect(screen.getByTestId("layout-origin")).toHaveTextContent("Built in");
    expect(screen.getByTestId("layout-checked")).toHaveTextContent("Not checked with Salesforce");

    await emitLayoutApplied(published());
    await vi.waitFor(() => expect(screen.getByTestId("layout-name")).toHaveTextContent("Inside sales"));
    expect(screen.getByTestId("layout-origin"), "a profile's layout says so").toHaveTextContent(
      "Version 4 for your profile",
    );
    expect(screen.getByTestId("layout-checked")).not.toHaveTextContent("Not checked");

    await emitLayoutApplied(published({ origin: { ...published().origin!, target: "user:005000000000001AAA", version: 5 } }));
    await vi.waitFor(() => expect(screen.getByTestId("layout-origin")).toHaveTextContent("Version 5 for you"));
    app.stop();
  });

  it("shows a locked setting disabled with its lock, and sends the rep's change of an unlocked one", async () => {
    const core = fakeCore({
      layout_status: () =>
        layoutStatus({ repSettings: repSettings({ ignoreInternalCalls: { locked: true, value: true, adminValue: true } }) }),
      set_rep_setting: () =>
        layoutStatus({
          repSettings: repSettings({
            ignoreInternalCalls: { locked: true, value: true, adminValue: true },
            autoSaveLogs: { value: true, overridden: true },
          }),
        }),
    });
    const app = await renderLayout(core);

    const locked = screen.getByTestId("rep-setting-ignoreInternalCalls");
    expect(locked, "the admin locked it").toBeDisabled();
    expect(locked).toBeChecked();
    expect(locked).toHaveAccessibleDescription("Set by your admin");
    expect(screen.queryByTestId("rep-setting-ignoreInternalCalls-reset")).not.toBeInTheDocument();

    const autoSave = screen.getByRole("switch", { name: "Save call logs automatically when a call ends" });
    expect(autoSave).toBe(screen.getByTestId("rep-setting-autoSaveLogs"));
    expect(autoSave).toBeEnabled();
    expect(autoSave).not.toBeChecked();
    await fireEvent.click(autoSave);
    expect(core.callsTo("set_rep_setting")).toEqual([{ setting: "autoSaveLogs", value: true }]);

    const reset = await screen.findByTestId("rep-setting-autoSaveLogs-reset");
    expect(reset).toHaveTextContent("Reset to the admin’s default (off)");
    core.handle("set_rep_setting", () =>
      layoutStatus({ repSettings: repSettings({ ignoreInternalCalls: { locked: true, value: true, adminValue: true } }) }),
    );
    await fireEvent.click(reset);
    expect(core.callsTo("set_rep_setting")[1], "null goes back to the admin's value").toEqual({
      setting: "autoSaveLogs",
      value: null,
    });
    await vi.waitFor(() => expect(screen.getByTestId("rep-setting-autoSaveLogs")).not.toBeChecked());
    expect(screen.queryByTestId("rep-setting-autoSaveLogs-reset")).not.toBeInTheDocument();
    app.stop();
  });

  it("puts a refused change back and says why", async () => {
    const core = fakeCore({ set_rep_setting: refuse("invalidInput", "Your admin locked this setting in the layout.") });
    const app = await renderLayout(core);
    const usePmi = screen.getByTestId("rep-setting-usePmi");
    await fireEvent.click(usePmi);
    expect(await screen.findByTestId("rep-setting-error")).toHaveTextContent("Your admin locked this setting");
    expect(usePmi, "the switch shows what is in force").not.toBeChecked();
    app.stop();
  });

  it("shows a refused layout's version and each problem as path — message — fix", async () => {
    const core = fakeCore({ layout_status: () => published() });
    const app = await renderLayout(core);
    expect(screen.queryByTestId("layout-refused")).not.toBeInTheDocument();

    await emitLayoutRefused(
      published({
        refused: {
          origin: { recordId: "a01000000000002AAA", target: "user:005000000000001AAA", version: 7, modstamp: "2026-11-21T10:00:00.000Z" },
          problems: [
            {
              path: "calls.inbound.search[1].popFields[0]",
              message: "Lead has no field Region__c",
              fix: "use a field of Lead, or deploy Region__c",
            },
          ],
          at: 1_795_000_100,
        },
      }),
    );

    const banner = await screen.findByTestId("layout-refused");
    expect(banner).toHaveRole("alert");
    expect(banner).toHaveTextContent("Version 7 published for you was not applied");
    expect(banner, "the layout in force stays").toHaveTextContent("“Inside sales” stays in force");
    expect(within(banner).getByTestId("layout-refused-problem")).toHaveTextContent(
      "calls.inbound.search[1].popFields[0] — Lead has no field Region__c — use a field of Lead, or deploy Region__c",
    );
    expect(screen.getByTestId("layout-name")).toHaveTextContent("Inside sales");
    app.stop();
  });

  it("Refresh asks the core, spins meanwhile, and shows why a check failed", async () => {
    let answer: (status: LayoutStatus) => void = () => {};
    const core = fakeCore({ refresh_layout: () => new Promise((resolve) => (answer = resolve)) });
    const app = await renderLayout(core);
    const refresh = screen.getByTestId("layout-refresh");

    await fireEvent.click(refresh);
    expect(core.callsTo("refresh_layout")).toHaveLength(1);
    expect(refresh).toBeDisabled();
    expect(refresh).toHaveTextContent("Checking…");
    answer(published());
    await vi.waitFor(() => expect(refresh).toBeEnabled());
    expect(screen.getByTestId("layout-name")).toHaveTextContent("Inside sales");
    expect(screen.queryByTestId("layout-problem")).not.toBeInTheDocument();

    const why = "This org has no Ringside_Layout__c object this user can read, so no layout can be published to you.";
    core.handle("refresh_layout", async () => {
      // As the core does: the status with the problem as an event, then the refusal.
      await emitLayoutApplied(published({ problem: why }));
      throw { code: "salesforce", message: why };
    });
    await fireEvent.click(refresh);
    const problem = await screen.findByTestId("layout-problem");
    expect(problem).toHaveTextContent(`The last check did not complete: ${why}`);
    expect(screen.getAllByText(/no Ringside_Layout__c object/), "said once").toHaveLength(1);
    app.stop();
  });

  it("shows a refusal of Refresh that the status does not carry", async () => {
    const core = fakeCore({ refresh_layout: refuse("signedOut", "Not connected to Salesforce: sign in from Settings → Salesforce.") });
    const app = await renderLayout(core);
    await fireEvent.click(screen.getByTestId("layout-refresh"));
    expect(await screen.findByTestId("layout-problem")).toHaveTextContent("Not connected to Salesforce");
    app.stop();
  });
});
