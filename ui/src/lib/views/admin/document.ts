// The layout document as the Admin page's form edits it: parsed from the editor's
// text, changed in place, written back the way Ringside writes layouts (two-space JSON
// and a final newline), so the JSON editor and the review diff show only what the
// form changed. Whatever the form does not know stays as it was. Whether the result
// is a valid layout is the core's to say (validateLayout), never this module's.

export type Json = null | boolean | number | string | Json[] | JsonObject;
export type JsonObject = { [key: string]: Json };

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The document, or null when the text is not a JSON object. */
export function parseDocument(text: string): JsonObject | null {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

export const writeDocument = (doc: JsonObject): string => `${JSON.stringify(doc, null, 2)}\n`;

/** `text` with `change` made to its document, or null when the text does not parse. */
export function rewrite(text: string, change: (doc: JsonObject) => void): string | null {
  const doc = parseDocument(text);
  if (!doc) return null;
  change(doc);
  return writeDocument(doc);
}

/** The object under `key`, made (in place of anything else) when there is none. */
export function child(parent: JsonObject, key: string): JsonObject {
  const value = parent[key];
  if (isObject(value)) return value;
  const made: JsonObject = {};
  parent[key] = made;
  return made;
}

/** The value at `path` (through objects only), if there is one. */
export function read(doc: JsonObject, ...path: string[]): Json | undefined {
  let value: Json | undefined = doc;
  for (const key of path) {
    if (!isObject(value)) return undefined;
    value = value[key];
  }
  return value;
}

/** The object at `path`, made along the way where missing. */
export function reach(doc: JsonObject, ...path: string[]): JsonObject {
  return path.reduce((parent, key) => child(parent, key), doc);
}

export const text = (value: Json | undefined): string => (typeof value === "string" ? value : "");

export const flag = (value: Json | undefined): boolean => value === true;

export const texts = (value: Json | undefined): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

/** The objects of a list (anything else in it is left out of the form, not removed). */
export const objects = (value: Json | undefined): JsonObject[] => (Array.isArray(value) ? value.filter(isObject) : []);

/** Items of a comma- or line-separated list, trimmed, empty ones dropped. */
export const splitList = (value: string, separator: RegExp): string[] =>
  value
    .split(separator)
    .map((item) => item.trim())
    .filter((item) => item !== "");

/** `list` with the item at `index` moved by `delta` places (unchanged at the ends). */
export function moved<T>(list: readonly T[], index: number, delta: number): T[] {
  const to = index + delta;
  const copy = [...list];
  if (to < 0 || to >= copy.length) return copy;
  [copy[index], copy[to]] = [copy[to], copy[index]];
  return copy;
}

/**
 * A newly added searched object, shaped as the built-in ones. Its phone and name
 * fields are the common standard ones; the core's check says when the object has
 * other names.
 */
export function newSearchObject(object: string): JsonObject {
  return {
    object,
    phoneFields: ["Phone"],
    nameField: "Name",
    popFields: [],
    countryField: null,
    stateField: null,
    accountField: null,
    filter: null,
  };
}

export const callTypes = ["inbound", "outbound", "internal"] as const;
export type DocCallType = (typeof callTypes)[number];

/** The six on/off settings the form offers, by document name. */
export const onOffSettings = [
  "autoSaveLogs",
  "ignoreInternalCalls",
  "editablePerson",
  "emailAttendeesOnLaunch",
  "usePmi",
  "joinBeforeHost",
] as const;
