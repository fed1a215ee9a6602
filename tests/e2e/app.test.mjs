// The built app, driven as a rep would use it: tauri-driver starts it under Xvfb
// (tests/scripts/with-session --x) with a private data folder, a PulseAudio null sink
// and an unlocked keyring. Screenshots of every step land in tests/e2e/out/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import * as harness from "./harness.mjs";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const APP = process.env.RINGSIDE_APP;
const CLI = process.env.RINGSIDE_CLI;
const OUT = join(here, "out");
const HEADSET = "headset_e2e";
const HEADSET_NAME = "Casque «Jabra» Évolve 75";

const dataDir = mkdtempSync(join(tmpdir(), "ringside-e2e-"));
const env = { ...process.env, RINGSIDE_DATA_DIR: dataDir, LANG: "en_US.UTF-8", LC_ALL: "en_US.UTF-8", LANGUAGE: "en" };
let driver;
let browser;
let headsetModule;
let byId;
let text;
let shot;

async function openApp() {
  const b = await harness.openApp(driver, APP);
  ({ byId, text, shot } = harness.ui(b, OUT));
  return b;
}

async function closeApp() {
  await harness.closeApp(browser);
  browser = undefined;
}

async function startDriver(driverEnv) {
  driver = await harness.startDriver(driverEnv);
}

async function stopDriver() {
  await harness.stopDriver(driver);
  driver = undefined;
}

async function openAudioSettings() {
  await (await byId("nav-settings")).click();
  await (await byId("settings-audio")).waitForDisplayed({ timeout: 10000 });
  // The Phone section comes first; the screenshots are of Audio.
  await browser.execute(() => document.querySelector('[data-testid="settings-audio"]').scrollIntoView());
}

async function optionTexts(selectId) {
  const options = await browser.$$(`[data-testid="${selectId}"] option`);
  const texts = [];
  for (const o of options) texts.push(await o.getText());
  return texts;
}

before(async () => {
  assert.ok(APP && CLI, "RINGSIDE_APP and RINGSIDE_CLI name the built binaries");
  mkdirSync(OUT, { recursive: true });
  // A second output with a name full of non-ASCII characters, as a USB headset would be.
  headsetModule = execFileSync("pactl", [
    "load-module", "module-null-sink", `sink_name=${HEADSET}`,
    // PulseAudio's property parser wants spaces escaped inside the quotes.
    `sink_properties=device.description="${HEADSET_NAME.replaceAll(" ", "\\ ")}"`,
  ]).toString().trim();
  await startDriver(env);
  browser = await openApp();
});

after(async () => {
  await closeApp();
  await stopDriver();
  rmSync(dataDir, { recursive: true, force: true });
});

test("Settings → Audio lists the devices cpal sees, and a picked headset is saved", async () => {
  const cli = JSON.parse(execFileSync(CLI, ["--json", "devices"], { env }).toString());
  await openAudioSettings();
  const speakers = await optionTexts("select-speaker");
  for (const d of cli.outputs) {
    assert.ok(speakers.some((t) => t.includes(d.name)), `speaker list shows "${d.name}": ${speakers.join(" | ")}`);
  }
  const mics = await optionTexts("select-microphone");
  for (const d of cli.inputs) {
    assert.ok(mics.some((t) => t.includes(d.name)), `microphone list shows "${d.name}"`);
  }
  const headset = cli.outputs.find((d) => d.name === HEADSET_NAME);
  assert.ok(headset, "the test headset is visible to the core");
  await (await byId("select-speaker")).selectByAttribute("value", headset.id);
  await browser.waitUntil(async () => {
    const saved = JSON.parse(execFileSync(CLI, ["--json", "devices"], { env }).toString());
    return saved.roles.find((r) => r.role === "speaker").preferredId === headset.id;
  }, { timeout: 10000, timeoutMsg: "the speaker choice reaches the database" });
  await shot("01-settings-audio-headset-picked");
});

test("the picked speaker is still picked after the app restarts", async () => {
  await closeApp();
  browser = await openApp();
  await openAudioSettings();
  const select = await byId("select-speaker");
  await browser.waitUntil(async () => (await select.getValue()) === `pulseaudio:${HEADSET}`, {
    timeout: 10000, timeoutMsg: "speaker select shows the headset after restart",
  });
  await shot("02-settings-audio-after-restart");
});

