// The caller pop in the built app against the test org (tests/sforg), which answers
// like Salesforce: sign in (with the CLI, as the app shares its keyring), see the
// connection in Settings, look a number up, choose among several records, and create a
// Lead for an unknown caller that matches at once on the next look-up.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as harness from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const APP = process.env.RINGSIDE_APP;
const CLI = process.env.RINGSIDE_CLI;
const SFORG = process.env.RINGSIDE_SFORG;
const OUT = join(here, "out");
const dataDir = mkdtempSync(join(tmpdir(), "ringside-e2e-sf-"));
// The app opens the sign-in page with xdg-open, which runs $BROWSER on a machine
// without a desktop environment: fake-browser follows it as a rep's browser would.
const env = {
  ...process.env, RINGSIDE_DATA_DIR: dataDir, LANG: "en_US.UTF-8", LC_ALL: "en_US.UTF-8", LANGUAGE: "en",
  BROWSER: join(here, "fake-browser"), XDG_CURRENT_DESKTOP: "",
  RINGSIDE_OPENED_LOG: join(dataDir, "opened.txt"),
};
const opened = () => { try { return readFileSync(env.RINGSIDE_OPENED_LOG, "utf8").split("\n").filter(Boolean); } catch { return []; } };

let org;
let orgUrl;
let browser;
let byId;
let text;
let shot;

const cli = (...args) => execFileSync(CLI, args, { env }).toString();

const lookUp = (number) => harness.lookUp(browser, byId, number);

let close;

before(async () => {
  assert.ok(APP && CLI && SFORG, "RINGSIDE_APP, RINGSIDE_CLI and RINGSIDE_SFORG name the built binaries");
  ({ org, orgUrl, browser, byId, text, shot, close } = await harness.startSignedInApp({
    app: APP, sforg: SFORG, cli: CLI, env, outDir: OUT, dataDir, extraArgs: ["--search-delay-secs", "600"],
  }));
});

after(async () => close?.());

test("Settings → Salesforce shows the connection and the org's API usage", async () => {
  await (await byId("nav-settings")).click();
  await (await byId("settings-salesforce")).waitForDisplayed({ timeout: 10000 });
  await browser.waitUntil(async () => (await text("sf-status")).includes(orgUrl), {
    timeout: 10000, timeoutMsg: "the status names the connected org",
  });
  await browser.execute(() => document.querySelector('[data-testid="settings-salesforce"]').scrollIntoView());
  await shot("10-settings-salesforce-connected");
});

test("looking up a number pops the one Contact who has it", async () => {
  await lookUp("01 23 45 67 89");
  await browser.waitUntil(async () => (await text("pop")).includes("Marie Dubois"), { timeout: 15000, timeoutMsg: "Marie Dubois pops" });
  const pop = await text("pop");
  assert.match(pop, /Lumière SA/, "her account shows");
  assert.match(pop, /Directrice des achats/, "her title shows");
  assert.match(await text("pop-local-time"), /Europe\/Paris/, "her local time shows");
  await (await byId("pop-open")).waitForDisplayed({ timeout: 5000 });
  // Her open opportunity and case, read from the org when the card shows.
  await (await byId("pop-related-opportunities")).waitForDisplayed({ timeout: 15000 });
  assert.match(await text("pop-related-opportunities"), /Renouvellement casques 2027/);
  assert.match(await text("pop-related-cases"), /appairage Bluetooth/);
  await browser.execute(() => document.querySelector('[data-testid="pop-record"]').scrollIntoView());
  await shot("11-pop-one-contact");
});

