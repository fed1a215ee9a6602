// The admin layout in the built app against the test org: a layout published with the
// CLI reaches the running app by itself (the poll, shortened here) and changes the pop's
// fields and the call-log form; a broken one is refused with its place in the document
// and the good one stays; the rep's own switch survives; the Admin page checks as you
// type, shows the changes and publishes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as harness from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const APP = process.env.RINGSIDE_APP;
const CLI = process.env.RINGSIDE_CLI;
const SFORG = process.env.RINGSIDE_SFORG;
const OUT = join(here, "out");
const dataDir = mkdtempSync(join(tmpdir(), "ringside-e2e-layout-"));
const env = {
  ...process.env, RINGSIDE_DATA_DIR: dataDir, LANG: "en_US.UTF-8", LC_ALL: "en_US.UTF-8", LANGUAGE: "en",
  BROWSER: join(here, "fake-browser"), XDG_CURRENT_DESKTOP: "",
  RINGSIDE_OPENED_LOG: join(dataDir, "opened.txt"),
  // The app checks its layout every 2 s instead of every 15 minutes.
  RINGSIDE_LAYOUT_POLL_SECS: "2",
};

let org;
let orgUrl;
let browser;
let byId;
let text;
let shot;
let me;

const cli = (...args) => execFileSync(CLI, args, { env }).toString();
const builtIn = () => JSON.parse(cli("layout", "default"));

function publish(doc, ...target) {
  const file = join(dataDir, "layout.json");
  writeFileSync(file, JSON.stringify(doc, null, 2));
  return cli("layout", "publish", file, ...(target.length ? target : ["--org"]));
}

async function lookUp(number) {
  await harness.lookUp(browser, byId, number);
  await browser.waitUntil(async () => (await text("pop")).includes("Marie Dubois"), { timeout: 15000, timeoutMsg: "Marie Dubois pops" });
}

/** A screenshot with `id` scrolled into view: the picture shows what was checked. */
async function shotAt(id, name) {
  await browser.execute((testId) => document.querySelector(`[data-testid="${testId}"]`)?.scrollIntoView({ block: "center" }), id);
  await shot(name);
}

async function settingsLayout() {
  await (await byId("nav-settings")).click();
  await (await byId("layout-section")).waitForDisplayed({ timeout: 10000 });
  await browser.execute(() => document.querySelector('[data-testid="layout-section"]').scrollIntoView());
}

let close;

before(async () => {
  assert.ok(APP && CLI && SFORG, "RINGSIDE_APP, RINGSIDE_CLI and RINGSIDE_SFORG name the built binaries");
  ({ org, orgUrl, browser, byId, text, shot, close } = await harness.startSignedInApp({
    app: APP, sforg: SFORG, cli: CLI, env, outDir: OUT, dataDir, extraArgs: ["--search-delay-secs", "0"],
  }));
});

after(async () => close?.());

test("a layout published with the CLI reaches the running app and changes the pop and the form", async () => {
  await lookUp("01 23 45 67 89");
  assert.match(await text("pop-fields"), /Directrice des achats/, "the built-in layout shows her title");

  const doc = builtIn();
  doc.name = "Inside sales";
  doc.calls.inbound.search[0].popFields = ["Email", "MobilePhone"];
  doc.calls.outbound.search[0].popFields = ["Email", "MobilePhone"];
  doc.callLog.dispositions.values = ["Interested", "Not interested", "Call back"];
  const t0 = Date.now();
  assert.match(publish(doc), /Published version 1 for the org default/);

  // No click: the app's own poll picks it up.
  await settingsLayout();
  await browser.waitUntil(async () => (await text("layout-name")).includes("Inside sales"), {
    timeout: 20000, timeoutMsg: "the app applies the published layout by itself",
  });
  console.log(`published → shown in Settings: ${Date.now() - t0} ms (poll every 2 s)`);
  assert.match(await text("layout-origin"), /1/);
  await shot("40-settings-layout-applied");

  await lookUp("01 23 45 67 89");
  const fields = await text("pop-fields");
  assert.match(fields, /marie\.dubois@lumiere\.example/);
  assert.doesNotMatch(fields, /Directrice des achats/, "the title is no longer in the pop");
  await shotAt("pop-fields", "41-pop-with-the-published-fields");

  await (await byId("pop-log-call")).click();
  await (await byId("log-form")).waitForDisplayed({ timeout: 10000 });
  const choices = await browser.execute(() => [...document.querySelectorAll('[data-testid="log-disposition"] option')].map((o) => o.textContent.trim()));
  for (const d of ["Interested", "Not interested", "Call back"]) assert.ok(choices.includes(d), `${d} offered: ${choices}`);
  assert.ok(!choices.includes("Meeting booked"), "the built-in dispositions are gone");
  await shotAt("log-disposition", "42-log-form-with-the-published-dispositions");
  await (await byId("log-back")).click();
});

test("a broken layout is refused with its place in the document and the good one stays", async () => {
  // The CLI refuses to publish it…
  const bad = builtIn();
  bad.name = "Broken";
  bad.calls.inbound.search[1].popFeilds = bad.calls.inbound.search[1].popFields;
  delete bad.calls.inbound.search[1].popFields;
  assert.throws(() => publish(bad), /popFeilds/);
  // …so it is written past the CLI, as a careless integration could.
  // A user layout for this rep wins over the org default: the broken one is hers.
  me = (await (await fetch(`${orgUrl}/__admin/fixed`)).json()).signedInUser;
  const r = await fetch(`${orgUrl}/__admin/records/Ringside_Layout__c/unchecked`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ Name: "Broken", Target__c: `user:${me}`, Scope__c: "User", User__c: me, Version__c: 1, Body__c: JSON.stringify(bad) }),
  });
  assert.ok(r.ok, `planted: ${r.status}`);

  await settingsLayout();
  await (await byId("layout-refused")).waitForDisplayed({ timeout: 20000 });
  const refused = await text("layout-refused");
  assert.match(refused, /calls\.inbound\.search\[1\]\.popFeilds/);
  assert.match(await text("layout-name"), /Inside sales/, "the good layout stays in force");
  await shotAt("layout-refused", "43-settings-layout-refused");
});

