// The calls in progress, as the core reports them: seeded from `AppStatus.calls`,
// then kept current by `callChanged` (every state change), `transferChanged`,
// `callProblem` and `doNotDisturbChanged`. A call that ends leaves the core's list
// at once; here it stays a few seconds so the rep reads why ("Call ended: busy").
// The methods only forward the rep's intents; what a call may do (swap, hold on
// answer, parsing a target) is the core's, and its refusals are shown as it wrote them.
import { SvelteSet } from "svelte/reactivity";
import type { AppStatus, CallInfo, CallerMatch, TransferProgress } from "../bindings";
import { core, errorMessage } from "../core";

/** How long an ended call stays on screen with its reason. */
export const ENDED_SHOWN_MS = 4000;

export type CallEntry = {
  call: CallInfo;
  /** The latest news of a transfer of this call, until another one starts. */
  transfer: TransferProgress | null;
  /** The core's last `callProblem`, or its refusal of the last command on this call. */
  problem: string | null;
};

/** Commands that must not be sent twice while the first is still being answered. */
export type CallAction = "answer" | "decline" | "hangUp" | "hold" | "mute" | "transfer";

/** Where the rep placed a call from: each place shows the refusals of its own dials only. */
export type DialOrigin = "dialer" | "pop";

export type DialRefusal = { origin: DialOrigin; message: string };

export const isEnded = (call: CallInfo): boolean => call.state.state === "ended";

export const isAnswered = (call: CallInfo): boolean => call.state.state === "answered";

/** Answered and not on hold on our side: the call the microphone goes to. */
export const isTalking = (call: CallInfo): boolean => call.state.state === "answered" && !call.state.held;

/** Ringing here, or it rang here and ended without being answered (missed, declined). */
export const isIncoming = (call: CallInfo): boolean =>
  call.state.state === "incoming" || (isEnded(call) && call.direction === "incoming" && call.answeredAt === null);

/** The pop answer is about this call's number (the core looks the caller up by its user part). */
export function matchIsFor(match: CallerMatch, call: CallInfo): boolean {
  const number = call.remoteUser;
  return number !== "" && (match.dialled === number || match.number?.e164 === number);
}

/** The last item that passes `test` (the webview targets ES2022: no `findLast`). */
function last<T>(items: readonly T[], test: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i])) return items[i];
  return undefined;
}

export class Calls {
  /** Calls in progress, oldest first, and those that ended less than `ENDED_SHOWN_MS` ago. */
  entries = $state<CallEntry[]>([]);
  doNotDisturb = $state(false);
  /** A `setDoNotDisturb` is waiting for its answer. */
  dndPending = $state(false);
  /** A `dial` is waiting for its answer. */
  dialling = $state(false);
  /** The core's refusal of the last dial, and where that dial was placed from. */
  dialError = $state<DialRefusal | null>(null);
  /** A refusal that is about no call in particular (do not disturb, a call already gone). */
  error = $state<string | null>(null);

  #pending = new SvelteSet<string>();
  // Calls that ended: a status read before their end must not bring them back.
  #ended = new Set<number>();
  #timers = new Map<number, ReturnType<typeof setTimeout>>();
  // Digits go out one command after the other, in the order pressed.
  #digits = new Map<number, Promise<unknown>>();
  // Bumped by every `doNotDisturbChanged`: an answer or status older than one is stale.
  #dndVersion = 0;

  get live(): CallEntry[] {
    return this.entries.filter((e) => !isEnded(e.call));
  }

  /** What the incoming-call cards show: calls ringing here, and those that just stopped ringing. */
  get incoming(): CallEntry[] {
    return this.entries.filter((e) => isIncoming(e.call));
  }

  /** Calls placed or answered (ringing out, talking, on hold, just ended). */
  get inCall(): CallEntry[] {
    return this.entries.filter((e) => !isIncoming(e.call));
  }

  /** A call placed or answered is still going on. */
  get active(): boolean {
    return this.inCall.some((e) => !isEnded(e.call));
  }

  /** The call the in-call screen shows: the one talking, else the newest going on, else the one that just ended. */
  get current(): CallEntry | null {
    const inCall = this.inCall;
    const live = inCall.filter((e) => !isEnded(e.call));
    return last(live, (e) => isTalking(e.call)) ?? live.at(-1) ?? inCall.at(-1) ?? null;
  }

  /** A call other than `id` that is answered and not on hold (answering `id` holds it). */
  talkingOther(id: number): CallEntry | null {
    return last(this.live, (e) => e.call.id !== id && isTalking(e.call)) ?? null;
  }

  /** The newest other answered call (talking or on hold): what an attended transfer joins `id` to. */
  answeredOther(id: number): CallEntry | null {
    return last(this.live, (e) => e.call.id !== id && isAnswered(e.call)) ?? null;
  }

  find(id: number): CallEntry | undefined {
    return this.entries.find((e) => e.call.id === id);
  }

  pending(id: number, action: CallAction): boolean {
    return this.#pending.has(`${id}:${action}`);
  }