test("a call logged from the pop lands in the org as one Task on the person and the related opportunity", async () => {
  // The pop still shows Marie Dubois from the previous test.
  await (await byId("pop-log-call")).click();
  const form = await byId("log-form");
  await form.waitForDisplayed({ timeout: 10000 });
  assert.match(await text("picker-who-value"), /Marie Dubois/, "the person is the pop's record");
  // Related to: her open opportunity, offered before any search.
  await (await byId("picker-what-change")).click();
  let opportunity;
  await browser.waitUntil(async () => {
    for (const c of await browser.$$('[data-testid="picker-what-result"]')) {
      if ((await c.getProperty("textContent")).includes("Renouvellement casques 2027")) { opportunity = c; return true; }
    }
    return false;
  }, { timeout: 15000, timeoutMsg: "her open opportunity is offered" });
  await shot("16-call-log-related-choices");
  await opportunity.click();
  await (await byId("log-disposition")).selectByVisibleText("Meeting booked");
  await (await byId("log-minutes")).setValue("3");
  // WebKitWebDriver types BMP characters only; emoji are covered by the core tests.
  const notes = "Veut 40 casques — démo jeudi, 予約";
  await (await byId("log-notes")).setValue(notes);
  await shot("16-call-log-form-filled");
  await (await byId("log-save")).click();
  await browser.waitUntil(async () => (await (await byId("sync-state")).getAttribute("data-state")) === "synced", {
    timeout: 20000, timeoutMsg: "the log reaches Salesforce",
  });
  await browser.execute(() => document.querySelector('[data-testid="log-form"]').scrollIntoView());
  await shot("17-call-log-synced");
  const tasks = await (await fetch(`${orgUrl}/__admin/records/Task`)).json();
  const mine = tasks.filter((t) => t.Description === notes);
  assert.equal(mine.length, 1, "exactly one Task");
  assert.equal(mine[0].CallDisposition, "Meeting booked");
  assert.equal(mine[0].TaskSubtype, "Call");
  assert.equal(mine[0].CallDurationInSeconds, 180);
  assert.match(mine[0].Subject, /Marie Dubois/);
  assert.ok(mine[0].WhatId?.startsWith("006"), "related to the opportunity");
});

test("a log saved while Salesforce is down waits with the reason, and Sync now sends it", async () => {
  await fetch(`${orgUrl}/__admin/faults`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind: "serviceUnavailable", trigger: { probability: 1.0 } }),
  });
  await (await byId("log-back")).click();
  await (await byId("history-new-number")).setValue("+81 3-1234-5678");
  await (await byId("history-new")).click();
  await (await byId("log-form")).waitForDisplayed({ timeout: 10000 });
  await (await byId("log-notes")).setValue("Called while the org was down");
  await (await byId("log-save")).click();
  await browser.waitUntil(async () => /Service Unavailable/.test(await text("log-form")), {
    timeout: 20000, timeoutMsg: "the reason of the wait is shown",
  });
  await (await byId("log-back")).click();
  await (await byId("history-entry")).waitForDisplayed({ timeout: 10000 });
  await shot("18-history-waiting");
  await fetch(`${orgUrl}/__admin/faults`, { method: "DELETE" });
  await (await byId("history-sync")).click();
  await browser.waitUntil(async () => {
    const states = await browser.$$('[data-testid="sync-state"]');
    for (const s of states) if ((await s.getAttribute("data-state")) !== "synced") return false;
    return states.length >= 2;
  }, { timeout: 20000, timeoutMsg: "everything is in Salesforce after Sync now" });
  await shot("19-history-synced");
  const tasks = await (await fetch(`${orgUrl}/__admin/records/Task`)).json();
  assert.equal(tasks.filter((t) => t.Description === "Called while the org was down").length, 1);
});

test("a shared main line offers a chooser in the layout's priority", async () => {
  await lookUp("+1 415 555 1212");
  const chooser = await byId("pop-chooser");
  await chooser.waitForDisplayed({ timeout: 15000 });
  const rows = await chooser.$$("button");
  assert.ok(rows.length >= 3, `three records share the number (${rows.length})`);
  const last = (await rows[rows.length - 1].getProperty("textContent")).trim();
  assert.match(last, /Acme Corp/, "the Account comes after the Contacts");
  await shot("12-pop-chooser");
});

