// The voter pages in headless Chromium against the real service (local mode: real chain, simulated
// World ID): the feed, a poll page at 360 px and 1280 px, choosing with the keyboard, the payout address
// check, the clearly labelled simulated World ID, the confirmation, "already voted" after a reload and
// from another device of the same (simulated) human, full / expired / unknown polls, image grids whose
// broken images fall back to text, and the rewards page. Screenshots go to test-artifacts/screenshots/.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { futureIso, startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { collectProblems, launchBrowser, newContext, screenshot, serveTestImages } from "./support/browser";

let service: LocalService;
let browser: Browser;
let listPoll: CreatedPoll;
let gridPoll: CreatedPoll;
let fullPoll: CreatedPoll;
let expiredPoll: CreatedPoll;

const ADDRESS_MIXED_CASE = "0xAbC0000000000000000000000000000000000001"; // not a valid checksum: accepted anyway
const ADDRESS = ADDRESS_MIXED_CASE.toLowerCase();

beforeAll(async () => {
  [service, browser] = await Promise.all([startLocalService(), launchBrowser()]);
  fullPoll = await createPaidPoll(service, { question: "Already full?" });
  expiredPoll = await createPaidPoll(service, { question: "Already over?" });
  gridPoll = await createPaidPoll(service, {
    question: "Which logo feels more trustworthy?",
    description: "Three logo drafts for a note-taking app.",
    layoutType: "grid",
    mediaUrl: "https://img.test/Brief.svg",
    mediaType: "image",
    options: [
      { text: "Logo A", mediaUrl: "https://img.test/A.svg" },
      { text: "Logo B", mediaUrl: "https://img.test/B.svg" },
      { text: "Logo C", mediaUrl: "https://img.test/broken/C.svg" },
    ],
    expiresAt: futureIso(180),
  });
  listPoll = await createPaidPoll(service, {
    question: "Which name is clearer for a note-taking app?",
    description: "We are naming a small app for quick notes on the phone. Which name would you remember?",
    moreInfoUrl: "https://example.com/naming",
    options: [{ text: "Jot" }, { text: "Scribbly" }, { text: "NoteNest" }, { text: "Quill & Co" }],
  });
  await service.store.db.updateTable("polls").set({ status: "completed", vote_count: 100 }).where("id", "=", fullPoll.id).execute();
  await service.store.db.updateTable("polls").set({ expires_at: new Date(Date.now() - 60_000).toISOString() }).where("id", "=", expiredPoll.id).execute();
});
afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

async function openPage(width: 360 | 1280 = 360) {
  const context = await newContext(browser, width);
  await serveTestImages(context);
  const page = await context.newPage();
  return { context, page, problems: collectProblems(page) };
}


async function shownOptionTexts(page: Page): Promise<string[]> {
  return page.locator("fieldset.options .option").evaluateAll((labels) => labels.map((label) => label.textContent?.trim() ?? ""));
}

