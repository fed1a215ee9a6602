// The phone in the built app against the testbed's Kamailio: the SIP account set up
// with the CLI (password into the keyring the app shares), the app registers at start
// and says so in the header; a wrong password typed in Settings → Phone is reported.
// Then calls with baresip as the far-end phone (bob, auto-answer, commands on a TCP
// port): one placed from the dialer (hold, mute, hang up, History), one from bob; and
// a call from a test-org contact's number (SIPp through Kamailio) that pops her record.
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
const SFORG = process.env.RINGSIDE_SFORG;
const OUT = join(here, "out");
const dataDir = mkdtempSync(join(tmpdir(), "ringside-e2e-phone-"));
const kamDir = mkdtempSync(join(tmpdir(), "ringside-e2e-kamailio-"));
const env = { ...process.env, RINGSIDE_DATA_DIR: dataDir, LANG: "en_US.UTF-8", LC_ALL: "en_US.UTF-8", LANGUAGE: "en" };

let kamailio;
let kamailioPort;
let org;
let baresip;
let ctrlPort;
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
  kamailioPort = udp;
  const tcp = await harness.freePort();
  kamailio = spawn(join(here, "../testbed/kamailio/start"), [String(udp), String(tcp)], {
    env: { ...process.env, TESTBED_DIR: kamDir }, stdio: "ignore",
  });
  await harness.waitForPort(tcp, 20000); // its TCP listener opens with the UDP one
  ctrlPort = await harness.freePort();
  let sipPort = await harness.freePort();
  while (sipPort > 60000) sipPort = await harness.freePort();
  baresip = spawn(join(here, "../testbed/baresip/start"), ["bob", "bob-secret", String(udp), String(sipPort)], {
    env: { ...process.env, TESTBED_DIR: mkdtempSync(join(tmpdir(), "ringside-e2e-baresip-")), TESTBED_CTRL_PORT: String(ctrlPort) },
    stdio: ["ignore", "pipe", "ignore"],
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("baresip did not register")), 15000);
    baresip.stdout.on("data", (d) => {
      if (String(d).includes("200 OK")) { clearTimeout(timer); resolve(); }
    });
  });
  // Signed in to the test org too, so a caller's record pops in the incoming card.
  ({ org } = await harness.startOrgAndSignIn({ sforg: SFORG, cli: CLI, env }));
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
  baresip?.kill("SIGTERM");
  org?.kill("SIGTERM");
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

const bob = (command, params = "") => execFileSync(join(here, "../testbed/baresip/ctl"), [String(ctrlPort), command, params]).toString();

test("the rep calls the far-end phone from the dialer, holds, mutes and hangs up; History has the call", async () => {
  await (await byId("nav-phone")).click();
  await (await byId("dial-input")).setValue("sip:bob@ringside.test");
  const call = await byId("dial-call");
  await browser.waitUntil(async () => call.isEnabled(), { timeout: 10000, timeoutMsg: "Call is enabled once registered" });
  await call.click();
  await browser.waitUntil(async () => /talking/i.test(await text("call-state")), { timeout: 15000, timeoutMsg: "baresip answers" });
  await browser.waitUntil(async () => /0:0[1-9]/.test(await text("call-timer")), { timeout: 5000, timeoutMsg: "the timer runs" });
  // baresip's sound arrives: the line is graded from RTCP and the jitter buffer.
  const quality = await byId("call-quality");
  await browser.waitUntil(async () => (await quality.getAttribute("data-quality")) === "good", { timeout: 10000, timeoutMsg: "a good line on the loopback" });
  await shot("22a-call-talking-quality");
  await (await byId("call-hold")).click();
  await browser.waitUntil(async () => /hold/i.test(await text("call-state")), { timeout: 10000, timeoutMsg: "on hold" });
  await (await byId("call-mute")).click();
  await (await byId("call-muted")).waitForDisplayed({ timeout: 5000 });
  await shot("22-call-on-hold-muted");
  await (await byId("call-hold")).click();
  await browser.waitUntil(async () => /talking/i.test(await text("call-state")), { timeout: 10000, timeoutMsg: "resumed" });
  await (await byId("call-hangup")).click();
  await (await byId("call-screen")).waitForDisplayed({ reverse: true, timeout: 10000, timeoutMsg: "the call screen goes once the ended note is gone" });
  await (await byId("nav-history")).click();
  await browser.waitUntil(async () => (await text("view-title")) === "History", { timeout: 5000 });
  await browser.waitUntil(async () => /bob/.test(await browser.$("body").getText()), { timeout: 10000, timeoutMsg: "the call is in History" });
  await shot("23-history-after-call");
});

test("a call from the far-end phone rings in the app, is answered, and ends when bob hangs up", async () => {
  await (await byId("nav-phone")).click();
  bob("dial", "sip:alice@ringside.test");
  await (await byId("incoming-call")).waitForDisplayed({ timeout: 15000, timeoutMsg: "the incoming card shows" });
  assert.equal(await text("incoming-name"), "bob", "no display name: the number (user) is the title");
  await shot("24-incoming-call");
  await (await byId("incoming-answer")).click();
  await browser.waitUntil(async () => /talking/i.test(await text("call-state")), { timeout: 10000, timeoutMsg: "answered" });
  await shot("25-incoming-answered");
  bob("hangup");
  await browser.waitUntil(async () => /hung up/i.test(await browser.$("body").getText()), { timeout: 10000, timeoutMsg: "the end is shown with its reason" });
});

test("a call from a contact's number rings with her Salesforce record in the card", async () => {
  await (await byId("nav-phone")).click();
  const sipp = spawn("sipp", [
    `127.0.0.1:${kamailioPort}`, "-sf", join(here, "../testbed/sipp/call-us.xml"), "-s", "alice",
    "-key", "caller", "+33123456789", "-d", "2000", "-i", "127.0.0.1", "-p", String(await harness.freePort()),
    "-m", "1", "-nostdin", "-timeout", "60s",
  ], { cwd: tmpdir(), stdio: "ignore" });
  const exited = new Promise((resolve) => sipp.once("exit", resolve));
  await (await byId("incoming-call")).waitForDisplayed({ timeout: 15000, timeoutMsg: "the call rings" });
  await browser.waitUntil(async () => /Marie Dubois/.test(await text("incoming-call")), {
    timeout: 15000, timeoutMsg: "Marie Dubois pops in the incoming card",
  });
  assert.match(await text("incoming-call"), /Carol Caller|\+33/, "the caller's name or number shows too");
  await shot("26-incoming-call-pop");
  await (await byId("incoming-answer")).click();
  await browser.waitUntil(async () => /talking/i.test(await text("call-state")), { timeout: 10000, timeoutMsg: "answered" });
  assert.equal(await exited, 0, "SIPp saw the answer and hung up after its 2 s");
  await (await byId("nav-history")).click();
  await browser.waitUntil(async () => /Marie Dubois/.test(await browser.$("body").getText()), {
    timeout: 15000, timeoutMsg: "the call's History entry names her",
  });
  await shot("27-history-call-from-contact");
});
