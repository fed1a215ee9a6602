/**
 * Where the arrow, Home and End keys move the focus in a row of `count` tabs from the
 * one at `at` (WAI-ARIA tabs pattern: arrows wrap around); `undefined` for other keys.
 */
export function tabKeyTarget(key: string, at: number, count: number): number | undefined {
  const last = count - 1;
  const moves: Record<string, number> = {
    ArrowRight: at === last ? 0 : at + 1,
    ArrowLeft: at === 0 ? last : at - 1,
    Home: 0,
    End: last,
  };
  return moves[key];
}