test("switching to French and Japanese translates the labels live", async () => {
  await (await byId("select-language")).selectByAttribute("value", "fr");
  await browser.waitUntil(async () => (await text("nav-settings")).includes("Paramètres"), {
    timeout: 10000, timeoutMsg: "French label for Settings",
  });
  assert.match(await text("nav-phone"), /Téléphone/);
  await shot("03-language-french");
  await (await byId("select-language")).selectByAttribute("value", "ja");
  await browser.waitUntil(async () => (await text("nav-settings")).includes("設定"), {
    timeout: 10000, timeoutMsg: "Japanese label for Settings",
  });
  assert.equal(await browser.execute(() => document.documentElement.lang), "ja");
  await shot("04-language-japanese");
  await (await byId("select-language")).selectByAttribute("value", "en");
  await browser.waitUntil(async () => (await text("nav-settings")).includes("Settings"), { timeout: 10000 });
});

test("a tel: link opened while the app runs fills the dialer with the normalised number", async () => {
  // What the desktop does when a rep clicks tel:… in a browser: start the program with
  // the link; the running instance receives it and the new process exits.
  const second = spawn(APP, ["tel:+33 1 23 45 67 89"], { env, stdio: "ignore" });
  const exited = new Promise((resolve) => second.once("exit", resolve));
  await (await byId("dial-normalised")).waitForDisplayed({ timeout: 15000 });
  await browser.waitUntil(async () => (await text("dial-normalised")).includes("+33123456789"), {
    timeout: 15000, timeoutMsg: "dialer shows the E.164 number +33123456789",
  });
  assert.equal(await (await byId("dial-input")).getValue(), "+33 1 23 45 67 89", "the field holds the formatted number");
  assert.match(await text("view-title"), /Phone/);
  await shot("05-tel-link-dialer");
  await Promise.race([exited, new Promise((_, rej) => setTimeout(() => rej(new Error("second instance did not exit")), 10000))]);
});

test("a malformed tel: link is refused with a clear message", async () => {
  const second = spawn(APP, ["tel:call-me-maybe"], { env, stdio: "ignore" });
  await new Promise((resolve) => second.once("exit", resolve));
  const alert = await browser.$('[role="alert"]');
  await alert.waitForDisplayed({ timeout: 15000 });
  assert.match(await alert.getText(), /not a phone number|not part of a phone number|not dialled/i);
  await shot("06-bad-link");
});

test("when the headset is unplugged the app falls back to the default and says so", async () => {
  await closeApp();
  execFileSync("pactl", ["unload-module", headsetModule]);
  browser = await openApp();
  const notices = await byId("notices");
  await browser.waitUntil(async () => (await notices.getText()).includes(HEADSET_NAME), {
    timeout: 15000, timeoutMsg: "a notice names the missing headset",
  });
  assert.match(await notices.getText(), /not connected/);
  await browser.$('[data-notice-code="deviceFallback"]').waitForDisplayed({ timeout: 5000 });
  await shot("07-headset-unplugged");
});

test("a damaged database and a missing keyring are reported, and the app still starts", async () => {
  await closeApp();
  await stopDriver();
  const brokenDir = mkdtempSync(join(tmpdir(), "ringside-e2e-broken-"));
  writeFileSync(join(brokenDir, "ringside.db"), "not a database ".repeat(1000));
  // No Secret Service on this bus address: the keyring is absent.
  await startDriver({ ...env, RINGSIDE_DATA_DIR: brokenDir, DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/ringside-bus" });
  try {
    browser = await openApp();
    const notices = await byId("notices");
    await browser.waitUntil(async () => {
      const t = await notices.getText();
      return t.includes("damaged") && t.includes("keyring is not available");
    }, { timeout: 15000, timeoutMsg: "both problems are shown" });
    await shot("08-damaged-database-no-keyring");
    // The app works on the fresh database: a setting sticks.
    await openAudioSettings();
    await (await byId("select-language")).selectByAttribute("value", "fr");
    await browser.waitUntil(async () => (await text("nav-settings")).includes("Paramètres"), { timeout: 10000 });
    const aside = readdirSync(brokenDir).filter((f) => f.startsWith("ringside.db.damaged-"));
    assert.equal(aside.length, 1, "the damaged file is kept aside for support");
  } finally {
    await closeApp();
    await stopDriver();
    rmSync(brokenDir, { recursive: true, force: true });
    await startDriver(env);
  }
});
