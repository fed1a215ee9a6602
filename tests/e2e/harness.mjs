// Shared by the end-to-end test files: tauri-driver on free ports, the app session,
// and helpers that find elements by data-testid and take settled screenshots.
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import net from "node:net";
import { remote } from "webdriverio";

const TAURI_DRIVER = process.env.TAURI_DRIVER ?? "tauri-driver";

// Each run takes free ports for tauri-driver and WebKitWebDriver, so a driver left
// over from another run can never answer in its place.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect(port, "127.0.0.1");
      sock.once("connect", () => { sock.destroy(); resolve(); });
      sock.once("error", () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** Starts tauri-driver with `env` (the app inherits it); resolves to { proc, port }. */
export async function startDriver(env) {
  const port = await freePort();
  const nativePort = await freePort();
  const proc = spawn(
    TAURI_DRIVER,
    ["--port", String(port), "--native-port", String(nativePort), "--native-driver", "/usr/bin/WebKitWebDriver"],
    { env, stdio: ["ignore", "inherit", "inherit"] },
  );
  const died = new Promise((_, reject) =>
    proc.once("exit", (code) => reject(new Error(`tauri-driver exited (${code}) before listening`))));
  died.catch(() => {});
  await Promise.race([waitForPort(port, 20000), died]);
  return { proc, port };
}

export async function stopDriver(driver) {
  if (!driver) return;
  const { proc } = driver;
  // It may already have exited (its 'exit' event then never comes again).
  if (proc.exitCode === null && proc.signalCode === null) {
    const gone = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill();
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
}

/** Starts the app through the driver and waits for its first view. */
export async function openApp(driver, application) {
  const b = await remote({
    hostname: "127.0.0.1",
    port: driver.port,
    logLevel: "error",
    capabilities: { "tauri:options": { application }, "wdio:enforceWebDriverClassic": true },
  });
  await b.$('[data-testid="view-title"]').waitForExist({ timeout: 30000 });
  return b;
}

export async function closeApp(b) {
  if (b) await b.deleteSession().catch(() => {});
}

/** Helpers bound to one app session. */
export function ui(b, outDir) {
  const byId = (id) => b.$(`[data-testid="${id}"]`);
  return {
    byId,
    // WebKitWebDriver's getText() returns "" for some flex buttons; textContent is
    // what a screen reader announces anyway.
    text: async (id) => (await (await byId(id)).getProperty("textContent")).trim(),
    // WebKit can capture the frame before the last DOM change is painted: wait two
    // animation frames so the picture shows what the assertions saw.
    // A screenshot is evidence for people, not an assertion: one that WebKit fails to
    // take (a busy machine can stall it) is reported and the test goes on.
    // WebKitGTK (compositing off, as the app runs) never answers a screenshot while
    // the view's scroll box does not overflow: a spacer below the visible area is
    // added for the capture (the picture is unchanged) and removed after it.
    shot: async (name) => {
      try {
        await b.execute(() => {
          const view = document.querySelector(".view");
          if (view && view.scrollHeight <= view.clientHeight) {
            const spacer = document.createElement("div");
            spacer.id = "e2e-screenshot-spacer";
            spacer.style.height = `${view.clientHeight + 10}px`;
            view.appendChild(spacer);
          }
        });
        await b.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
        await b.saveScreenshot(join(outDir, `${name}.png`));
      } catch (e) {
        console.log(`screenshot ${name} not taken: ${e.message}`);
      } finally {
        await b.execute(() => document.getElementById("e2e-screenshot-spacer")?.remove()).catch(() => undefined);
      }
    },
  };
}

/**
 * Starts the test org (`sforg`) on a free port and signs the CLI in to it (the app
 * shares the keyring and the settings): a French rep, the sandbox connected app.
 * `extraArgs` go to sforg. Resolves to { org, orgUrl }.
 */
export async function startOrgAndSignIn({ sforg, cli, env, extraArgs = [] }) {
  const orgPort = await freePort();
  const callbackPort = await freePort();
  const orgUrl = `http://127.0.0.1:${orgPort}`;
  const org = spawn(sforg, [
    "--port", String(orgPort), "--auto-approve", ...extraArgs,
    "--redirect-uri", `http://127.0.0.1:${callbackPort}/oauth/callback`,
  ], { stdio: "ignore" });
  await waitForPort(orgPort, 30000);
  const run = (...args) => execFileSync(cli, args, { env }).toString();
  run("settings", "set", "defaultRegion", "FR"); // a French rep: national numbers are French
  run("settings", "set", "salesforceLogin", orgUrl);
  run("settings", "set", "salesforceClientId", "3MVG9RingsideSandboxConsumerKey");
  run("settings", "set", "salesforceCallbackPort", String(callbackPort));
  const login = spawn(cli, ["--json", "salesforce", "login"], { env, stdio: ["ignore", "pipe", "inherit"] });
  const firstLine = await new Promise((resolve) => login.stdout.once("data", (d) => resolve(d.toString().split("\n")[0])));
  const { open } = JSON.parse(firstLine);
  await fetch(open);
  const code = await new Promise((resolve) => login.once("exit", resolve));
  if (code !== 0) throw new Error(`the CLI sign-in ended with ${code}`);
  return { org, orgUrl };
}

/** Types `number` in the dialer, looks it up and waits for the pop. */
export async function lookUp(b, byId, number) {
  await (await byId("nav-phone")).click();
  const input = await byId("dial-input");
  await input.clearValue();
  await input.setValue(number);
  await (await byId("dial-normalised")).waitForDisplayed({ timeout: 10000 });
  const lookup = await byId("dial-lookup");
  await b.waitUntil(async () => lookup.isEnabled(), { timeout: 5000, timeoutMsg: "Look up is enabled for a valid number" });
  await lookup.click();
  await (await byId("pop")).waitForDisplayed({ timeout: 15000 });
}

/**
 * The test org, the CLI signed in to it, and the built app open under WebDriver: what
 * the Salesforce-side files share. `close()` undoes it all and removes `dataDir`.
 */
export async function startSignedInApp({ app, sforg, cli, env, outDir, dataDir, extraArgs = [] }) {
  mkdirSync(outDir, { recursive: true });
  const { org, orgUrl } = await startOrgAndSignIn({ sforg, cli, env, extraArgs });
  const driver = await startDriver(env);
  const browser = await openApp(driver, app);
  const close = async () => {
    await closeApp(browser);
    await stopDriver(driver);
    org?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { org, orgUrl, browser, close, ...ui(browser, outDir) };
}