  /** The status read at start. Events that arrived meanwhile are newer and stay. */
  seed(status: AppStatus): void {
    for (const call of status.calls) {
      if (this.#ended.has(call.id) || this.find(call.id)) continue;
      this.entries.push({ call, transfer: null, problem: null });
    }
    this.entries.sort((a, b) => a.call.startedAt - b.call.startedAt);
    if (this.#dndVersion === 0) this.doNotDisturb = status.doNotDisturb;
  }

  applyCall(call: CallInfo): void {
    const entry = this.find(call.id);
    if (isEnded(call)) {
      this.#ended.add(call.id);
      clearTimeout(this.#timers.get(call.id));
      this.#timers.set(
        call.id,
        setTimeout(() => this.#drop(call.id), ENDED_SHOWN_MS),
      );
    } else if (this.#ended.has(call.id)) {
      return;
    }
    if (entry) entry.call = call;
    else this.entries.push({ call, transfer: null, problem: null });
  }

  applyTransfer(id: number, progress: TransferProgress): void {
    const entry = this.find(id);
    if (entry) entry.transfer = progress;
  }

  applyProblem(id: number, message: string): void {
    const entry = this.find(id);
    if (entry) entry.problem = message;
    else this.error = message;
  }

  applyDoNotDisturb(on: boolean): void {
    this.#dndVersion++;
    this.doNotDisturb = on;
  }

  /**
   * Places a call to what the rep typed or picked (the core reads it). The core puts a call
   * the rep is talking on on hold first, as when answering a second call.
   * Resolves false when the core refused; `dialError` says why (and to `origin`).
   */
  async dial(input: string, origin: DialOrigin): Promise<boolean> {
    if (this.dialling) return false;
    this.dialling = true;
    this.dialError = null;
    try {
      const call = await core.dial(input);
      // Its events may already have moved it on (ringing), or even ended it.
      if (!this.find(call.id) && !this.#ended.has(call.id)) {
        this.entries.push({ call, transfer: null, problem: null });
      }
      return true;
    } catch (error) {
      this.dialError = { origin, message: errorMessage(error) };
      return false;
    } finally {
      this.dialling = false;
    }
  }

  answer(id: number): Promise<boolean> {
    return this.#run(id, "answer", () => core.answerCall(id));
  }

  /** 603 Decline, or 486 Busy Here with `busy`. */
  decline(id: number, busy: boolean): Promise<boolean> {
    return this.#run(id, "decline", () => core.declineCall(id, busy));
  }

  /** Cancels a call ringing out, or ends an answered one. */
  hangUp(id: number): Promise<boolean> {
    return this.#run(id, "hangUp", () => core.hangUp(id));
  }

  /** Taking a call off hold puts the other talking call on hold (the core swaps). */
  hold(id: number, on: boolean): Promise<boolean> {
    return this.#run(id, "hold", () => core.holdCall(id, on));
  }

  mute(id: number, on: boolean): Promise<boolean> {
    return this.#run(id, "mute", () => core.muteCall(id, on));
  }

  /** Sends after the digits pressed before it have been sent. */
  sendDtmf(id: number, digits: string): Promise<boolean> {
    const previous = this.#digits.get(id) ?? Promise.resolve();
    const next = previous.then(() => this.#run(id, null, () => core.sendDtmf(id, digits)));
    this.#digits.set(id, next);
    return next;
  }

  /** Blind transfer to a number, extension or SIP address. */
  transfer(id: number, target: string): Promise<boolean> {
    return this.#run(id, "transfer", () => core.transferCall(id, target), true);
  }

  /** Attended transfer: joins the far ends of `id` and `other`. */
  transferToCall(id: number, other: number): Promise<boolean> {
    return this.#run(id, "transfer", () => core.transferToCall(id, other), true);
  }

  async setDoNotDisturb(on: boolean): Promise<void> {
    const version = this.#dndVersion;
    this.dndPending = true;
    this.error = null;
    try {
      await core.setDoNotDisturb(on);
      if (version === this.#dndVersion) this.doNotDisturb = on;
    } catch (error) {
      this.error = errorMessage(error);
    } finally {
      this.dndPending = false;
    }
  }

  /** The rep changed what to dial: the last refusal no longer applies. */
  clearDialError(): void {
    this.dialError = null;
  }

  dismissError(): void {
    this.error = null;
  }

  dispose(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  async #run(
    id: number,
    action: CallAction | null,
    command: () => Promise<unknown>,
    newTransfer = false,
  ): Promise<boolean> {
    const key = `${id}:${action}`;
    if (action !== null && this.#pending.has(key)) return false;
    if (action !== null) this.#pending.add(key);
    const entry = this.find(id);
    if (entry) {
      entry.problem = null;
      if (newTransfer) entry.transfer = null;
    }
    try {
      await command();
      return true;
    } catch (error) {
      const message = errorMessage(error);
      const still = this.find(id);
      if (still) still.problem = message;
      else this.error = message;
      return false;
    } finally {
      if (action !== null) this.#pending.delete(key);
    }
  }

  #drop(id: number): void {
    this.#timers.delete(id);
    this.#digits.delete(id);
    this.entries = this.entries.filter((e) => e.call.id !== id);
  }
}