describe("voter pages in Chromium", () => {
  it("feed → poll → keyboard choice → address → simulated World ID → confirmation → reload shows 'already voted'", async () => {
    const { context, page, problems } = await openPage(360);
    await page.goto(`${service.url}/`);
    const card = page.locator(".card", { hasText: listPoll.options[0]!.text ? "Which name is clearer" : "" });
    await expect.poll(() => card.count()).toBe(1);
    await expect.poll(() => card.innerText()).toMatch(/0 of 100 answers[\s\S]*Earn 0\.0005 USDC[\s\S]*(hours|day)/i);
    const feedText = await page.locator("main").innerText();
    expect(feedText).not.toContain("Already full?");
    expect(feedText).not.toContain("Already over?");
    expect(await page.locator("#lead").innerText()).toContain("0.0005 USDC");
    await screenshot(page, "feed-360");

    await card.getByRole("link").click();
    await page.waitForURL(`**/polls/${listPoll.id}`);
    await page.locator('main[data-ready="true"]').waitFor();
    expect(await page.title()).toBe("Which name is clearer for a note-taking app? · Quali");
    expect(await page.getByRole("heading", { level: 1 }).innerText()).toBe("Which name is clearer for a note-taking app?");
    expect(await page.getByRole("link", { name: /More info/ }).getAttribute("href")).toBe("https://example.com/naming");
    const shown = await shownOptionTexts(page);
    expect([...shown].sort()).toEqual(["Jot", "NoteNest", "Quill & Co", "Scribbly"]);
    await screenshot(page, "poll-list-360");

    // The radios are one native group: arrow keys move the choice.
    const radios = page.getByRole("radio");
    await radios.first().focus();
    await page.keyboard.press("ArrowDown");
    expect(await radios.nth(1).isChecked()).toBe(true);
    await page.keyboard.press("Space");

    // The address is required and checked on the device (any letter case; no checksum needed).
    const continueButton = page.getByRole("button", { name: "Continue to World ID" });
    await continueButton.click();
    expect(await page.locator("#payout-error").innerText()).toContain("Enter the address");
    expect(await page.getByLabel("Your payout address").getAttribute("aria-invalid")).toBe("true");
    await page.getByLabel("Your payout address").fill("0x1234");
    await continueButton.click();
    expect(await page.locator("#payout-error").innerText()).toContain("not a valid address");
    await page.getByLabel("Your payout address").fill(ADDRESS_MIXED_CASE);

    // Optional demographics, then a visible keyboard focus on the next control.
    await page.getByLabel("Your payout address").focus();
    await page.keyboard.press("Tab");
    const summaryOutline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(summaryOutline).toBe("solid");
    await page.keyboard.press("Enter");
    await page.getByLabel("Country").selectOption("DE");
    await page.getByLabel("Age").selectOption("25-34");

    const chosen = shown[1]!;
    await page.getByRole("radio", { name: chosen }).check();
    await continueButton.click();
    const simulated = page.getByRole("button", { name: "Simulated World ID (local development only)" });
    await simulated.waitFor();
    expect(await page.locator(".simulated-banner").innerText()).toContain("simulated World ID");
    expect(await page.locator(".chosen").innerText()).toContain(chosen);

    const voteRequest = page.waitForRequest((request) => request.url().endsWith(`/api/v1/polls/${listPoll.id}/votes`));
    await simulated.click();
    const sent = (await voteRequest).postDataJSON() as Record<string, any>;
    const idsByText = new Map(listPoll.options.map((o) => [o.text, o.id]));
    expect(sent).toMatchObject({ optionId: idsByText.get(chosen), payoutAddress: ADDRESS, demographics: { country: "DE", ageBand: "25-34" } });
    expect(sent.shownOrder).toEqual(shown.map((text) => idsByText.get(text)));
    expect(sent.proof.protocol_version).toBe("4.0");

    const confirmation = page.locator("#confirmation");
    await confirmation.waitFor();
    const confirmed = await confirmation.innerText();
    expect(confirmed).toContain("Thank you! Your vote is recorded");
    expect(confirmed).toContain("+0.0005 USDC");
    expect(confirmed).toContain(chosen);
    expect(await page.locator("#progress-text").innerText()).toBe("1 of 100 answers");
    const [vote] = await service.store.db.selectFrom("votes").selectAll().where("poll_id", "=", listPoll.id).execute();
    expect(vote).toMatchObject({ option_id: idsByText.get(chosen), country: "DE", age_band: "25-34" });
    expect(JSON.parse(vote!.shown_order!)).toEqual(sent.shownOrder);
    await screenshot(page, "poll-voted-360");

    await page.reload();
    const again = page.locator("#already-voted");
    await again.waitFor();
    expect(await again.innerText()).toContain("You already voted in this poll");
    expect(await again.innerText()).toContain(chosen);
    expect(await page.locator("#vote-form").count()).toBe(0);

    // The rewards page remembers the payout address of this device. Anyone sees its payouts (none yet); its
    // votes and balance need the owner's signature (test/rewards-page-browser.test.ts).
    await page.getByRole("link", { name: "See your rewards" }).click();
    await page.locator("#owner-details").waitFor();
    expect(await page.getByLabel("Payout address").inputValue()).toBe(ADDRESS);
    expect(await page.locator("#no-payouts").innerText()).toContain("No payouts yet");
    expect(await page.locator("#owner-message").innerText()).toContain(`Address: ${ADDRESS}`);
    await screenshot(page, "rewards-360");

    // Another device of the same simulated human: the API refuses the second vote; the page says why.
    const seed = await page.evaluate(() => localStorage.getItem("quali:simulatedHuman"));
    expect(seed).toBeTruthy();
    const other = await openPage(360);
    await other.context.addInitScript((value) => localStorage.setItem("quali:simulatedHuman", value), seed!);
    await other.page.goto(`${service.url}/polls/${listPoll.id}`);
    expect(await other.page.getByLabel("Your payout address").inputValue()).toBe("");
    await other.page.getByRole("radio").first().check();
    await other.page.getByLabel("Your payout address").fill("0x2222222222222222222222222222222222222222");
    await other.page.getByRole("button", { name: "Continue to World ID" }).click();
    await other.page.getByRole("button", { name: /Simulated World ID/ }).click();
    await other.page.locator("#already-voted").waitFor();
    expect(await service.store.db.selectFrom("votes").select("id").where("poll_id", "=", listPoll.id).execute()).toHaveLength(1);

    expect([...problems, ...other.problems]).toEqual([]);
    await other.context.close();
    await context.close();
  });

  it("grid polls show https images (hero and options) and fall back to the option text when an image is broken", async () => {
    for (const width of [1280, 360] as const) {
      const { context, page, problems } = await openPage(width);
      await page.goto(`${service.url}/polls/${gridPoll.id}`);
      await page.locator('main[data-ready="true"]').waitFor();
      expect(await page.locator("fieldset.options.grid").count()).toBe(1);
      await expect.poll(() => page.locator("img.poll-media").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
      const optionA = page.locator(".option", { hasText: "Logo A" });
      await expect.poll(() => optionA.locator("img").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
      const optionC = page.locator(".option", { hasText: "Logo C" });
      await expect.poll(() => optionC.locator("img").count()).toBe(0);
      expect(await optionC.getAttribute("class")).not.toContain("has-image");
      expect(await optionC.getByRole("radio", { name: "Logo C" }).count()).toBe(1);
      // Images never leak the page address to their host.
      expect(await page.locator("img").first().getAttribute("referrerpolicy")).toBe("no-referrer");
      // Readable at this width: nothing scrolls sideways.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await screenshot(page, `poll-${width}`);
      expect(problems).toEqual([]);
      await context.close();
    }
  });

  it("full, expired and unknown polls, and a poll that fills while the voter is choosing, get friendly states", async () => {
    const { context, page, problems } = await openPage(360);
    await page.goto(`${service.url}/polls/${fullPoll.id}`);
    await page.locator("#closed").waitFor();
    expect(await page.locator("#closed").innerText()).toContain("This poll is full");
    await page.goto(`${service.url}/polls/${expiredPoll.id}`);
    await page.locator("#closed").waitFor();
    expect(await page.locator("#closed").innerText()).toContain("This poll has ended");
    await page.goto(`${service.url}/polls/00000000-0000-4000-8000-000000000000`);
    await page.locator("#not-found").waitFor();
    expect(await page.getByRole("heading", { level: 1 }).innerText()).toBe("Poll not found");

    await page.goto(`${service.url}/polls/${gridPoll.id}`);
    await page.getByRole("radio", { name: "Logo B" }).check();
    await page.getByLabel("Your payout address").fill(ADDRESS);
    await service.store.db.updateTable("polls").set({ status: "completed", vote_count: 100 }).where("id", "=", gridPoll.id).execute();
    try {
      await page.getByRole("button", { name: "Continue to World ID" }).click();
      await page.locator("#closed").waitFor();
      expect(await page.locator("#closed").getAttribute("data-state")).toBe("poll_full");
    } finally {
      await service.store.db.updateTable("polls").set({ status: "active", vote_count: 0 }).where("id", "=", gridPoll.id).execute();
    }
    expect(problems).toEqual([]);
    await context.close();
  });

  it("labels every control, groups the options, and announces status politely", async () => {
    const { context, page } = await openPage(1280);
    await page.goto(`${service.url}/`);
    await page.locator(".card").first().waitFor();
    await page.locator(".thumbs img").first().evaluate((img: HTMLImageElement) => img.decode().catch(() => undefined));
    await screenshot(page, "feed-1280");
    await page.goto(`${service.url}/polls/${gridPoll.id}`);
    await page.locator('main[data-ready="true"]').waitFor();
    const audit = await page.evaluate(() => {
      const controls = [...document.querySelectorAll("input, select, textarea")] as HTMLInputElement[];
      return {
        lang: document.documentElement.lang,
        h1: document.querySelectorAll("h1").length,
        unlabelled: controls.filter((c) => c.labels?.length === 0 && !c.getAttribute("aria-label")).map((c) => c.outerHTML),
        legend: document.querySelector("fieldset.options legend")?.textContent,
        radios: document.querySelectorAll('fieldset.options input[type="radio"][name="option"]').length,
        live: document.querySelector("#status")?.getAttribute("aria-live"),
        buttonsReachable: [...document.querySelectorAll("button, a[href]")].every((b) => (b as HTMLElement).tabIndex >= 0),
      };
    });
    expect(audit).toEqual({ lang: "en", h1: 1, unlabelled: [], legend: "Choose one answer", radios: 3, live: "polite", buttonsReachable: true });
    await context.close();
  });
});
