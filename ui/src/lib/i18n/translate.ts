// Pure lookup and interpolation behind `t()`; kept free of Svelte state so the
// fallback rules can be tested directly. Never throws: a UI string must render.
export type Params = Readonly<Record<string, string | number>>;

/** Replaces `{name}` with `params.name`; a placeholder without a value is left visible. */
export function interpolate(template: string, params: Params): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

/**
 * The text for `key` in `messages`, else in `fallback` (English), else the key
 * itself — a gap shows up as a readable key rather than an empty label.
 */
export function translate<K extends string>(
  messages: Partial<Record<K, string>>,
  fallback: Partial<Record<K, string>>,
  key: K,
  params?: Params,
): string {
  const template = messages[key] ?? fallback[key] ?? key;
  return params ? interpolate(template, params) : template;
}
