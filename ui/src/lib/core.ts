// The UI's only door to the Rust core: every command result is unwrapped here,
// so views await plain values and catch one error type, `CoreError`.
// This module never decides anything (no parsing, no validation, no fallback):
// it forwards intents and passes the core's answers and errors through unchanged.
import {
  commands,
  events,
  type AppStatus,
  type AudioDevices,
  type AudioRole,
  type CoreEvent,
  type DialTarget,
  type ErrorCode,
  type AppError,
  type SettingChange,
} from "./bindings";

/** A refusal or failure reported by the core, with its stable code and the core's own sentence. */
export class CoreError extends Error implements AppError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "CoreError";
    this.code = code;
  }
}

function isAppError(value: unknown): value is AppError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as AppError).code === "string" &&
    typeof (value as AppError).message === "string"
  );
}

/**
 * Turns anything a command can produce into a value or a `CoreError`.
 * Besides typed `AppError`s, Tauri itself rejects with plain strings (unknown
 * command, denied by capability) and the bindings rethrow JS `Error`s; both
 * become code "internal" so callers handle a single shape.
 */
type Result<T> = { status: "ok"; data: T } | { status: "error"; error: AppError };

export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (thrown) {
    throw toCoreError(thrown);
  }
  if (result.status === "ok") return result.data;
  throw toCoreError(result.error);
}

export function toCoreError(value: unknown): CoreError {
  if (value instanceof CoreError) return value;
  if (isAppError(value)) return new CoreError(value.code, value.message);
  if (value instanceof Error) return new CoreError("internal", (value as Error).message);
  return new CoreError("internal", String(value));
}

/** The message to show for any failure caught around a `core` call. */
export function errorMessage(value: unknown): string {
  return toCoreError(value).message;
}

export type Unsubscribe = () => void;

export const core = {
  appStatus: (): Promise<AppStatus> => unwrap(commands.appStatus()),
  listAudioDevices: (): Promise<AudioDevices> => unwrap(commands.listAudioDevices()),
  selectAudioDevice: (role: AudioRole, deviceId: string | null): Promise<AudioDevices> =>
    unwrap(commands.selectAudioDevice(role, deviceId)),
  changeSetting: (change: SettingChange): Promise<AppStatus> => unwrap(commands.changeSetting(change)),
  parseDialInput: (input: string): Promise<DialTarget> => unwrap(commands.parseDialInput(input)),
  takePendingDial: (): Promise<DialTarget | null> => unwrap(commands.takePendingDial()),
  writeDiagnostics: (): Promise<string> => unwrap(commands.writeDiagnostics()),

  /** Subscribes to the core's single event stream; resolves once the listener is registered. */
  async onEvent(handler: (event: CoreEvent) => void): Promise<Unsubscribe> {
    return events.coreEvent.listen((event) => handler(event.payload));
  },
};

export type Core = typeof core;
