// Meetings in the built app against the test org and the Zoom- and Webex-compatible
// test servers: connect both from Settings through the browser, start a Zoom meeting
// from the pop (its start link is what the browser opens), schedule a Webex meeting in
// New York across its DST change, let the servers end them and "Sync now" write how
// they went onto the same Events, record a meeting held elsewhere, and read Reports.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as harness from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const APP = process.env.RINGSIDE_APP;
const CLI = process.env.RINGSIDE_CLI;
const SFORG = process.env.RINGSIDE_SFORG;
const MEETSRV = process.env.RINGSIDE_MEETSRV;
const OUT = join(here, "out");
const dataDir = mkdtempSync(join(tmpdir(), "ringside-e2e-meetings-"));
const opened = join(dataDir, "opened.txt");
const env = {
  ...process.env, RINGSIDE_DATA_DIR: dataDir, LANG: "en_US.UTF-8", LC_ALL: "en_US.UTF-8", LANGUAGE: "en",
  BROWSER: join(here, "fake-browser"), XDG_CURRENT_DESKTOP: "", RINGSIDE_OPENED_LOG: opened,
};

let meetsrv;
let meetUrl;
let orgUrl;
let browser;
let byId;
let text;
let shot;
let close;

const cli = (...args) => execFileSync(CLI, args, { env }).toString();
const openedSoFar = () => (existsSync(opened) ? readFileSync(opened, "utf8") : "");
const events = async () => (await fetch(`${orgUrl}/__admin/records/Event`)).json();
const post = (path, body) => fetch(`${meetUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** Sets an input or select as a picker does: the value, then input and change events. */
const set = (id, value) => browser.execute((id, value) => {
  const el = document.querySelector(`[data-testid="${id}"]`);
  el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
  el.dispatchEvent(new Event("change", { bubbles: true }));
}, id, value);

async function shotAt(id, name) {
  await browser.execute((testId) => document.querySelector(`[data-testid="${testId}"]`)?.scrollIntoView({ block: "center" }), id);
  await shot(name);
}

async function lookUpMarie() {
  await harness.lookUp(browser, byId, "01 23 45 67 89");
  await browser.waitUntil(async () => (await text("pop")).includes("Marie Dubois"), { timeout: 15000, timeoutMsg: "Marie Dubois pops" });
}

async function providerOptionEnabled(selectId, provider) {
  return browser.execute((id, p) => {
    const option = document.querySelector(`[data-testid="${id}"] option[value="${p}"]`);
    return option !== null && !option.disabled;
  }, selectId, provider);
}

const meetingRows = () => JSON.parse(cli("--json", "meeting", "list", "--days", "400"));

before(async () => {
  assert.ok(APP && CLI && SFORG && MEETSRV, "RINGSIDE_APP, RINGSIDE_CLI, RINGSIDE_SFORG and RINGSIDE_MEETSRV name the built binaries");
  const port = await harness.freePort();
  meetUrl = `http://127.0.0.1:${port}`;
  meetsrv = spawn(MEETSRV, ["--port", String(port)], { stdio: "ignore" });
  await harness.waitForPort(port, 30000);
  cli("settings", "set", "zoomClientId", "ringsideZoomPublic01");
  cli("settings", "set", "zoomOauthUrl", meetUrl);
  cli("settings", "set", "webexClientId", "C0ringsideWebexIntegration01");
  cli("settings", "set", "webexUrl", meetUrl);
  ({ orgUrl, browser, byId, text, shot, close } = await harness.startSignedInApp({
    app: APP, sforg: SFORG, cli: CLI, env, outDir: OUT, dataDir, extraArgs: ["--search-delay-secs", "0"],
  }));
});

after(async () => {
  await close?.();
  meetsrv?.kill();
});

test("Zoom and Webex are connected from Settings through the browser", async () => {
  await (await byId("nav-settings")).click();
  await (await byId("meetings-section")).waitForDisplayed({ timeout: 10000 });
  for (const p of ["zoom", "webex"]) {
    const state = await byId(`provider-state-${p}`);
    await browser.waitUntil(async () => (await state.getAttribute("data-state")) === "notConnected", { timeout: 10000, timeoutMsg: `${p} is set up, not connected` });
    await (await byId(`connect-${p}`)).click();
    await browser.waitUntil(async () => (await state.getAttribute("data-state")) === "connected", {
      timeout: 30000, timeoutMsg: `${p} connects once the browser comes back`,
    });
  }
  assert.match(openedSoFar(), /\/oauth\/authorize\?.*code_challenge_method=S256/, "Zoom's sign-in page, with PKCE");
  assert.match(openedSoFar(), /\/v1\/authorize\?.*code_challenge=/, "Webex's sign-in page, with PKCE");
  await shotAt("meetings-section", "50-settings-meetings-connected");
});

