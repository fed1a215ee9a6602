// A unified view of the core's line diff: changed lines with a few unchanged ones
// around them; longer unchanged stretches fold into one "N unchanged lines" row.
import type { DiffLine } from "../../bindings";

/** Unchanged lines kept on each side of a change. */
export const CONTEXT_LINES = 3;

export type DiffRow =
  | { kind: "line"; line: DiffLine; index: number }
  | { kind: "folded"; count: number; index: number };

export function foldDiff(lines: readonly DiffLine[], context = CONTEXT_LINES): DiffRow[] {
  const changed = lines.map((line) => line.kind !== "same");
  // Distance to the nearest change, going back and going forward.
  const near = lines.map(() => false);
  let last = -Infinity;
  for (let i = 0; i < lines.length; i++) {
    if (changed[i]) last = i;
    if (i - last <= context) near[i] = true;
  }
  let next = Infinity;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (changed[i]) next = i;
    if (next - i <= context) near[i] = true;
  }

  const rows: DiffRow[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (near[i]) {
      rows.push({ kind: "line", line: lines[i], index: i });
      continue;
    }
    const previous = rows.at(-1);
    if (previous?.kind === "folded") previous.count++;
    else rows.push({ kind: "folded", count: 1, index: i });
  }
  return rows;
}

export const hasChanges = (lines: readonly DiffLine[]): boolean => lines.some((line) => line.kind !== "same");
