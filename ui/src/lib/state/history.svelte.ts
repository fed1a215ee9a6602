// History and the call-log form, as the core reports them. The list is what
// `history` answers for the current search; `callLogSaved` and `outboxChanged`
// events keep it current (an entry is replaced in place, a summary change
// reloads the list). The form (`LogEditor`) holds what the rep types until the
// core has saved it; the rules, defaults and sync states are all the core's.
import type {
  CallLogInput,
  CallType,
  FieldProblem,
  FormSpec,
  HistoryEntry,
  MatchedRecord,
  OutboxSummary,
  RecordRef,
} from "../bindings";
import { core, errorMessage } from "../core";
import { dayStart } from "../dates";

/** Waits this long after the last event before reading the list again. */
const RELOAD_DELAY_MS = 300;

export class LogEditor {
  input = $state<CallLogInput>() as CallLogInput;
  /** The History row once saved (its sync state), null for a new log. */
  entry = $state<HistoryEntry | null>(null);
  spec = $state<FormSpec | null>(null);
  problems = $state<FieldProblem[]>([]);
  saving = $state(false);
  error = $state<string | null>(null);
  /** Set after a save the core accepted, until the rep types again. */
  savedMessage = $state<"saved" | "draft" | null>(null);
  /** The rep changed something since the form opened or was last saved. */
  dirty = $state(false);

  constructor(input: CallLogInput, entry: HistoryEntry | null) {
    this.input = input;
    this.entry = entry;
  }

  get id(): number | null {
    return this.entry?.log.id ?? null;
  }

  /** Saved logs cannot go back to being drafts: the form offers only "Save" then. */
  get wasSaved(): boolean {
    return this.entry?.log.saved ?? false;
  }

  async loadSpec(): Promise<void> {
    try {
      this.spec = await core.callLogForm();
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  problemFor(field: string): string | null {
    return this.problems.find((p) => p.field === field)?.message ?? null;
  }

  touched(): void {
    this.dirty = true;
    this.savedMessage = null;
  }

  setWho(who: RecordRef | null): void {
    this.input.who = who;
    // A Lead cannot carry a related record in Salesforce; the core says so on save,
    // but a stale Account from the previous person would only confuse.
    if (who?.object === "Lead") this.input.what = null;
    this.touched();
  }

  setWhat(what: RecordRef | null): void {
    this.input.what = what;
    this.touched();
  }

  /** `save`: queue for Salesforce; otherwise keep as a draft. Returns whether the core queued it. */
  async save(save: boolean): Promise<boolean> {
    this.saving = true;
    this.error = null;
    try {
      const outcome = await core.saveCallLog(this.id, $state.snapshot(this.input) as CallLogInput, save);
      this.entry = outcome.entry;
      this.problems = outcome.problems;
      this.input = outcome.entry.log.content;
      const queued = outcome.problems.length === 0 && outcome.entry.log.saved;
      this.savedMessage = outcome.problems.length === 0 ? (queued ? "saved" : "draft") : null;
      this.dirty = false;
      return queued;
    } catch (e) {
      this.error = errorMessage(e);
      return false;
    } finally {
      this.saving = false;
    }
  }
}

export class History {
  entries = $state<HistoryEntry[]>([]);
  summary = $state<OutboxSummary | null>(null);
  search = $state("");
  /** Local dates (`YYYY-MM-DD`) bounding the list, both included; "" for no bound. */
  fromDate = $state("");
  untilDate = $state("");
  loading = $state(false);
  error = $state<string | null>(null);
  editor = $state<LogEditor | null>(null);
  /** The last "Sync now" or "Retry" failure. */
  actionError = $state<string | null>(null);

  #request = 0;
  #reloadTimer: ReturnType<typeof setTimeout> | undefined;

  async load(): Promise<void> {
    const request = ++this.#request;
    this.loading = true;
    try {
      const [entries, summary] = await Promise.all([
        core.history({ text: this.search, from: dayStart(this.fromDate, 0), until: dayStart(this.untilDate, 1), limit: 200 }),
        core.outboxSummary(),
      ]);
      if (request !== this.#request) return;
      this.entries = entries;
      this.summary = summary;
      this.error = null;
    } catch (e) {
      if (request === this.#request) this.error = errorMessage(e);
    } finally {
      if (request === this.#request) this.loading = false;
    }
  }

  setSearch(text: string): void {
    this.search = text;
    void this.load();
  }

  setDates(from: string, until: string): void {
    this.fromDate = from;
    this.untilDate = until;
    void this.load();
  }

  /** A log saved anywhere (the form, auto-save): its row is replaced where it is shown. */
  applySaved(entry: HistoryEntry): void {
    const index = this.entries.findIndex((e) => e.log.id === entry.log.id);
    if (index >= 0) this.entries[index] = entry;
    else if (this.search === "" && this.fromDate === "" && this.untilDate === "") this.entries.unshift(entry);
    if (this.editor?.id === entry.log.id) this.editor.entry = entry;
  }

  applySummary(summary: OutboxSummary): void {
    this.summary = summary;
    clearTimeout(this.#reloadTimer);
    this.#reloadTimer = setTimeout(() => void this.reloadQuietly(), RELOAD_DELAY_MS);
  }

  async reloadQuietly(): Promise<void> {
    await this.load();
    const id = this.editor?.id;
    if (id != null && this.editor) {
      const fresh = this.entries.find((e) => e.log.id === id);
      if (fresh) this.editor.entry = fresh;
    }
  }

  async syncNow(): Promise<void> {
    this.actionError = null;
    try {
      this.summary = await core.syncOutbox();
    } catch (e) {
      this.actionError = errorMessage(e);
    }
  }

  async retry(id: number): Promise<void> {
    this.actionError = null;
    try {
      this.applySaved(await core.retryCallLog(id));
    } catch (e) {
      this.actionError = errorMessage(e);
    }
  }

  /** Opens the form for a new log of `number`, with the person the pop shows. */
  async openNew(number: string, record: MatchedRecord | null, callType: CallType = "outbound"): Promise<void> {
    this.actionError = null;
    try {
      const input = await core.newCallLog(number, callType, record);
      this.editor = new LogEditor(input, null);
      await this.editor.loadSpec();
    } catch (e) {
      this.actionError = errorMessage(e);
    }
  }

  async openExisting(entry: HistoryEntry): Promise<void> {
    this.editor = new LogEditor(structuredClone($state.snapshot(entry.log.content)) as CallLogInput, entry);
    if (entry.sync.state === "draft") this.editor.problems = entry.sync.problems;
    await this.editor.loadSpec();
  }

  closeEditor(): void {
    this.editor = null;
  }

  dispose(): void {
    clearTimeout(this.#reloadTimer);
  }
}