test("a Zoom meeting from the pop opens its start link and lands in the org as one Event", async () => {
  await lookUpMarie();
  await browser.waitUntil(async () => providerOptionEnabled("pop-meet-provider", "zoom"), { timeout: 10000, timeoutMsg: "Zoom can be picked" });
  await set("pop-meet-provider", "zoom");
  await (await byId("pop-meet")).click();
  await browser.waitUntil(async () => (await (await byId("pop-meeting")).isExisting()) || (await (await byId("pop-meet-error")).isExisting()), {
    timeout: 15000, timeoutMsg: "the meeting starts (or says why not)",
  });
  if (await (await byId("pop-meet-error")).isExisting()) assert.fail(`the meeting did not start: ${await text("pop-meet-error")}`);
  const url = await text("pop-meeting-url");
  assert.ok(url.startsWith(`${meetUrl}/j/`), url);
  await browser.waitUntil(async () => /\/s\/\d+\?zak=/.test(openedSoFar()), { timeout: 10000, timeoutMsg: "the host's start link is opened" });
  const chip = await browser.$('[data-testid="pop-meeting"] [data-testid="sync-state"]');
  await browser.waitUntil(async () => (await chip.getAttribute("data-state")) === "synced", { timeout: 20000, timeoutMsg: "its Event reaches Salesforce" });
  const mine = (await events()).filter((e) => e.Location === url);
  assert.equal(mine.length, 1);
  assert.match(mine[0].Description, /Meeting ID: \d+/);
  await shotAt("pop-meeting", "51-pop-zoom-meeting-started");
});

test("a Webex meeting scheduled in New York across its DST change is created at the right instant", async () => {
  await lookUpMarie();
  await (await byId("pop-schedule")).click();
  await (await byId("schedule-form")).waitForDisplayed({ timeout: 5000 });
  await browser.waitUntil(async () => providerOptionEnabled("schedule-provider", "webex"), { timeout: 10000, timeoutMsg: "Webex can be picked" });
  await set("schedule-provider", "webex");
  await set("schedule-zone", "America/New_York");
  await set("schedule-date", "2027-03-15");
  await set("schedule-time", "09:30");
  await browser.waitUntil(async () => /America\/New_York/.test(await text("schedule-times").catch(() => "")), { timeout: 5000 });
  await shotAt("schedule-form", "52-schedule-webex-new-york");
  await (await byId("schedule-submit")).click();
  await browser.waitUntil(async () => /scheduled for/.test(await text("pop-meeting").catch(() => "")), {
    timeout: 15000, timeoutMsg: "the scheduled meeting shows under the record",
  });
  const url = await text("pop-meeting-url");
  assert.ok(url.startsWith(`${meetUrl}/webex/m/`), url);
  const chip = await browser.$('[data-testid="pop-meeting"] [data-testid="sync-state"]');
  await browser.waitUntil(async () => (await chip.getAttribute("data-state")) === "synced", { timeout: 20000, timeoutMsg: "its Event reaches Salesforce" });
  const mine = (await events()).filter((e) => e.Location === url);
  assert.equal(mine.length, 1);
  assert.equal(mine[0].StartDateTime, "2027-03-15T13:30:00.000+0000", "09:30 EDT, the day after the change");
  const series = await (await fetch(`${meetUrl}/_admin/webex/meetings`)).json();
  assert.ok(series.some((s) => s.start === "2027-03-15T09:30:00-04:00" && s.timezone === "America/New_York"), JSON.stringify(series));
});

test("once the servers end both meetings, Sync now writes how they went onto the same Events", async () => {
  const rows = meetingRows();
  const zoom = rows.find((m) => m.provider === "zoom");
  const webex = rows.find((m) => m.provider === "webex");
  assert.ok(zoom && webex, JSON.stringify(rows.map((m) => m.provider)));
  const attendees = [
    { name: "Rita Rep", email: "rep@example.com" },
    { name: "Marie Dubois", email: "marie.dubois@lumiere.example" },
  ];
  const startedAt = Math.floor(Date.now() / 1000) - 3600;
  assert.ok((await post(`/_admin/zoom/meetings/${zoom.number}/end`, { startedAt, minutes: 34, attendees, recorded: true })).ok);
  assert.ok((await post(`/_admin/webex/meetings/${webex.meetingId}/end`, { startedAt, minutes: 21, attendees, recorded: false })).ok);
  const before = (await events()).length;

  await (await byId("nav-meetings")).click();
  await (await byId("meetings-sync")).waitForDisplayed({ timeout: 10000 });
  await (await byId("meetings-sync")).click();
  await (await byId("meetings-sync-result")).waitForDisplayed({ timeout: 30000 });
  await browser.waitUntil(async () => {
    const all = await events();
    const z = all.find((e) => e.Location === zoom.joinUrl);
    const w = all.find((e) => e.Location === webex.joinUrl);
    return /^Held: .*34 min, 2 attended/.test(z?.Description ?? "") && /^Held: .*21 min, 2 attended/.test(w?.Description ?? "");
  }, { timeout: 30000, timeoutMsg: "both Events say how the meetings went" });
  assert.equal((await events()).length, before, "the same Events, updated, not new ones");
  const z = (await events()).find((e) => e.Location === zoom.joinUrl);
  assert.match(z.Description, /Recording: /);
  await shot("53-meetings-synced");
});

