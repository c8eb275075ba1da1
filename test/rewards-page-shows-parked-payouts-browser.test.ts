// The rewards page in headless Chromium: a payout the token refused (the address was blacklisted on the
// devnet USDC after voting) is shown to whoever opens the address's page, with the chain's reason and
// the promise that the rewards stay owed to it.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalletClient, http, parseAbi } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { localChain, publicClientFor } from "../src/devnet/chain";
import { collectProblems, launchBrowser, newContext, screenshot } from "./support/browser";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll } from "./support/polls";

const ADDRESS = "0x00000000000000000000000000000000000cc001";

let service: LocalService;
let browser: Browser;

beforeAll(async () => {
  [service, browser] = await Promise.all([startLocalService({ PAYOUT_THRESHOLD_ATOMIC: "1000", PAYOUT_INTERVAL_MS: "3600000" }), launchBrowser()]);
  await service.payouts.kick();
  const poll = await createPaidPoll(service);
  for (const human of ["parked-page-1", "parked-page-2"]) {
    const answer = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human, payoutAddress: ADDRESS });
    expect(answer.status).toBe(201);
  }
  const devnet = service.devnet!;
  const admin = createWalletClient({ account: privateKeyToAccount(devnet.minter.privateKey), chain: localChain(devnet.chainId, devnet.rpcUrl), transport: http(devnet.rpcUrl) });
  const hash = await admin.writeContract({ address: devnet.asset, abi: parseAbi(["function blacklist(address account)"]), functionName: "blacklist", args: [ADDRESS] });
  await publicClientFor(devnet.rpcUrl).waitForTransactionReceipt({ hash, pollingInterval: 50 });
  await service.payouts.kick();
  expect(service.store.sqlite.prepare("SELECT status FROM payouts WHERE address = ?").all(ADDRESS)).toEqual([{ status: "parked" }]);
});
afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

describe("the rewards page shows a parked payout", () => {
  it("with its amount, the chain's reason, and that it stays owed", async () => {
    const context = await newContext(browser, 360);
    const page = await context.newPage();
    const problems = collectProblems(page);
    await page.goto(`${service.url}/rewards?address=${ADDRESS}`);
    const notice = page.locator(".parked-payout");
    await notice.waitFor();
    const text = await notice.innerText();
    expect(text).toContain("Payout on hold on Local devnet");
    expect(text).toContain("0.001 USDC for 2 votes");
    expect(await notice.locator(".parked-reason").innerText()).toMatch(/Blacklistable: account is blacklisted/);
    expect(text).toMatch(/stay owed to this address/);
    await screenshot(page, "rewards-parked-360");
    expect(problems).toEqual([]);
    await context.close();
  });
});
