// Browser-test harness: the real local API binary on a free port with a
// file outbox for SMS codes, and Debian's Chromium driven by playwright-core.
// Nothing is downloaded; a missing piece fails the run with how to get it.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { after, afterEach, before } from "node:test";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SCREENSHOTS = process.env.SCREENSHOT_DIR || path.join(ROOT, ".artifacts/screenshots");
const CHROMIUM = "/usr/bin/chromium";
const LOCAL_API = path.join(ROOT, "target/debug/local-api");

/** Starts target/debug/local-api; resolves once it prints its address. */
export async function startApi(env = {}) {
  if (!existsSync(LOCAL_API)) {
    throw new Error(`${LOCAL_API} is missing: run 'cargo build -p local-api' (scripts/test does)`);
  }
  const outbox = path.join(mkdtempSync(path.join(tmpdir(), "signup-outbox-")), "sms.jsonl");
  const child = spawn(LOCAL_API, [], {
    env: {
      ...process.env,
      LOCAL_API_ADDR: "127.0.0.1:0",
      SMS_BACKEND: "log",
      SMS_OUTBOX_FILE: outbox,
      STORE: "memory",
      RUST_LOG: "info",
      // These pages, not the ones of whichever checkout the binary was built in.
      WEB_DIR: path.join(ROOT, "web"),
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local-api did not start:\n${log}`)), 20_000);
    child.stderr.on("data", (chunk) => {
      log += chunk;
      const found = log.match(/local API on (http:\/\/127\.0\.0\.1:\d+)/);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`local-api exited with ${code}:\n${log}`)));
  });
  return {
    base,
    outbox,
    log: () => log,
    stop: () => child.kill("SIGTERM"),
  };
}

/**
 * The last code the log backend "texted" to `mobile`, waiting for it to
 * appear; with `after`, only once more than `after` texts went to `mobile`.
 */
export async function codeFor(api, mobile, { after = 0 } = {}) {
  for (let i = 0; i < 100; i++) {
    // Only whole lines (textsTo): the last one may still be being written.
    const mine = textsTo(api, mobile);
    if (mine.length > after) return mine.at(-1).code;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no code was texted to ${mobile}`);
}

/** POSTs `body` as JSON (the API answers 415 to anything else); resolves to the fetch Response. */
export function postJson(api, route, body) {
  return fetch(api.base + route, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

/** Has a code texted to `mobile` for `purpose` and returns it, as set-up for a test. */
export async function codeViaApi(api, mobile, purpose = "register") {
  const before = textsTo(api, mobile).length;
  const sent = await postJson(api, "/user/sms", purpose === "register" ? { mobile } : { mobile, purpose });
  if (!sent.ok) throw new Error(`send failed: ${sent.status} ${await sent.text()}`);
  return codeFor(api, mobile, { after: before });
}

/** How many texts the log backend has written to `mobile` so far. */
export function textsTo(api, mobile) {
  const text = existsSync(api.outbox) ? readFileSync(api.outbox, "utf8") : "";
  const lines = text.slice(0, text.lastIndexOf("\n") + 1).split("\n").filter(Boolean);
  return lines.map((l) => JSON.parse(l)).filter((m) => m.mobile === mobile);
}

/** Registers `mobile` through the API itself, as set-up for a test; resolves to the API's answer ({ id, username, token, expires_in }). */
export async function registerViaApi(api, mobile, password) {
  const code = await codeViaApi(api, mobile);
  const registered = await postJson(api, "/user/register", { mobile, password, sms_code: code });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${await registered.text()}`);
  return registered.json();
}

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (scripts/setup does)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/**
 * A fresh page (own storage) that records console errors, page errors,
 * dialogs and requests to other hosts, so a test can assert there were none.
 */
export async function openPage(browser, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    // Chromium logs every 4xx/5xx fetch as an error; a 4xx, 502 or 503 from an
    // API route is the API's documented answer (a refusal, a limit, the
    // SMS provider or the captcha provider down), not a fault of the page.
    // A 500, a failed page asset (CSS, JS) or any script error still counts.
    const apiAnswer =
      /status of (4\d\d|50[23])/.test(m.text()) && new URL(m.location().url || "http://x/").pathname.startsWith("/user/");
    if (m.type() === "error" && !apiAnswer) problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("dialog", async (d) => {
    problems.push(`dialog: ${d.message()}`);
    await d.dismiss();
  });
  // Nothing leaves the machine: a request to any other host (a captcha
  // provider's real script, say) is refused and counts as a problem. A test's
  // own page.route (a stand-in for such a script) takes precedence.
  await context.route(
    (url) => !["127.0.0.1", "localhost"].includes(url.hostname) && url.protocol !== "data:",
    (route) => {
      problems.push(`request left the machine: ${route.request().url()}`);
      return route.abort();
    },
  );
  return { page, context, problems };
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Answers an intercepted request with JSON, as the API (or API Gateway) would. */
export function fulfillJson(route, status, body, headers = {}) {
  return route.fulfill({
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
    body: JSON.stringify(body),
  });
}

/**
 * The set-up of a test file: the local API (with `env`) and Chromium before
 * its tests; after each test, a screenshot of every page it opened and the
 * assertion that none had a console error, page error, dialog or request to
 * another host. `suite.api` and `suite.newPage()` are for the tests.
 */
export function browserSuite(env = {}) {
  const suite = {
    api: null,
    browser: null,
    open: [],
    async newPage(viewport) {
      const opened = await openPage(suite.browser, viewport);
      suite.open.push(opened);
      return opened;
    },
  };
  before(async () => {
    suite.api = await startApi(env);
    suite.browser = await launchBrowser();
  });
  afterEach(async (t) => {
    const pages = suite.open;
    suite.open = [];
    const problems = [];
    for (const opened of pages) {
      await screenshot(opened.page, t.name.replace(/[^\w一-龥]+/g, "-").slice(0, 80)).catch(() => {});
      await opened.context.close();
      problems.push(...opened.problems);
    }
    assert.deepEqual(problems, [], "no console errors, page errors, dialogs or requests to other hosts");
  });
  after(async () => {
    await suite.browser?.close();
    suite.api?.stop();
  });
  return suite;
}
