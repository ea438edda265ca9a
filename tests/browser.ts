/**
 * Drives Debian's Chromium for the web client's tests: a headless browser
 * with a fresh profile in a temporary folder (removed afterwards), nothing
 * downloaded, no traffic but to the page's own server.
 *
 * @example
 * ```ts
 * import { launchBrowser } from "./browser.ts";
 * await using browser = await launchBrowser();
 * const page = await browser.page();
 * await page.goto("http://127.0.0.1:8080/");
 * ```
 * @module
 */
import puppeteer, { type Browser, type Page, type Viewport } from "puppeteer-core";

/** Where Debian installs Chromium (`apt-get install chromium`); `TEAPARTY_CHROMIUM` overrides it. */
export const CHROMIUM = Deno.env.get("TEAPARTY_CHROMIUM") ?? "/usr/bin/chromium";

/** The flags every test browser gets: headless, no sandbox (root in CI), no background traffic. */
export const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-extensions",
  "--disable-default-apps",
  "--mute-audio",
];

/** A desktop viewport. */
export const DESKTOP: Viewport = { width: 1280, height: 800 };
/** A phone's viewport (iPhone SE size). */
export const PHONE: Viewport = { width: 375, height: 667, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** A running test browser; `await using` closes it and removes its profile. */
export interface TestBrowser extends AsyncDisposable {
  readonly browser: Browser;
  /** A new page (a tab) with `viewport`, recording page errors and dialogs in `problems`. */
  page(viewport?: Viewport): Promise<Page>;
  /** Uncaught page errors, console errors and dialogs (alert, confirm …) seen on any page. */
  readonly problems: string[];
  close(): Promise<void>;
}

const PROFILE_PREFIX = "puppeteer_dev_chrome_profile-";

async function leftoverProfiles(): Promise<Set<string>> {
  const found = new Set<string>();
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  try {
    for await (const entry of Deno.readDir(tmp)) {
      if (entry.isDirectory && entry.name.startsWith(PROFILE_PREFIX)) found.add(`${tmp}/${entry.name}`);
    }
  } catch { /* no tmp to look in */ }
  return found;
}

/**
 * Starts headless Chromium with a fresh profile. Throws with a clear reason
 * if Chromium is not installed or does not start; a failed start leaves no
 * profile folder behind.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(`Chromium is not at ${CHROMIUM}: install it (apt-get install chromium) or set TEAPARTY_CHROMIUM`);
  }
  const profile = await Deno.makeTempDir({ prefix: "teaparty-chromium-" });
  const before = await leftoverProfiles();
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
      protocolTimeout: 30_000,
    });
  } catch (error) {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    for (const dir of await leftoverProfiles()) {
      if (!before.has(dir)) await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    throw new Error(`Chromium (${CHROMIUM}) did not start: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  let closed = false;
  const test: TestBrowser = {
    browser,
    problems,
    async page(viewport = DESKTOP) {
      const page = await browser.newPage();
      await page.setViewport(viewport);
      page.on("pageerror", (error) => problems.push(`page error: ${(error as Error).message ?? error}`));
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(`console error: ${message.text()}`);
      });
      page.on("dialog", (dialog) => {
        problems.push(`dialog (${dialog.type()}): ${dialog.message()}`);
        dialog.dismiss().catch(() => {});
      });
      page.setDefaultTimeout(10_000);
      return page;
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await browser.close();
      } catch {
        browser.process()?.kill("SIGKILL");
      }
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
    async [Symbol.asyncDispose]() {
      await test.close();
    },
  };
  return test;
}
