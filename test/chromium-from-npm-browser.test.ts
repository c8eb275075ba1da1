// The browser tests need no system browser: the Chromium of the npm dev dependency starts and renders a
// page here even where Debian's is installed (which the tests would otherwise prefer), and a Chromium that
// is asked for but missing fails the browser tests with a message saying what to do, never skips them.
import { afterEach, describe, expect, it } from "vitest";
import { launchBrowser } from "./support/browser";
import { npmChromium } from "./support/chromium-executable";

describe("Chromium for the browser tests", () => {
  const savedPath = process.env.CHROMIUM_PATH;
  afterEach(() => {
    if (savedPath === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = savedPath;
  });

  it("the npm package's Chromium unpacks once and renders a page", async () => {
    const first = await npmChromium();
    expect(first.source).toMatch(/^@sparticuz\/chromium@/);
    expect(await npmChromium()).toEqual(first);

    process.env.CHROMIUM_PATH = first.path;
    const browser = await launchBrowser();
    try {
      expect(browser.version()).toMatch(/^\d+\./);
      const page = await browser.newPage();
      await page.setContent(`<p id="greeting">Hello</p><script>document.title = "rendered " + (1 + 1)</script>`);
      expect(await page.title()).toBe("rendered 2");
      expect(await page.textContent("#greeting")).toBe("Hello");
    } finally {
      await browser.close();
    }
  });

  it("a missing Chromium fails the browser tests, saying what to do", async () => {
    process.env.CHROMIUM_PATH = "/nonexistent/chromium";
    await expect(launchBrowser()).rejects.toThrow(/CHROMIUM_PATH=\/nonexistent\/chromium does not exist/);
  });

  it("a Chromium that cannot start fails them too, naming the binary and the way out", async () => {
    process.env.CHROMIUM_PATH = "/bin/false";
    await expect(launchBrowser()).rejects.toThrow(/could not start Chromium \/bin\/false .*Set CHROMIUM_PATH/s);
  });
});