test("an unknown caller becomes a Lead that matches on the very next look-up", async () => {
  await lookUp("+33 6 55 44 33 22");
  await (await byId("pop-create")).waitForDisplayed({ timeout: 15000 }).catch(async (e) => {
    await shot("13-failed-pop-create");
    console.log("pop text:", await text("pop"));
    throw e;
  });
  await shot("13-pop-none-create");
  await (await byId("pop-create-lead")).click();
  await (await byId("pop-create-last-name")).setValue("Nouveau");
  await (await byId("pop-create-company")).setValue("Client inconnu");
  await (await byId("pop-create-submit")).click();
  await browser.waitUntil(async () => (await text("pop")).includes("Nouveau"), { timeout: 15000, timeoutMsg: "the new Lead is shown" });
  // Salesforce's search index will not list the Lead for ten minutes; look again now.
  await lookUp("+33 6 55 44 33 22");
  await browser.waitUntil(async () => (await text("pop")).includes("Nouveau"), { timeout: 15000, timeoutMsg: "the Lead matches at once" });
  await shot("14-pop-created-lead-matches");
  const leads = await (await fetch(`${orgUrl}/__admin/records/Lead`)).json();
  const list = Array.isArray(leads) ? leads : leads.records ?? [];
  assert.equal(list.filter((l) => l.LastName === "Nouveau").length, 1, "exactly one Lead was created");
});

test("a meeting started from the pop opens its room and lands in the org as one Event on the person", async () => {
  await lookUp("01 23 45 67 89");
  await browser.waitUntil(async () => (await text("pop")).includes("Marie Dubois"), { timeout: 15000, timeoutMsg: "Marie Dubois pops" });
  const before = Date.now();
  await (await byId("pop-meet")).click();
  await browser.waitUntil(async () => (await (await byId("pop-meeting")).isExisting()) || (await (await byId("pop-meet-error")).isExisting()), {
    timeout: 10000, timeoutMsg: "the meeting starts (or says why not)",
  });
  if (await (await byId("pop-meet-error")).isExisting()) assert.fail(`the meeting did not start: ${await text("pop-meet-error")}`);
  const url = await text("pop-meeting-url");
  assert.match(url, /^https:\/\/meet\.jit\.si\/MeetingWithMarieDubois-[a-z2-7]{26}$/, "a room nobody can guess, on the default server");
  await browser.waitUntil(async () => opened().includes(url), { timeout: 10000, timeoutMsg: "the room was opened in the browser" });
  const chip = await browser.$('[data-testid="pop-meeting"] [data-testid="sync-state"]');
  await browser.waitUntil(async () => (await chip.getAttribute("data-state")) === "synced", {
    timeout: 20000, timeoutMsg: "the meeting's Event reaches Salesforce",
  });
  await browser.execute(() => document.querySelector('[data-testid="pop-meeting"]').scrollIntoView());
  await shot("18-pop-meeting-started");
  const events = (await (await fetch(`${orgUrl}/__admin/records/Event`)).json()).filter((e) => e.Location === url);
  assert.equal(events.length, 1, "exactly one Event");
  assert.equal(events[0].Subject, "Meeting with Marie Dubois");
  assert.ok(events[0].WhoId?.startsWith("003"), "on the Contact");
  assert.ok(events[0].WhatId?.startsWith("001"), "related to her Account");
  assert.ok(Math.abs(Date.parse(events[0].StartDateTime.replace("+0000", "Z")) - before) < 120000, "starting now");
  assert.match(events[0].Description, /Invitees: marie\.dubois@lumiere\.example/, "her address, from the pop");
  await (await byId("nav-meetings")).click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="meeting-entry"]')).length >= 1, {
    timeout: 10000, timeoutMsg: "the Meetings view lists it",
  });
  assert.match(await text("meeting-topic"), /Meeting with Marie Dubois/);
  await shot("19-meetings-view");
});