test("the rep's own switch survives and a locked one cannot be changed", async () => {
  await settingsLayout();
  const autoSave = await byId("rep-setting-autoSaveLogs");
  assert.equal(await autoSave.isEnabled(), true, "auto-save is the rep's to choose");
  await autoSave.click();
  await browser.waitUntil(async () => (await autoSave.isSelected()) === true, { timeout: 5000, timeoutMsg: "the switch turns on" });

  // The admin replaces the rep's broken layout with one that locks "ignore internal calls".
  const doc = builtIn();
  doc.name = "Inside sales v2";
  doc.calls.inbound.search[0].popFields = ["Email", "MobilePhone"];
  doc.settings.ignoreInternalCalls = { value: true, locked: true };
  assert.match(publish(doc, "--user", me), /Published version 2 for user/);
  await (await byId("layout-refresh")).click();
  await browser.waitUntil(async () => (await text("layout-name")).includes("Inside sales v2"), { timeout: 20000, timeoutMsg: "v2 applied" });
  assert.equal(await (await byId("rep-setting-ignoreInternalCalls")).isEnabled(), false, "a locked setting is not the rep's");
  assert.equal(await (await byId("rep-setting-autoSaveLogs")).isSelected(), true, "the rep's own choice survived the update");
  await shotAt("rep-setting-ignoreInternalCalls", "44-settings-layout-locked-and-own");
});

test("the Admin page checks the JSON as it is typed, shows the changes and publishes", async () => {
  await (await byId("nav-admin")).waitForDisplayed({ timeout: 15000 });
  await (await byId("nav-admin")).click();
  await (await byId("admin-load")).click();
  // The target is the org default: its published layout is loaded.
  const editor = await byId("admin-json");
  await browser.waitUntil(async () => (await editor.getValue()).includes("Inside sales"), { timeout: 15000, timeoutMsg: "the published layout is loaded" });

  const doc = JSON.parse(await editor.getValue());
  doc.calls.inbound.pop.on = "hangup";
  await browser.execute((value) => {
    const area = document.querySelector('[data-testid="admin-json"]');
    area.value = value;
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }, JSON.stringify(doc, null, 2));
  await (await byId("admin-problems")).waitForDisplayed({ timeout: 10000 });
  assert.match(await text("admin-problems"), /calls\.inbound\.pop\.on/);
  await shotAt("admin-problems", "45-admin-problem-while-typing");

  doc.calls.inbound.pop.on = "answer";
  doc.name = "Inside sales v3";
  await browser.execute((value) => {
    const area = document.querySelector('[data-testid="admin-json"]');
    area.value = value;
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }, JSON.stringify(doc, null, 2));
  await (await byId("admin-valid")).waitForDisplayed({ timeout: 10000 });
  await (await byId("admin-preview")).waitForDisplayed({ timeout: 10000 });
  await (await byId("admin-review")).click();
  await (await byId("admin-diff")).waitForDisplayed({ timeout: 10000 });
  const diff = await text("admin-diff");
  assert.match(diff, /Inside sales v3/);
  assert.match(diff, /answer/);
  await shotAt("admin-diff", "46-admin-review-diff");
  await (await byId("admin-publish")).click();
  await (await byId("admin-published")).waitForDisplayed({ timeout: 15000 });
  assert.match(await text("admin-published"), /2/);
  await shotAt("admin-published", "47-admin-published");

  const pulled = JSON.parse(cli("layout", "pull", "--org"));
  assert.equal(pulled.name, "Inside sales v3");
  assert.equal(pulled.calls.inbound.pop.on, "answer");
  // The rep's own layout (her user one) still wins over the org default.
  assert.match(cli("layout", "status"), /Inside sales v2/);
});

test("with the rep's email switch on, a meeting started from the pop emails its join details through Salesforce", async () => {
  await settingsLayout();
  const email = await byId("rep-setting-emailAttendeesOnLaunch");
  assert.equal(await email.isEnabled(), true, "left to the rep by the layout");
  if (!(await email.isSelected())) await email.click();
  await browser.waitUntil(async () => (await email.isSelected()) === true, { timeout: 5000, timeoutMsg: "the switch turns on" });

  await lookUp("01 23 45 67 89");
  await (await byId("pop-meet")).click();
  await (await byId("pop-meeting")).waitForDisplayed({ timeout: 10000 });
  const url = await text("pop-meeting-url");
  const invitation = await browser.$('[data-testid="pop-meeting"] [data-testid="meeting-invitation"]');
  await browser.waitUntil(async () => (await invitation.getAttribute("data-state")) === "sent", {
    timeout: 20000, timeoutMsg: "the invitation is emailed",
  });
  assert.match(await invitation.getProperty("textContent"), /marie\.dubois@lumiere\.example/);
  await shotAt("pop-meeting", "48-pop-meeting-invitation-emailed");
  const emails = await (await fetch(`${orgUrl}/__admin/emails`)).json();
  const mine = emails.filter((e) => e.body.includes(url));
  assert.equal(mine.length, 1, "emailed once");
  const logged = (await (await fetch(`${orgUrl}/__admin/records/EmailMessage`)).json()).filter((m) => (m.TextBody ?? "").includes(url));
  assert.equal(logged.length, 1, "logged in Salesforce as activity");
});
