// Transfers in the built app against the testbed's Kamailio with two far-end phones
// (baresip bob and carol, both answering at once): the rep hands a call over to carol
// (blind transfer), and bob hands the rep over to carol (the rep is transferred).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as harness from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const APP = process.env.RINGSIDE_APP;
const CLI = process.env.RINGSIDE_CLI;
const OUT = join(here, "out");
const dataDir = mkdtempSync(join(tmpdir(), "ringside-e2e-transfer-"));
const kamDir = mkdtempSync(join(tmpdir(), "ringside-e2e-kamailio-"));
const env = { ...process.env, RINGSIDE_DATA_DIR: dataDir, LANG: "en_US.UTF-8", LC_ALL: "en_US.UTF-8", LANGUAGE: "en" };

let kamailio;
const phones = {};
let driver;
let browser;
let byId;
let text;
let shot;

const cli = (args, input) => execFileSync(CLI, args, { env, input }).toString();
const ctl = (who, command, params = "") => execFileSync(join(here, "../testbed/baresip/ctl"), [String(phones[who].ctrl), command, params]).toString();

async function startPhone(user, udp) {
  const ctrl = await harness.freePort();
  let sipPort = await harness.freePort();
  while (sipPort > 60000) sipPort = await harness.freePort();
  const child = spawn(join(here, "../testbed/baresip/start"), [user, `${user}-secret`, String(udp), String(sipPort)], {
    env: { ...process.env, TESTBED_DIR: mkdtempSync(join(tmpdir(), `ringside-e2e-${user}-`)), TESTBED_CTRL_PORT: String(ctrl) },
    stdio: ["ignore", "pipe", "ignore"],
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${user}'s baresip did not register`)), 15000);
    child.stdout.on("data", (d) => {
      if (String(d).includes("200 OK")) { clearTimeout(timer); resolve(); }
    });
  });
  phones[user] = { child, ctrl };
}

/** The call rows' states, by name, as the two-call list shows them. */
const rows = () => browser.execute(() => [...document.querySelectorAll('[data-testid="call-row"]')].map((r) => r.textContent.replace(/\s+/g, " ").trim()));

before(async () => {
  assert.ok(APP && CLI, "RINGSIDE_APP and RINGSIDE_CLI name the built binaries");
  mkdirSync(OUT, { recursive: true });
  const udp = await harness.freePort();
  const tcp = await harness.freePort();
  kamailio = spawn(join(here, "../testbed/kamailio/start"), [String(udp), String(tcp)], {
    env: { ...process.env, TESTBED_DIR: kamDir, TESTBED_USERS: "alice:alice-secret bob:bob-secret carol:carol-secret" }, stdio: "ignore",
  });
  await harness.waitForPort(tcp, 20000);
  await startPhone("bob", udp);
  await startPhone("carol", udp);
  cli(["settings", "set", "sipUser", "alice"]);
  cli(["settings", "set", "sipDomain", "ringside.test"]);
  cli(["settings", "set", "sipProxy", `127.0.0.1:${udp}`]);
  cli(["sip", "password"], "alice-secret\n");
  driver = await harness.startDriver(env);
  browser = await harness.openApp(driver, APP);
  ({ byId, text, shot } = harness.ui(browser, OUT));
});

after(async () => {
  await harness.closeApp(browser);
  await harness.stopDriver(driver);
  for (const p of Object.values(phones)) p.child.kill("SIGTERM");
  kamailio?.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
});

test("the rep hands a call over to carol: the transfer is shown and the rep's leg ends", async () => {
  await (await byId("nav-phone")).click();
  await (await byId("dial-input")).setValue("sip:bob@ringside.test");
  const call = await byId("dial-call");
  await browser.waitUntil(async () => call.isEnabled(), { timeout: 15000, timeoutMsg: "Call is enabled once registered" });
  await call.click();
  await browser.waitUntil(async () => /talking/i.test(await text("call-state")), { timeout: 15000, timeoutMsg: "bob answers" });
  await (await byId("call-transfer-toggle")).click();
  await (await byId("transfer-target")).setValue("carol");
  await shot("60-transfer-form");
  await (await byId("transfer-now")).click();
  await browser.waitUntil(async () => /transferred to sip:carol@ringside\.test/i.test(await browser.$("body").getText()), {
    timeout: 20000, timeoutMsg: "the call ends as transferred to carol",
  });
  await shot("61-transferred");
  await (await byId("call-screen")).waitForDisplayed({ reverse: true, timeout: 15000, timeoutMsg: "the call screen goes" });
  // bob and carol now talk to each other; end their call.
  ctl("carol", "hangup");
});

test("bob transfers the rep to carol: the rep ends up talking to carol", async () => {
  await (await byId("nav-phone")).click();
  ctl("bob", "dial", "sip:alice@ringside.test");
  await (await byId("incoming-call")).waitForDisplayed({ timeout: 15000, timeoutMsg: "bob's call rings" });
  await (await byId("incoming-answer")).click();
  await browser.waitUntil(async () => /talking/i.test(await text("call-state")), { timeout: 10000, timeoutMsg: "answered" });
  await new Promise((r) => setTimeout(r, 1000));
  ctl("bob", "transfer", "sip:carol@ringside.test");
  await browser.waitUntil(async () => /carol/.test(await text("call-name").catch(() => "")) && /talking/i.test(await text("call-state").catch(() => "")), {
    timeout: 20000, timeoutMsg: `the rep talks to carol (calls: ${JSON.stringify(await rows().catch(() => []))})`,
  });
  await shot("62-transferred-by-the-far-end");
  await browser.waitUntil(async () => (await browser.$$('[data-testid="call-row"]')).length <= 1, {
    timeout: 15000, timeoutMsg: "bob's leg ends once the transfer is done",
  });
  await (await byId("call-hangup")).click();
  await (await byId("call-screen")).waitForDisplayed({ reverse: true, timeout: 15000, timeoutMsg: "the call screen goes" });
  await (await byId("nav-history")).click();
  await browser.waitUntil(async () => /carol/.test(await browser.$("body").getText()), { timeout: 10000, timeoutMsg: "the call to carol is in History" });
});