test("a meeting scheduled in New York across its DST change lands at the right instant, with an .ics in that zone", async () => {
  await lookUp("01 23 45 67 89");
  await browser.waitUntil(async () => (await text("pop")).includes("Marie Dubois"), { timeout: 15000, timeoutMsg: "Marie Dubois pops" });
  await (await byId("pop-schedule")).click();
  await (await byId("schedule-form")).waitForDisplayed({ timeout: 5000 });
  // Date and time inputs are set as a rep's picker sets them: value, then an input event.
  const set = (id, value) => browser.execute((id, value) => {
    const el = document.querySelector(`[data-testid="${id}"]`);
    el.value = value;
    el.dispatchEvent(new Event("input", { bubbles: true }));
  }, id, value);
  await browser.waitUntil(async () => (await (await byId("schedule-invitees")).getValue()) === "marie.dubois@lumiere.example", {
    timeout: 5000, timeoutMsg: "her address is the invitee",
  });
  await set("schedule-zone", "America/New_York");
  await set("schedule-date", "2027-03-14");
  await set("schedule-time", "02:30");
  await browser.waitUntil(async () => /does not exist in America\/New_York/.test(await text("schedule-problem").catch(() => "")), {
    timeout: 5000, timeoutMsg: "the hour the clocks skip is refused before anything is made",
  });
  await set("schedule-date", "2027-03-15");
  await set("schedule-time", "10:00");
  await browser.waitUntil(async () => /America\/New_York/.test(await text("schedule-times").catch(() => "")), { timeout: 5000 });
  await shot("20-schedule-form");
  await (await byId("schedule-submit")).click();
  await browser.waitUntil(async () => /scheduled for/.test(await text("pop-meeting").catch(() => "")), {
    timeout: 10000, timeoutMsg: "the scheduled meeting shows under the record",
  });
  const url = await text("pop-meeting-url");
  const chip = await browser.$('[data-testid="pop-meeting"] [data-testid="sync-state"]');
  await browser.waitUntil(async () => (await chip.getAttribute("data-state")) === "synced", { timeout: 20000, timeoutMsg: "its Event reaches Salesforce" });
  const events = (await (await fetch(`${orgUrl}/__admin/records/Event`)).json()).filter((e) => e.Location === url);
  assert.equal(events.length, 1);
  assert.equal(events[0].StartDateTime, "2027-03-15T14:00:00.000+0000", "10:00 EDT, after the change");
  assert.equal(events[0].EndDateTime, "2027-03-15T14:30:00.000+0000");
  assert.ok(!opened().includes(url), "a scheduled room is not opened now");
  await (await byId("pop-meeting-ics")).click();
  await (await byId("pop-meeting-ics-saved")).waitForDisplayed({ timeout: 5000 });
  const path = (await text("pop-meeting-ics-saved")).replace(/^[^:]*:\s*/, "");
  const ics = readFileSync(path, "utf8").replaceAll("\r\n ", "");
  assert.match(ics, /DTSTART;TZID=America\/New_York:20270315T100000/);
  assert.match(ics, /BEGIN:DAYLIGHT\r\nDTSTART:20270314T020000/);
  assert.match(ics, /mailto:marie\.dubois@lumiere\.example/);
  await browser.execute(() => document.querySelector('[data-testid="pop-meeting"]').scrollIntoView());
  await shot("21-pop-meeting-scheduled");
});

test("signing out and connecting again from Settings goes through the browser", async () => {
  await (await byId("nav-settings")).click();
  await (await byId("settings-salesforce")).waitForDisplayed({ timeout: 10000 });
  await (await byId("sf-sign-out")).click();
  await browser.waitUntil(async () => !(await text("sf-status")).includes(orgUrl), {
    timeout: 10000, timeoutMsg: "signed out",
  });
  const connect = await byId("sf-connect");
  await browser.waitUntil(async () => connect.isEnabled(), { timeout: 5000 });
  await connect.click();
  await browser.waitUntil(async () => (await text("sf-status")).includes(orgUrl), {
    timeout: 30000, timeoutMsg: "connected again through the browser and the loopback redirect",
  });
  await browser.execute(() => document.querySelector('[data-testid="settings-salesforce"]').scrollIntoView());
  await shot("15-settings-salesforce-reconnected");
});
