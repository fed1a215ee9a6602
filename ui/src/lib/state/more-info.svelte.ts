// The answers of the layout's "more info" tabs for the record on a pop card. Each tab
// is asked of the core at most once per key — the caller's key names the record, the
// layout in force and the tab, so a new layout asks again and a layout event that
// changes nothing does not. A refusal is not kept as an answer: asking for the tab
// again retries. What a tab lists and how it is queried are the core's.
import { SvelteMap } from "svelte/reactivity";
import type { MoreInfo } from "../bindings";
import { core, errorMessage } from "../core";

export type MoreInfoLoad =
  | { state: "loading" }
  | { state: "loaded"; info: MoreInfo }
  | { state: "failed"; message: string };

export class MoreInfoLoads {
  #loads = new SvelteMap<string, MoreInfoLoad>();

  /** What is known of the tab under `key`; undefined until it is asked for. */
  get(key: string): MoreInfoLoad | undefined {
    return this.#loads.get(key);
  }

  /**
   * Asks the core for tab `label` of `accountId` unless it was answered or is being
   * asked under `key`. Reads and writes state: call it from an event handler or
   * untracked, never while rendering.
   */
  ensure(key: string, label: string, accountId: string): void {
    const known = this.#loads.get(key);
    if (known && known.state !== "failed") return;
    const asked: MoreInfoLoad = { state: "loading" };
    this.#loads.set(key, asked);
    core.moreInfo(label, accountId).then(
      (info) => this.#settle(key, asked, { state: "loaded", info }),
      (e: unknown) => this.#settle(key, asked, { state: "failed", message: errorMessage(e) }),
    );
  }

  /** Forgets the answers of tabs no longer in force (a new layout, a tab removed). */
  keepOnly(keys: ReadonlySet<string>): void {
    for (const key of [...this.#loads.keys()]) {
      if (!keys.has(key)) this.#loads.delete(key);
    }
  }

  // Only the latest question under a key may answer it: one forgotten (keepOnly) or
  // asked again meanwhile is older than what the map holds now.
  #settle(key: string, asked: MoreInfoLoad, load: MoreInfoLoad): void {
    if (this.#loads.get(key) === asked) this.#loads.set(key, load);
  }
}
