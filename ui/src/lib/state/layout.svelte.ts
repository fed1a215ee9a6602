// The admin layout in force, as the core reports it: read once at start, then kept
// current by `layoutApplied` (a new layout, a rep's own setting, or a check that did
// not complete) and `layoutRefused` (the org offered one that failed its checks; the
// one in force stays). "Refresh" and the rep's on/off settings are forwarded as they
// are; which settings are locked and what is in force are the core's answers.
import { SvelteSet } from "svelte/reactivity";
import type { LayoutStatus, RepSetting } from "../bindings";
import { core, errorMessage } from "../core";

export class LayoutState {
  /** Null until the core answered `layoutStatus` (or sent a layout event). */
  status = $state<LayoutStatus | null>(null);
  /** A "Refresh" is waiting for the core's answer. */
  refreshing = $state(false);
  /** The refusal of the last Refresh, when the status does not carry it as `problem`. */
  refreshError = $state<string | null>(null);
  /** The core's refusal of the last change of a rep setting. */
  settingError = $state<string | null>(null);

  #pendingSettings = new SvelteSet<RepSetting>();
  // Bumped by every layout event: an answer read before one is older than it.
  #version = 0;

  /** Reads the status; an event that arrived meanwhile is newer and stays. */
  async load(): Promise<void> {
    const version = this.#version;
    const status = await core.layoutStatus();
    if (version === this.#version) this.status = status;
  }

  /** A `layoutApplied` or `layoutRefused` event. */
  apply(status: LayoutStatus): void {
    this.#version++;
    this.status = status;
    // The status says how the latest check went; an older refusal no longer applies.
    this.refreshError = null;
  }

  /** Why the last check with the org did not complete, if it did not. */
  get problem(): string | null {
    return this.status?.problem ?? this.refreshError;
  }

  /**
   * The phone fields the outbound layout calls for `object` ("used to call"); none
   * until the status is known, or when the layout does not search that object.
   */
  outboundPhoneFields(object: string): string[] {
    return this.status?.outbound.search.filter((s) => s.object === object).flatMap((s) => s.phoneFields) ?? [];
  }

  settingPending(setting: RepSetting): boolean {
    return this.#pendingSettings.has(setting);
  }

  /** "Refresh": asks the org for the layout assigned to the rep now. */
  async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    this.refreshError = null;
    const version = this.#version;
    try {
      const status = await core.refreshLayout();
      if (version === this.#version) this.status = status;
    } catch (e) {
      this.refreshError = errorMessage(e);
    } finally {
      this.refreshing = false;
    }
  }

  /** The rep's own value for an unlocked setting; `null` goes back to the admin's. */
  async setRepSetting(setting: RepSetting, value: boolean | null): Promise<void> {
    if (this.#pendingSettings.has(setting)) return;
    this.#pendingSettings.add(setting);
    this.settingError = null;
    const version = this.#version;
    try {
      const status = await core.setRepSetting(setting, value);
      if (version === this.#version) this.status = status;
    } catch (e) {
      this.settingError = errorMessage(e);
    } finally {
      this.#pendingSettings.delete(setting);
    }
  }
}
