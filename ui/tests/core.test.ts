import { describe, expect, it } from "vitest";
import { mockIPC } from "@tauri-apps/api/mocks";
import { core, CoreError } from "../src/lib/core";
import { audioDevices, fakeCore, refuse } from "./fake-core";

describe("core wrapper", () => {
  it("returns the data of an ok result", async () => {
    fakeCore({ write_diagnostics: () => "/tmp/ringside-support.zip" });
    await expect(core.writeDiagnostics()).resolves.toBe("/tmp/ringside-support.zip");
  });

  it("throws a CoreError carrying the core's code and sentence", async () => {
    fakeCore({ parse_dial_input: refuse("invalidNumber", "This number is too short for France.") });
    const error = await core.parseDialInput("012").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoreError);
    expect(error).toMatchObject({ code: "invalidNumber", message: "This number is too short for France." });
  });

  it("turns a bare Tauri rejection (a string) into an internal CoreError", async () => {
    mockIPC(() => Promise.reject("Command write_diagnostics not allowed by ACL"));
    await expect(core.writeDiagnostics()).rejects.toMatchObject({
      code: "internal",
      message: "Command write_diagnostics not allowed by ACL",
    });
  });

  it("sends snake_case command names with the argument names the Rust commands declare", async () => {
    const fake = fakeCore({ select_audio_device: () => audioDevices(), change_setting: refuse("invalidInput", "no") });
    await core.selectAudioDevice("ringer", "out-hdmi");
    await core.changeSetting({ key: "defaultRegion", value: "JP" }).catch(() => undefined);
    expect(fake.calls.map((c) => [c.command, c.args])).toEqual([
      ["select_audio_device", { role: "ringer", deviceId: "out-hdmi" }],
      ["change_setting", { change: { key: "defaultRegion", value: "JP" } }],
    ]);
  });
});