test("a Webex meeting held elsewhere is found, matched to its Contact by email and recorded once", async () => {
  const startedAt = Math.floor(Date.now() / 1000) - 2 * 86400;
  const r = await post("/_admin/webex/past", {
    title: "Lumière supplier review", startedAt, minutes: 40, hostEmail: "rep@example.com",
    attendees: [{ name: "Rita Rep", email: "rep@example.com" }, { name: "Marie Dubois", email: "Marie.Dubois@lumiere.example" }, { name: "Priya Nair" }],
  });
  assert.ok(r.ok);
  await (await byId("nav-meetings")).click();
  await (await byId("meetings-tab-held")).click();
  await (await byId("held-elsewhere")).waitForDisplayed({ timeout: 10000 });
  await set("held-provider", "webex");
  await (await byId("held-lookup")).click();
  // Listed: the meeting held elsewhere, and the one made in Ringside (already recorded).
  await browser.waitUntil(async () => (await browser.$$('[data-testid="held-entry"]')).length >= 2, { timeout: 20000, timeoutMsg: "both meetings are listed" });
  const entries = await browser.execute(() => [...document.querySelectorAll('[data-testid="held-entry"]')].map((e) => ({
    topic: e.querySelector('[data-testid="held-topic"]')?.textContent ?? "",
    recorded: e.getAttribute("data-recorded"),
    matches: [...e.querySelectorAll('[data-testid="held-attendee"]')].map((a) => a.getAttribute("data-match")).sort(),
  })));
  const elsewhere = entries.find((e) => /Lumière supplier review/.test(e.topic));
  assert.deepEqual(elsewhere.matches, ["email", "host", "name"], "host, by email whatever the case, by name without an address");
  assert.equal(elsewhere.recorded, "false");
  assert.ok(entries.some((e) => e.recorded === "true"), "the meeting made in Ringside shows as recorded");
  await shotAt("held-elsewhere", "54-held-elsewhere-matched");
  const before = (await events()).length;
  await (await byId("held-record")).click();
  await (await byId("held-recorded-message")).waitForDisplayed({ timeout: 15000 });
  await browser.waitUntil(async () => (await events()).some((e) => /Lumière supplier review/.test(e.Subject ?? "")), {
    timeout: 20000, timeoutMsg: "its Event reaches Salesforce",
  });
  const recorded = (await events()).filter((e) => /Lumière supplier review/.test(e.Subject ?? ""));
  assert.equal(recorded.length, 1);
  assert.equal((await events()).length, before + 1);
  assert.match(recorded[0].Description, /^Held: .*40 min, 3 attended/);
  const marie = (await (await fetch(`${orgUrl}/__admin/records/Contact`)).json()).find((c) => c.Email === "marie.dubois@lumiere.example");
  assert.equal(recorded[0].WhoId, marie.Id, "on her Contact");
  await (await byId("held-lookup")).click();
  await browser.waitUntil(async () => browser.execute(() => [...document.querySelectorAll('[data-testid="held-entry"]')].every((e) => e.getAttribute("data-recorded") === "true")), {
    timeout: 15000, timeoutMsg: "listed again, both show as recorded",
  });
});

test("Reports count the meetings by status and by host and export a table as CSV", async () => {
  await (await byId("nav-reports")).click();
  await (await byId("reports-summary")).waitForDisplayed({ timeout: 10000 });
  await browser.waitUntil(async () => Number((await text("reports-meetings")).replace(/\D/g, "")) >= 2, { timeout: 10000, timeoutMsg: "the meetings are counted" });
  const held = await browser.execute(() => document.querySelector('[data-testid="chart-meetingsByStatus"] [data-key="held"]')?.getAttribute("data-value"));
  assert.ok(Number(held) >= 2, `held meetings: ${held}`);
  await shot("55-reports");
  await (await byId("report-export-meetingsByStatus")).click();
  await (await byId("report-saved-meetingsByStatus")).waitForDisplayed({ timeout: 10000 });
  const path = (await text("report-saved-meetingsByStatus")).replace(/^[^/]*/, "");
  const csv = readFileSync(path.trim(), "utf8");
  assert.match(csv, /^status,meetings\r\n/);
  assert.match(csv, /\r\nheld,\d+\r\n/);
});
