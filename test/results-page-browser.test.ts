// The results page in headless Chromium: a poll filled by `npm run simulate-voters`, opened by its owner
// with the read token in the URL fragment, shows a bar per option with its 95% interval drawn, counts,
// status and the demographics breakdown. The token is sent only as X-Read-Token to the results API,
// never in a URL. Without a token a private poll's page shows nothing of the results; a poll created
// with publicResults shows them to anyone.
import { spawn } from "node:child_process";
import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { collectProblems, launchBrowser, newContext, screenshot } from "./support/browser";

let service: LocalService;
let browser: Browser;
let filled: CreatedPoll;
let publicPoll: CreatedPoll;

function simulateVoters(pollId: string, votes: number): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/simulate-voters.ts", "--poll", pollId, "--votes", String(votes), "--base-url", service.url]);
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.resume();
    child.on("exit", (code) => resolve({ code, stdout }));
  });
}

interface Results {
  status: string;
  voteCount: number;
  options: { id: string; text: string; count: number; share: number; ci95: [number, number] }[];
  demographics: { country: { value: string; count: number }[]; ageBand: { value: string; count: number }[]; notStated: { country: number } };
}

beforeAll(async () => {
  [service, browser] = await Promise.all([startLocalService(), launchBrowser()]);
  filled = await createPaidPoll(service, {
    question: "Which onboarding step confuses you most?",
    options: [{ text: "Creating a wallet" }, { text: "Verifying with World ID" }, { text: "Choosing a payout address" }],
  });
  publicPoll = await createPaidPoll(service, { question: "Shared results?", publicResults: true, options: [{ text: "Yes" }, { text: "No" }] });
  const [run, small] = await Promise.all([simulateVoters(filled.id, 120), simulateVoters(publicPoll.id, 7)]);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain("the poll is full");
  expect(small.code).toBe(0);
});
afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

async function results(poll: CreatedPoll): Promise<Results> {
  const response = await fetch(`${service.url}/api/v1/polls/${poll.id}/results`, { headers: { "x-read-token": poll.readToken } });
  return (await response.json()) as Results;
}

