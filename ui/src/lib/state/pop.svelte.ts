// The caller pop: who the number on screen belongs to, as the core reports it.
// `callerMatched` events drive it (the local answer first, then the live or
// local-only one); a look-up the rep asks for also applies its own final answer,
// so the pop never waits on an event that was missed. It only keeps the latest
// answer for the current number — matching and ranking are the core's. What the
// layout's pop rules ask (the first record of several, open in Salesforce, log at
// once) comes with each answer (`match.pop`); each action is due once per number.
import type { CallerMatch, ErrorCode, MatchedRecord } from "../bindings";
import { core, toCoreError, type CreatableObject } from "../core";

export type PopError = { code: ErrorCode; message: string };

/** Which number an answer is about: its E.164 form, or what was dialled for a short extension. */
export const matchKey = (match: CallerMatch): string => match.number?.e164 ?? match.dialled;

export class CallerPop {
  /** The latest answer for the current number. */
  match = $state<CallerMatch | null>(null);
  /** The number of the look-up in flight (as sent, E.164), if any. */
  pending = $state<string | null>(null);
  /** The core's refusal of the last look-up. */
  error = $state<PopError | null>(null);
  /** The record the rep picked from the chooser (by id). */
  selectedId = $state<string | null>(null);
  /** A record the rep just created for this number; shown instead of "no one". */
  created = $state<MatchedRecord | null>(null);
  /** Why the record could not be opened in Salesforce when the layout asked for it. */
  openError = $state<string | null>(null);

  // Only the latest look-up's answer or refusal is applied (as in the dialer).
  #latest = 0;
  // The pop rules' actions already taken for the current number (see `takeDue`).
  #done = new Set<string>();

  /** Something to show: an answer, a look-up in flight, or its refusal. */
  get visible(): boolean {
    return this.match !== null || this.pending !== null || this.error !== null;
  }

  /** Salesforce is being asked: a look-up is in flight, or only the local index has answered. */
  get checking(): boolean {
    return this.error === null && (this.pending !== null || this.match?.stage === "local");
  }

  /** The record to show as a card: created, the only match, or the one picked among several. */
  get record(): MatchedRecord | null {
    if (this.created) return this.created;
    const match = this.match;
    if (!match || match.internal) return null;
    if (match.outcome === "one") return match.records[0] ?? null;
    if (this.selectedId !== null) return match.records.find((r) => r.id === this.selectedId) ?? null;
    if (match.outcome === "many" && match.pop.onMany === "firstByPriority") return match.records[0] ?? null;
    return null;
  }

  /** Several records, shown first by priority: the ones not on the card, one click away. */
  get others(): MatchedRecord[] {
    const match = this.match;
    if (!match || match.internal || this.created || match.outcome !== "many" || match.pop.onMany !== "firstByPriority") {
      return [];
    }
    const shown = this.record;
    return match.records.filter((r) => r !== shown);
  }

  /**
   * What the pop rules ask to do now, each at most once per number: open the one
   * record in Salesforce (only once Salesforce confirmed it), and open the call-log
   * form for it (once the answer is final). The caller does them.
   */
  takeDue(): { open: MatchedRecord | null; log: MatchedRecord | null } {
    const match = this.match;
    const due = { open: null as MatchedRecord | null, log: null as MatchedRecord | null };
    if (!match || match.internal || this.created || match.outcome !== "one") return due;
    const record = match.records[0];
    if (!record) return due;
    const key = `${matchKey(match)}\u0000${record.object}/${record.id}`;
    if (match.pop.openInSalesforce && match.stage === "live" && record.confirmed && !this.#done.has(`open:${key}`)) {
      this.#done.add(`open:${key}`);
      due.open = record;
    }
    if (match.pop.onOne === "popAndLog" && match.stage !== "local" && !this.#done.has(`log:${key}`)) {
      this.#done.add(`log:${key}`);
      due.log = record;
    }
    return due;
  }

  apply(match: CallerMatch): void {
    const number = matchKey(match);
    // An answer for a number the rep has since moved away from.
    if (this.pending !== null && number !== this.pending) return;
    const current = this.match;
    const sameNumber = current !== null && matchKey(current) === number;
    // A local answer arriving after the final one for the same look-up.
    if (match.stage === "local" && this.pending === null && sameNumber && current.stage !== "local") return;

    if (!sameNumber || (this.selectedId !== null && !match.records.some((r) => r.id === this.selectedId))) {
      this.selectedId = null;
    }
    if (!sameNumber) {
      this.#done.clear();
      this.openError = null;
    }
    this.created = null;
    this.error = null;
    this.match = match;
  }

  /** Asks the core who `e164` is; the answers arrive as events and as the result. */
  async lookUp(e164: string): Promise<void> {
    const request = ++this.#latest;
    // Looking the same number up again keeps what is shown until the new answer.
    if (this.match && matchKey(this.match) !== e164) {
      this.match = null;
      this.selectedId = null;
      this.created = null;
      this.openError = null;
      this.#done.clear();
    }
    this.error = null;
    this.pending = e164;
    try {
      const match = await core.matchNumber(e164);
      if (request === this.#latest) this.apply(match);
    } catch (thrown) {
      if (request === this.#latest) {
        const { code, message } = toCoreError(thrown);
        this.error = { code, message };
      }
    } finally {
      if (request === this.#latest) this.pending = null;
    }
  }

  select(id: string): void {
    this.selectedId = id;
  }

  back(): void {
    this.selectedId = null;
  }

  /** Throws `CoreError` when the core refuses; the form shows its sentence. */
  async create(object: CreatableObject, lastName: string, company: string | null): Promise<void> {
    const number = this.match?.number;
    if (!number) return;
    const record = await core.createCallerRecord(object, number.e164, lastName, company);
    if (this.match?.number?.e164 === number.e164) {
      this.created = record;
      this.selectedId = null;
    }
  }

  /** Throws `CoreError` when the record cannot be opened (the card's, or a row of a "more info" tab). */
  async open(record: Pick<MatchedRecord, "object" | "id">): Promise<void> {
    await core.openRecord(record.object, record.id);
  }

  /** Opens the record because the layout says so; a refusal is shown in the pop. */
  async openForRules(record: MatchedRecord): Promise<void> {
    this.openError = null;
    try {
      await this.open(record);
    } catch (e) {
      this.openError = toCoreError(e).message;
    }
  }

  dismiss(): void {
    this.#latest++;
    this.match = null;
    this.pending = null;
    this.error = null;
    this.selectedId = null;
    this.created = null;
    this.openError = null;
    this.#done.clear();
  }
}
