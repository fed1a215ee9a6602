// The Admin page: whether this user may publish layouts (the core asks the org), the
// target chosen, and the working copy of a layout as text — the JSON editor shows it,
// the form rewrites it. Every change is checked by the core after a short pause
// (`validateLayout`); the last check, the review diff and the publish answer are the
// core's, shown as they came. Nothing here reads or judges the document itself.
import type { DiffLine, LayoutCallType, LayoutCheck, PublishTarget, Published } from "../bindings";
import { core, errorMessage, toCoreError } from "../core";

/** How long typing must pause before the text is checked. */
export const VALIDATE_DELAY_MS = 400;

export type TargetKind = PublishTarget["kind"];

/** What "Load published" found for the target. */
export type LoadNote =
  | { kind: "published"; version: number; name: string }
  /** Nothing published (or the target is unknown): the core's sentence, and the in-force document loaded instead. */
  | { kind: "nothing"; message: string };

export type Review = { lines: DiffLine[]; target: PublishTarget; text: string };

export class LayoutAdmin {
  /** The signed-in user may publish layouts; the Admin page is offered only then. */
  allowed = $state(false);
  targetKind = $state<TargetKind>("org");
  /** The profile name or username, for those kinds of target. */
  targetName = $state("");
  /** The document being edited, as the JSON editor shows it. */
  text = $state("");
  /** The call type the form's tabs and the preview show. */
  callType = $state<LayoutCallType>("inbound");

  loading = $state(false);
  loadNote = $state<LoadNote | null>(null);
  loadError = $state<string | null>(null);

  /** The core's check of the text (the last one that came back). */
  check = $state<LayoutCheck | null>(null);
  /** The text changed since `check`: a check is scheduled or running. */
  checking = $state(false);
  checkError = $state<string | null>(null);

  review = $state<Review | null>(null);
  reviewing = $state(false);
  reviewError = $state<string | null>(null);
  publishing = $state(false);
  /** The core's answer to the last publish, and the target it was for. */
  published = $state<{ answer: Published; target: PublishTarget } | null>(null);
  publishError = $state<string | null>(null);

  #opened = false;
  #allowedRequest = 0;
  #checkRequest = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Where a publish goes; null while a profile or user target has no name yet. */
  get target(): PublishTarget | null {
    if (this.targetKind === "org") return { kind: "org" };
    const name = this.targetName.trim();
    return name === "" ? null : { kind: this.targetKind, name };
  }

  /** The text was checked, as it is now, and the core found nothing to fix. */
  get valid(): boolean {
    return !this.checking && this.checkError === null && this.check !== null && this.check.problems.length === 0;
  }

  get canReview(): boolean {
    return this.valid && this.target !== null && !this.reviewing && !this.publishing;
  }

  /** Asks the core again (at start, and when the Salesforce sign-in changed). */
  async checkAllowed(): Promise<boolean> {
    const request = ++this.#allowedRequest;
    const allowed = await core.canPublishLayouts().catch(() => false);
    if (request === this.#allowedRequest) this.allowed = allowed;
    return this.allowed;
  }

  /** The first time the page opens: the document in force, to start from. */
  async open(): Promise<void> {
    if (this.#opened) return;
    this.#opened = true;
    try {
      const text = await core.layoutDocument();
      if (this.text === "") this.setText(text);
    } catch (e) {
      this.#opened = false;
      this.loadError = errorMessage(e);
    }
  }

  /** A change from the editor or the form: checked after a pause; a review no longer applies. */
  setText(text: string): void {
    if (text === this.text) return;
    this.text = text;
    this.#stale();
    this.#scheduleCheck();
  }

  setTarget(kind: TargetKind, name: string): void {
    this.targetKind = kind;
    this.targetName = name;
    this.loadNote = null;
    this.loadError = null;
    this.#stale();
  }

  /** "Load published": the target's layout, or the one in force when nothing is published for it. */
  async loadPublished(): Promise<void> {
    const target = this.target;
    if (!target || this.loading) return;
    this.loading = true;
    this.loadNote = null;
    this.loadError = null;
    try {
      const pulled = await core.pullLayout(target);
      this.setText(pulled.text);
      this.loadNote = { kind: "published", version: pulled.origin.version, name: pulled.name };
    } catch (e) {
      const refusal = toCoreError(e);
      // The core refuses with `invalidInput` when nothing is published for the target
      // (or it does not know the target); its sentence says which.
      if (refusal.code !== "invalidInput") {
        this.loadError = refusal.message;
      } else {
        try {
          this.setText(await core.layoutDocument());
          this.loadNote = { kind: "nothing", message: refusal.message };
        } catch (again) {
          this.loadError = errorMessage(again);
        }
      }
    } finally {
      this.loading = false;
    }
  }

  /** "Review": what publishing changes for the target, against what is published there now. */
  async startReview(): Promise<void> {
    const target = this.target;
    if (!target || !this.canReview) return;
    const text = this.text;
    this.reviewing = true;
    this.reviewError = null;
    this.published = null;
    this.publishError = null;
    try {
      const base = await this.#publishedText(target);
      const lines = await core.diffLayouts(base, text);
      if (text === this.text) this.review = { lines, target, text };
    } catch (e) {
      this.reviewError = errorMessage(e);
    } finally {
      this.reviewing = false;
    }
  }

  /** Publishes exactly what was reviewed, for the target it was reviewed for. */
  async publish(): Promise<void> {
    const review = this.review;
    if (!review || this.publishing) return;
    this.publishing = true;
    this.publishError = null;
    try {
      this.published = { answer: await core.publishLayout(review.text, review.target), target: review.target };
      this.review = null;
    } catch (e) {
      this.publishError = errorMessage(e);
    } finally {
      this.publishing = false;
    }
  }

  cancelReview(): void {
    this.review = null;
    this.reviewError = null;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#checkRequest++;
  }

  async #publishedText(target: PublishTarget): Promise<string> {
    try {
      return (await core.pullLayout(target)).text;
    } catch (e) {
      // Nothing published there yet: every line is new.
      if (toCoreError(e).code === "invalidInput") return "";
      throw e;
    }
  }

  #stale(): void {
    this.review = null;
    this.reviewError = null;
    this.published = null;
    this.publishError = null;
  }

  #scheduleCheck(): void {
    clearTimeout(this.#timer);
    const request = ++this.#checkRequest;
    this.checking = true;
    this.#timer = setTimeout(() => void this.#runCheck(request), VALIDATE_DELAY_MS);
  }

  async #runCheck(request: number): Promise<void> {
    try {
      const check = await core.validateLayout(this.text);
      if (request !== this.#checkRequest) return;
      this.check = check;
      this.checkError = null;
    } catch (e) {
      if (request !== this.#checkRequest) return;
      this.check = null;
      this.checkError = errorMessage(e);
    } finally {
      if (request === this.#checkRequest) this.checking = false;
    }
  }
}