describe("results page in Chromium", () => {
  it("shows the owner a bar chart with 95% intervals, counts, status and demographics; the token goes only to the results API", async () => {
    const expected = await results(filled);
    expect(expected).toMatchObject({ status: "completed", voteCount: 100 });

    for (const width of [360, 1280] as const) {
      const context = await newContext(browser, width);
      const page = await context.newPage();
      const problems = collectProblems(page);
      const requests: Request[] = [];
      page.on("request", (request) => requests.push(request));
      await page.goto(`${service.url}/polls/${filled.id}/results#token=${filled.readToken}`);
      await page.locator('main[data-ready="true"]').waitFor();
      await page.locator("#chart").waitFor();

      const head = await page.locator(".result-head").innerText();
      expect(head).toContain("Completed");
      expect(head).toContain("100 of 100 answers");
      const rows = page.locator("#chart .chart-row");
      expect(await rows.count()).toBe(3);
      for (const option of expected.options) {
        const row = page.locator(`#chart .chart-row[data-option-id="${option.id}"]`);
        const text = await row.innerText();
        expect(text).toContain(option.text);
        // As the page writes a share: one decimal under 10% (9.0%), whole percents above.
        expect(text).toContain(`${(option.share * 100).toFixed(option.share > 0 && option.share < 0.1 ? 1 : 0)}%`);
        expect(text).toContain(`${option.count} votes`);
        expect(text).toMatch(/95% interval: \d+(\.\d)?% – \d+(\.\d)?%/);
        // The bar and the whisker are drawn where the numbers say.
        const geometry = await row.evaluate((li) => {
          const track = li.querySelector(".track")!.getBoundingClientRect();
          const bar = li.querySelector(".bar")!.getBoundingClientRect();
          const whisker = li.querySelector(".whisker")!.getBoundingClientRect();
          return { track: track.width, bar: bar.width, left: whisker.left - track.left, width: whisker.width };
        });
        expect(geometry.bar / geometry.track).toBeCloseTo(option.share, 1);
        expect(geometry.left / geometry.track).toBeCloseTo(option.ci95[0], 1);
        expect((geometry.left + geometry.width) / geometry.track).toBeCloseTo(option.ci95[1], 1);
      }
      // Sorted by votes, most first.
      const counts = await rows.evaluateAll((lis) => lis.map((li) => Number(/(\d+) votes?/.exec(li.textContent ?? "")?.[1])));
      expect(counts).toEqual([...counts].sort((a, b) => b - a));

      const countryTable = page.locator("#demo-country");
      for (const bucket of expected.demographics.country) {
        expect(await countryTable.locator("tbody tr", { hasText: `(${bucket.value})` }).locator("td").first().innerText()).toBe(String(bucket.count));
      }
      if (expected.demographics.notStated.country > 0) {
        expect(await countryTable.locator("tr.not-stated td").first().innerText()).toBe(String(expected.demographics.notStated.country));
      }
      expect(await page.locator("#demo-ageBand tbody tr").count()).toBeGreaterThan(1);
      await screenshot(page, `results-${width}`);

      // The token: only as X-Read-Token, only to the results API, never in any URL.
      const withToken = requests.filter((r) => r.headers()["x-read-token"] !== undefined);
      expect(withToken.map((r) => new URL(r.url()).pathname)).toEqual([`/api/v1/polls/${filled.id}/results`]);
      expect(withToken[0]!.headers()["x-read-token"]).toBe(filled.readToken);
      expect(requests.filter((r) => r.url().includes(filled.readToken) && r.url() !== page.url())).toEqual([]);
      expect(requests.filter((r) => r.url().includes(filled.readToken)).every((r) => new URL(r.url()).hash !== "")).toBe(true);
      expect(problems).toEqual([]);
      await context.close();
    }
  });

  it("shows nothing of a private poll's results without the token; a pasted token shows them; a wrong one is refused", async () => {
    const context = await newContext(browser, 360);
    const page = await context.newPage();
    const problems = collectProblems(page);
    const requests: Request[] = [];
    page.on("request", (request) => requests.push(request));
    await page.goto(`${service.url}/polls/${filled.id}/results`);
    await page.locator('main[data-ready="true"]').waitFor();
    await page.locator("#token-form").waitFor();
    const text = await page.locator("main").innerText();
    expect(text).toContain("These results are private");
    expect(await page.locator("#chart, #demo-country, .result-head").count()).toBe(0);
    for (const option of (await results(filled)).options) {
      expect(text).not.toContain(option.text);
      expect(text).not.toContain(`${option.count} votes`);
    }
    expect(text).not.toMatch(/\d+ of 100/);
    // Nothing was even asked of the results API.
    expect(requests.some((r) => r.url().includes("/results") && r.url().includes("/api/"))).toBe(false);
    await screenshot(page, "results-private-360");

    await page.getByLabel("Read token").fill(publicPoll.readToken);
    await page.getByRole("button", { name: "Show results" }).click();
    await expect.poll(() => page.locator("#token-error").innerText()).toContain("does not belong to this poll");
    expect(await page.locator("#chart").count()).toBe(0);

    await page.getByLabel("Read token").fill(filled.readToken);
    await page.getByRole("button", { name: "Show results" }).click();
    await page.locator("#chart").waitFor();
    expect(page.url()).not.toContain(filled.readToken);
    await page.getByRole("button", { name: "Forget the token" }).click();
    await page.locator("#token-form").waitFor();
    expect(await page.locator("#chart").count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows a publicResults poll's aggregate results to anyone, without a token", async () => {
    const context = await newContext(browser, 360);
    const page = await context.newPage();
    await page.goto(`${service.url}/polls/${publicPoll.id}/results`);
    await page.locator("#chart").waitFor();
    expect(await page.locator(".result-head").innerText()).toContain("7 of 100 answers");
    expect(await page.locator("main").innerText()).toContain("These results are public");
    await context.close();
  });
});
