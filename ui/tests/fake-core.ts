// A stand-in for the Rust core at the IPC boundary: the real bindings and
// core.ts run unchanged against it (via Tauri's mockIPC), so tests exercise the
// same command names and argument shapes the shell receives.
import { mockIPC } from "@tauri-apps/api/mocks";
import {
  events,
  type AppStatus,
  type AudioDevices,
  type CoreEvent,
  type DialTarget,
  type ErrorCode,
} from "../src/lib/bindings";

export type CommandName =
  | "app_status"
  | "list_audio_devices"
  | "select_audio_device"
  | "change_setting"
  | "parse_dial_input"
  | "take_pending_dial"
  | "write_diagnostics";

type Args = Record<string, unknown>;
export type Handler = (args: Args) => unknown;
export type Call = { command: CommandName; args: Args };

export function appStatus(overrides: Partial<AppStatus> = {}): AppStatus {
  return {
    version: "0.1.0",
    language: "en",
    settings: { language: "system", defaultRegion: "FR" },
    notices: [],
    dataDir: "/home/rep/.local/share/ringside",
    logFile: "/home/rep/.local/share/ringside/logs/ringside.log",
    ...overrides,
  };
}

export function audioDevices(overrides: Partial<AudioDevices> = {}): AudioDevices {
  return {
    host: "ALSA",
    inputs: [
      { id: "in-builtin", name: "Built-in Microphone", isDefault: true },
      { id: "in-usb", name: "USB Webcam Microphone", isDefault: false },
    ],
    outputs: [
      { id: "out-builtin", name: "Built-in Speakers", isDefault: true },
      { id: "out-hdmi", name: "HDMI Output", isDefault: false },
    ],
    roles: [
      { role: "microphone", preferredId: null, preferredName: null, activeId: "in-builtin", fallback: false },
      { role: "speaker", preferredId: null, preferredName: null, activeId: "out-builtin", fallback: false },
      { role: "ringer", preferredId: null, preferredName: null, activeId: "out-builtin", fallback: false },
    ],
    problem: null,
    ...overrides,
  };
}

export const parisNumber: DialTarget = {
  kind: "phone",
  e164: "+33123456789",
  display: "+33 1 23 45 67 89",
  extension: null,
  region: "FR",
};

/** A handler that refuses the way the core does: an `AppError` as the rejection value. */
export function refuse(code: ErrorCode, message: string): Handler {
  return () => {
    throw { code, message };
  };
}

export type FakeCore = {
  calls: Call[];
  callsTo(command: CommandName): Args[];
  handle(command: CommandName, handler: Handler): void;
};

export function fakeCore(overrides: Partial<Record<CommandName, Handler>> = {}): FakeCore {
  const handlers: Partial<Record<CommandName, Handler>> = {
    app_status: () => appStatus(),
    list_audio_devices: () => audioDevices(),
    take_pending_dial: () => null,
    ...overrides,
  };
  const calls: Call[] = [];
  mockIPC(
    (command, args) => {
      const name = command as CommandName;
      const payload = (args ?? {}) as Args;
      calls.push({ command: name, args: payload });
      const handler = handlers[name];
      if (!handler) throw new Error(`the fake core has no handler for ${command}`);
      return handler(payload);
    },
    { shouldMockEvents: true },
  );
  return {
    calls,
    callsTo: (command) => calls.filter((c) => c.command === command).map((c) => c.args),
    handle: (command, handler) => {
      handlers[command] = handler;
    },
  };
}

/** Sends a `CoreEvent` the way the shell does (event name "core-event"). */
export function emitCoreEvent(event: CoreEvent): Promise<void> {
  return events.coreEvent.emit(event);
}
