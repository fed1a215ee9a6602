import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import AudioSettings from "../src/lib/views/settings/AudioSettings.svelte";
import { AppState, appStateContext } from "../src/lib/state/app.svelte";
import { audioDevices, emitCoreEvent, fakeCore, refuse } from "./fake-core";

function renderAudio() {
  const app = new AppState();
  render(AudioSettings, { context: appStateContext(app) });
  return app;
}

const optionLabels = (select: HTMLElement) =>
  within(select)
    .getAllByRole("option")
    .map((o) => [(o as HTMLOptionElement).value, o.textContent?.trim()]);

describe("audio settings", () => {
  it("lists inputs for the microphone and outputs for speaker and ringer, default marked", async () => {
    fakeCore();
    renderAudio();

    const microphone = await screen.findByTestId("select-microphone");
    expect(optionLabels(microphone)).toEqual([
      ["", "System default"],
      ["in-builtin", "Built-in Microphone (default)"],
      ["in-usb", "USB Webcam Microphone"],
    ]);
    for (const role of ["speaker", "ringer"]) {
      expect(optionLabels(screen.getByTestId(`select-${role}`))).toEqual([
        ["", "System default"],
        ["out-builtin", "Built-in Speakers (default)"],
        ["out-hdmi", "HDMI Output"],
      ]);
    }
    expect(screen.getByLabelText("Microphone")).toBe(microphone);
  });

  it("selects each role's preferred device", async () => {
    fakeCore({
      list_audio_devices: () =>
        audioDevices({
          roles: [
            { role: "microphone", preferredId: "in-usb", preferredName: "USB Webcam Microphone", activeId: "in-usb", fallback: false },
            { role: "speaker", preferredId: null, preferredName: null, activeId: "out-builtin", fallback: false },
            { role: "ringer", preferredId: "out-hdmi", preferredName: "HDMI Output", activeId: "out-hdmi", fallback: false },
          ],
        }),
    });
    renderAudio();

    expect(await screen.findByTestId("select-microphone")).toHaveValue("in-usb");
    expect(screen.getByTestId("select-speaker"), "null preference means the system default").toHaveValue("");
    expect(screen.getByTestId("select-ringer")).toHaveValue("out-hdmi");
  });

  it("says which preferred device is missing and which one is used instead", async () => {
    fakeCore({
      list_audio_devices: () =>
        audioDevices({
          roles: [
            { role: "microphone", preferredId: "usb-jabra", preferredName: "Jabra Evolve2 65", activeId: "in-builtin", fallback: true },
            { role: "speaker", preferredId: null, preferredName: null, activeId: "out-builtin", fallback: false },
            { role: "ringer", preferredId: null, preferredName: null, activeId: "out-builtin", fallback: false },
          ],
        }),
    });
    renderAudio();

    expect(
      await screen.findByText("Jabra Evolve2 65 is not connected — using Built-in Microphone"),
    ).toBeInTheDocument();
    const microphone = screen.getByTestId("select-microphone");
    expect(microphone, "the absent headset stays shown as the choice").toHaveValue("usb-jabra");
    expect(within(microphone).getByRole("option", { name: "Jabra Evolve2 65 (not connected)" })).toBeDisabled();
  });

  it("shows the core's problem sentence", async () => {
    fakeCore({
      list_audio_devices: () => audioDevices({ inputs: [], outputs: [], problem: "No audio devices were found." }),
    });
    renderAudio();
    expect(await screen.findByText("No audio devices were found.")).toBeInTheDocument();
  });

  it("sends the role and device id of a new choice, and null for the system default", async () => {
    const core = fakeCore({ select_audio_device: () => audioDevices() });
    renderAudio();

    await fireEvent.change(await screen.findByTestId("select-speaker"), { target: { value: "out-hdmi" } });
    await fireEvent.change(screen.getByTestId("select-microphone"), { target: { value: "" } });

    expect(core.callsTo("select_audio_device")).toEqual([
      { role: "speaker", deviceId: "out-hdmi" },
      { role: "microphone", deviceId: null },
    ]);
  });

  it("shows the core's refusal when a device cannot be selected", async () => {
    fakeCore({ select_audio_device: refuse("audio", "HDMI Output cannot play audio right now.") });
    renderAudio();
    await fireEvent.change(await screen.findByTestId("select-ringer"), { target: { value: "out-hdmi" } });
    expect(await screen.findByRole("alert")).toHaveTextContent("HDMI Output cannot play audio right now.");
  });

  it("refreshes on request and follows devicesChanged events", async () => {
    const core = fakeCore();
    const app = new AppState();
    await app.start();
    render(AudioSettings, { context: appStateContext(app) });
    await screen.findByTestId("select-microphone");

    const refresh = screen.getByRole("button", { name: "Refresh devices" });
    await fireEvent.click(refresh);
    expect(core.callsTo("list_audio_devices").length, "one list on open, one on refresh").toBe(2);
    await vi.waitFor(() => expect(refresh, "the refresh has been answered").toBeEnabled());

    await emitCoreEvent({
      type: "devicesChanged",
      devices: audioDevices({ inputs: [{ id: "in-jabra", name: "Jabra Evolve2 65", isDefault: true }] }),
    });
    expect(
      await within(screen.getByTestId("select-microphone")).findByRole("option", { name: "Jabra Evolve2 65 (default)" }),
    ).toBeInTheDocument();
    app.stop();
  });
});

describe("test my audio", () => {
  it("shows the microphone's level while recording, then says what it found", async () => {
    let finish: (value: unknown) => void = () => {};
    const core = fakeCore({ test_audio: () => new Promise((resolve) => (finish = resolve)) });
    const app = new AppState();
    await app.start();
    render(AudioSettings, { context: appStateContext(app) });
    const button = await screen.findByTestId("audio-test");
    expect(screen.getByTestId("audio-check")).toHaveTextContent("Records 3 seconds");
    await fireEvent.click(button);
    expect(core.callsTo("test_audio")).toEqual([{ seconds: 3 }]);
    expect(button, "one test at a time").toBeDisabled();
    await emitCoreEvent({ type: "audioCheckChanged", check: { phase: "recording", level: 37, peak: 40 } });
    await vi.waitFor(() => expect(screen.getByTestId("audio-check")).toHaveTextContent("Speak now"));
    await vi.waitFor(() => expect((within(screen.getByTestId("audio-check")).getByRole("meter") as HTMLMeterElement).value).toBe(37));
    await emitCoreEvent({ type: "audioCheckChanged", check: { phase: "playing" } });
    await vi.waitFor(() => expect(screen.getByTestId("audio-check")).toHaveTextContent("Playing back"));
    finish({ phase: "done", peak: 0 });
    await vi.waitFor(() => expect(screen.getByTestId("audio-check")).toHaveTextContent("No sound came from the microphone"));
    expect(button).toBeEnabled();
  });

  it("says why it cannot test during a call, and switches voice processing", async () => {
    const core = fakeCore({
      test_audio: refuse("audio", "Test your audio between calls: a call is using the devices now."),
      change_setting: () => null,
    });
    renderAudio();
    await fireEvent.click(await screen.findByTestId("audio-test"));
    expect(await screen.findByRole("alert")).toHaveTextContent("between calls");
    const toggle = screen.getByTestId("toggle-voiceProcessing");
    await fireEvent.click(toggle);
    expect(core.callsTo("change_setting")).toEqual([{ change: { key: "voiceProcessing", value: false } }]);
  });
});
