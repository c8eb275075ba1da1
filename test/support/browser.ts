// Headless Chromium from Debian (/usr/bin/chromium), driven by playwright-core: no browser download,
// ever. `chromium.launch` gives every browser a fresh temporary profile (its own user-data-dir), removed
// on close. A missing Chromium FAILS the browser tests (it never skips them): `.ci/run` installs it.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOT_DIR = join(process.cwd(), "test-artifacts", "screenshots");

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: the browser tests need it. Install it with ` +
        "`apt-get install -y --no-install-recommends chromium` (.ci/run does), or set CHROMIUM_PATH.",
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** A phone-sized (360 px) or desktop (1280 px) context; every context has its own storage. */
export async function newContext(browser: Browser, width: 360 | 1280 = 360): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: width === 360 ? { width: 360, height: 760 } : { width: 1280, height: 860 },
    deviceScaleFactor: 1,
    isMobile: width === 360,
    hasTouch: width === 360,
    locale: "en-US",
    timezoneId: "UTC",
    reducedMotion: "reduce",
  });
  context.setDefaultTimeout(15_000);
  return context;
}

/**
 * Console errors, uncaught exceptions and CSP violations ("Refused to …") of a page: a page test expects
 * none. HTTP error answers (a 409 "already voted", a broken test image) are part of the flows: not counted.
 */
export function collectProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    if (/^Failed to load resource: the server responded with a status of \d+/.test(message.text())) return;
    problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}

/** Saves a full-page PNG under test-artifacts/screenshots/ (gitignored); returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: "disabled" });
  return path;
}

/** Test images on https hosts, served by the browser itself (the test machine has no internet). */
export function svgImage(label: string, hue: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="320" viewBox="0 0 320 320">
<rect width="320" height="320" fill="hsl(${hue} 70% 86%)"/><circle cx="160" cy="135" r="70" fill="hsl(${hue} 60% 45%)"/>
<text x="160" y="270" font-family="sans-serif" font-size="40" font-weight="700" text-anchor="middle" fill="hsl(${hue} 60% 22%)">${label}</text></svg>`;
}

/** Routes https://img.test/<name>.svg to generated images, and https://img.test/broken/* to 404s. */
export async function serveTestImages(context: BrowserContext): Promise<void> {
  await context.route("https://img.test/**", async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname.startsWith("/broken/")) return route.fulfill({ status: 404, body: "not found" });
    const name = decodeURIComponent(url.pathname.slice(1).replace(/\.svg$/, ""));
    const hue = [...name].reduce((sum, ch) => sum + ch.charCodeAt(0) * 37, 0) % 360;
    return route.fulfill({ status: 200, contentType: "image/svg+xml", body: svgImage(name, hue) });
  });
}
