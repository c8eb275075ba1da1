// Headless Chromium driven by playwright-core, which never downloads a browser: the binary comes from
// chromium-executable.ts (CHROMIUM_PATH, else Debian's, else the npm dev dependency's). `chromium.launch`
// gives every browser a fresh temporary profile (its own --user-data-dir), removed on close. A browser that
// cannot start FAILS the browser tests (it never skips them).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { chromiumExecutable } from "./chromium-executable";

export const SCREENSHOT_DIR = join(process.cwd(), "test-artifacts", "screenshots");

// The closed network refuses Chromium's background connections: these flags keep it from trying.
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
  const { path, source } = await chromiumExecutable();
  try {
    return await chromium.launch({ executablePath: path, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  } catch (error) {
    throw new Error(
      `The browser tests could not start Chromium ${path} (from ${source}). Set CHROMIUM_PATH to a working ` +
        `Chromium, or install one (\`apt-get install -y --no-install-recommends chromium\`). Cause: ` +
        (error instanceof Error ? error.message : String(error)),
    );
  }
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
