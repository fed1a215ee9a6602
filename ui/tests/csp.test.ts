// The webview runs under `default-src 'self'`: inline style attributes and inline
// scripts are blocked there, so they must never appear in the sources.
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(fileURLToPath(import.meta.url), "..", "..");

function svelteFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return svelteFiles(path);
    return entry.name.endsWith(".svelte") ? [path] : [];
  });
}

/** The markup of a component: without its <script> and <style> blocks. */
const markup = (source: string) =>
  source.replace(/<script[\s\S]*?<\/script>/g, "").replace(/<style[\s\S]*?<\/style>/g, "");

describe("content security policy", () => {
  const files = svelteFiles(join(root, "src"));

  it("finds the components to check", () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it("no component uses a style attribute or style: directive", () => {
    const offenders = files.filter((file) => /\sstyle(=|:)/.test(markup(readFileSync(file, "utf8"))));
    expect(offenders.map((f) => relative(root, f)), "use a class instead; the CSP blocks inline styles").toEqual([]);
  });

  it("index.html loads only the module entry, with no inline script or style", () => {
    const html = readFileSync(join(root, "index.html"), "utf8");
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((m) => [m[1].trim(), m[2].trim()])).toEqual([['type="module" src="/src/main.ts"', ""]]);
    expect(html).not.toMatch(/<style|\sstyle=/);
    expect(html, "no fonts or scripts from another origin").not.toMatch(/https?:\/\//);
  });
});
