// What the rep has typed in the dialer and what the core made of it.
// Owns the debounce and discards stale answers; never interprets the number
// itself — normalising and validation are the core's (`parse_dial_input`).
import type { DialTarget } from "../bindings";
import { core, errorMessage } from "../core";

/** Quiet time after the last keystroke before asking the core to parse. */
export const PARSE_DELAY_MS = 150;

export type DialOutcome =
  | { kind: "none" }
  | { kind: "target"; target: DialTarget }
  | { kind: "error"; message: string };

export class Dialer {
  input = $state("");
  outcome = $state<DialOutcome>({ kind: "none" });
  /** False from a keystroke until the core has read what is now typed: `outcome`
   * still describes the previous input, so nothing may act on it (Look up, Call). */
  settled = $state(true);

  #timer: ReturnType<typeof setTimeout> | undefined;
  // Each parse request gets a number; only the answer to the latest one is shown,
  // so a slow reply for "+3" cannot overwrite the reply for "+33 1 23".
  #latest = 0;

  setInput(value: string): void {
    this.input = value;
    this.#schedule();
  }

  press(key: string): void {
    this.setInput(this.input + key);
  }

  backspace(): void {
    this.setInput(Array.from(this.input).slice(0, -1).join(""));
  }

  /** Shows a target the core already resolved (a tel:/sip:/callto: link); no parse needed. */
  fill(target: DialTarget): void {
    this.#cancel();
    this.input = target.display || (target.kind === "phone" ? target.e164 : target.uri);
    this.outcome = { kind: "target", target };
    this.settled = true;
  }

  dispose(): void {
    this.#cancel();
  }

  #cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#latest++;
  }

  #schedule(): void {
    this.#cancel();
    const value = this.input;
    if (value.trim() === "") {
      this.outcome = { kind: "none" };
      this.settled = true;
      return;
    }
    this.settled = false;
    this.#timer = setTimeout(() => void this.#parse(value), PARSE_DELAY_MS);
  }

  async #parse(value: string): Promise<void> {
    const request = ++this.#latest;
    let outcome: DialOutcome;
    try {
      outcome = { kind: "target", target: await core.parseDialInput(value) };
    } catch (error) {
      outcome = { kind: "error", message: errorMessage(error) };
    }
    if (request === this.#latest) {
      this.outcome = outcome;
      this.settled = true;
    }
  }
}
