// The phone in the built app against the testbed's Kamailio: the SIP account set up
// with the CLI (password into the keyring the app shares), the app registers at start
// and says so in the header; a wrong password typed in Settings → Phone is reported.
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
const dataDir = mkdtempSync(join(tmpdir(), "ringside-e2e-phone-"));
const kamDir = mkdtempSync(join(tmpdir(), "ringside-e2e-kamailio-"));
const env = { ...process.env, RINGSIDE_DATA_DIR: dataDir, LANG: "en_US.UTF-8", LC_ALL: "en_US.UTF-8", LANGUAGE: "en" };

let kamailio;
let driver;
let browser;
let byId;
let text;
let shot;

const cli = (args, input) => execFileSync(CLI, args, { env, input }).toString();

before(async () => {
  assert.ok(APP && CLI, "RINGSIDE_APP and RINGSIDE_CLI name the built binaries");
  mkdirSync(OUT, { recursive: true });
  const udp = await harness.freePort();
  const tcp = await harness.freePort();
  kamailio = spawn(join(here, "../testbed/kamailio/start"), [String(udp), String(tcp)], {
    env: { ...process.env, TESTBED_DIR: kamDir }, stdio: "ignore",
  });
  await harness.waitForPort(tcp, 20000); // its TCP listener opens with the UDP one
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
  kamailio?.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
});

test("the app registers with the PBX at start and says so in the header", async () => {
  await browser.waitUntil(async () => (await text("chip-phone")) === "Phone: registered", {
    timeout: 20000, timeoutMsg: "the header shows the registration",
  });
  await (await byId("nav-settings")).click();
  await (await byId("settings-phone")).waitForDisplayed({ timeout: 10000 });
  assert.match(await text("phone-state"), /Registered for 600 s/);
  await shot("20-phone-registered");
});

test("a wrong password typed in Settings → Phone is reported as such", async () => {
  await (await byId("input-sipPassword")).setValue("not-her-password");
  await (await byId("phone-connect")).click();
  await browser.waitUntil(async () => /refused the password/.test(await text("phone-state")), {
    timeout: 20000, timeoutMsg: "the refusal is shown",
  });
  assert.equal(await text("chip-phone"), "Phone: error");
  await shot("21-phone-wrong-password");
  // The right one again: registered, and the password only ever went to the keyring.
  await (await byId("input-sipPassword")).setValue("alice-secret");
  await (await byId("phone-connect")).click();
  await browser.waitUntil(async () => (await text("chip-phone")) === "Phone: registered", { timeout: 20000 });
  const db = execFileSync("sh", ["-c", `cat ${dataDir}/ringside.db* 2>/dev/null | grep -c alice-secret || true`]).toString().trim();
  assert.equal(db, "0", "the SIP password is not in the database");
});
