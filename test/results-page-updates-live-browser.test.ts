// The results page in headless Chromium follows the poll's event stream: a vote cast while the page is
// open shows up without a reload, the poll's completion too, and the read token still travels only as
// the X-Read-Token header (to the results API and the stream), never in a URL.
import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { collectProblems, launchBrowser, newContext, screenshot } from "./support/browser";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, mapLimit, type CreatedPoll } from "./support/polls";

let service: LocalService;
let browser: Browser;
let poll: CreatedPoll;

beforeAll(async () => {
  [service, browser] = await Promise.all([startLocalService(), launchBrowser()]);
  poll = await createPaidPoll(service, { question: "Which launch date works?", options: [{ text: "Monday" }, { text: "Friday" }] });
});
afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

let humans = 0;
async function vote(count: number, optionIndex = 0): Promise<void> {
  const answers = await mapLimit(Array.from({ length: count }, (_, i) => i), 8, () =>
    voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[optionIndex]!.id, human: `live-page-human-${++humans}` }),
  );
  expect(answers.map((a) => a.status)).toEqual(new Array(count).fill(201));
}

describe("results page live updates in Chromium", () => {
  it("shows a vote cast while the page is open, and the completion, without a reload", async () => {
    const context = await newContext(browser, 360);
    const page = await context.newPage();
    const problems = collectProblems(page);
    const requests: Request[] = [];
    page.on("request", (request) => requests.push(request));
    let navigations = 0;
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });
    await page.goto(`${service.url}/polls/${poll.id}/results#token=${poll.readToken}`);
    await page.locator('main[data-ready="true"]').waitFor();
    expect(await page.locator("#vote-count").innerText()).toBe("0 of 100 answers");
    await page.locator("#live-status:not([hidden])").waitFor();

    await vote(1, 1);
    await expect.poll(() => page.locator("#vote-count").innerText(), { timeout: 30_000 }).toBe("1 of 100 answers");
    const friday = page.locator(`#chart .chart-row[data-option-id="${poll.options[1]!.id}"]`);
    expect(await friday.innerText()).toContain("1 vote");

    await vote(3, 0);
    await expect.poll(() => page.locator("#vote-count").innerText(), { timeout: 30_000 }).toBe("4 of 100 answers");
    expect(await page.locator(`#chart .chart-row[data-option-id="${poll.options[0]!.id}"]`).innerText()).toContain("3 votes");
    await screenshot(page, "results-live-360");

    // The rest of the votes: the page shows the poll completed and stops following it.
    await vote(96, 0);
    await expect.poll(() => page.locator(".result-head").innerText(), { timeout: 30_000 }).toContain("Completed");
    expect(await page.locator("#vote-count").innerText()).toBe("100 of 100 answers");
    await page.locator("#live-status[hidden]").waitFor({ state: "attached" });
    expect(await page.locator("[role=status]").innerText()).toContain("The poll is complete.");
    expect(navigations).toBe(1);

    // The token: only as X-Read-Token, only to the results API and the event stream, never in a URL.
    const withToken = requests.filter((r) => r.headers()["x-read-token"] !== undefined);
    const paths = new Set(withToken.map((r) => new URL(r.url()).pathname));
    expect([...paths].sort()).toEqual([`/api/v1/polls/${poll.id}/events`, `/api/v1/polls/${poll.id}/results`]);
    expect(withToken.every((r) => r.headers()["x-read-token"] === poll.readToken)).toBe(true);
    expect(requests.filter((r) => r.url().includes(poll.readToken)).every((r) => new URL(r.url()).hash !== "")).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);
});
