// The rewards page in headless Chromium against the real service: anyone sees an address's payouts (none
// yet); its votes and balance appear once the owner signs — with the browser's wallet (an EIP-1193
// window.ethereum whose personal_sign is done by the test with the address's key, as a wallet would), or
// with a signature made elsewhere and pasted. A signature by another key is refused with a clear message.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hexToString, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll } from "./support/polls";
import { collectProblems, launchBrowser, newContext, screenshot } from "./support/browser";

let service: LocalService;
let browser: Browser;
const owner = privateKeyToAccount(generatePrivateKey());
const stranger = privateKeyToAccount(generatePrivateKey());
const ADDRESS = owner.address.toLowerCase();

beforeAll(async () => {
  [service, browser] = await Promise.all([startLocalService(), launchBrowser()]);
  const poll = await createPaidPoll(service);
  const answer = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: "rewards-page", payoutAddress: ADDRESS });
  expect(answer.status).toBe(201);
});
afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

const ROW = /Local devnet\s+1\s+0\.0005 USDC\s+0\.0005 USDC/;

describe("the rewards page in Chromium", () => {
  it("shows the public payouts, then the owner's votes and balance after their wallet signs", async () => {
    const context = await newContext(browser, 360);
    const signed: string[] = [];
    // The wallet: personal_sign with the owner's key, as MetaMask & co. do (the message comes hex-encoded).
    await context.exposeFunction("__walletSign", async (data: Hex, account: string) => {
      if (account.toLowerCase() !== ADDRESS) throw new Error("unknown account");
      const message = hexToString(data);
      signed.push(message);
      return owner.signMessage({ message });
    });
    await context.addInitScript((address) => {
      (window as any).ethereum = {
        request: async ({ method, params }: { method: string; params?: unknown[] }) => {
          if (method === "eth_requestAccounts") return [address];
          if (method === "personal_sign") return (window as any).__walletSign(params![0], params![1]);
          throw new Error(`unsupported ${method}`);
        },
      };
    }, owner.address);
    const page = await context.newPage();
    const problems = collectProblems(page);

    await page.goto(`${service.url}/rewards?address=${ADDRESS}`);
    await page.locator("#owner-details").waitFor();
    expect(await page.locator("#no-payouts").innerText()).toContain("No payouts yet");
    expect(await page.locator("#rewards-table").count()).toBe(0);
    await screenshot(page, "rewards-public-360");

    await page.getByRole("button", { name: "Sign with your wallet" }).click();
    await page.locator("#rewards-table").waitFor();
    expect(await page.locator("#rewards-table tbody").innerText()).toMatch(ROW);
    expect(await page.locator("#rewards-title").innerText()).toBe("1 vote rewarded");
    expect(signed).toHaveLength(1);
    expect(signed[0]).toMatch(new RegExp(`^Quali rewards: show my balance\\nAddress: ${ADDRESS}\\nTimestamp: \\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z$`));
    await screenshot(page, "rewards-owner-360");

    expect(problems).toEqual([]);
    await context.close();
  });

  it("without a wallet in the browser, takes a signature made elsewhere, and says so when it is not the owner's", async () => {
    const context = await newContext(browser, 1280);
    const page = await context.newPage();
    const problems = collectProblems(page);
    await page.goto(`${service.url}/rewards?address=${ADDRESS}`);
    await page.locator("#owner-details").waitFor();
    expect(await page.getByRole("button", { name: "Sign with your wallet" }).count()).toBe(0);
    const message = await page.locator("#owner-message").innerText();
    expect(message).toContain(`Address: ${ADDRESS}`);

    await page.getByLabel("Signature").fill(await stranger.signMessage({ message }));
    await page.getByRole("button", { name: "Show my votes" }).click();
    await expect.poll(() => page.locator("#owner-details .status").innerText()).toContain("This is not a signature by");
    expect(await page.locator("#rewards-table").count()).toBe(0);

    await page.getByLabel("Signature").fill(await owner.signMessage({ message }));
    await page.getByRole("button", { name: "Show my votes" }).click();
    await page.locator("#rewards-table").waitFor();
    expect(await page.locator("#rewards-table tbody").innerText()).toMatch(ROW);
    await screenshot(page, "rewards-owner-1280");

    expect(problems).toEqual([]);
    await context.close();
  });
});
