// When the payout wallet cannot cover what is owed — no USDC, or no gas — payouts pause with a clear log
// line and /healthz says why, votes keep being accepted, nothing owed is lost; after funding, payouts
// resume and pay exactly what is owed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalletClient, http, parseAbiItem } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { devAccount, localChain, mintUsdc, publicClientFor, setEthBalance, testUsdcAbi, usdcBalanceOf, type Address } from "../src/devnet/chain";
import { DEVNET_PAYOUT_ACCOUNT_INDEX } from "../src/devnet/payout-wallet";
import { startLocalService, type LocalService } from "./support/harness";
import { requestSignedPayout, voterAccount } from "./support/payout-requests";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { ownerRewards } from "./support/owner-rewards";

// E asks for a balance below the threshold: it signs its request, so the test holds its key.
const voterE = voterAccount(`0x${"e5".repeat(32)}`);
const E = voterE.address;
const F = "0x00000000000000000000000000000000000f0006";
const transferEvent = parseAbiItem("event Transfer(address indexed from, address indexed to, uint256 value)");

let service: LocalService;
let poll: CreatedPoll;
const payoutWallet = devAccount(DEVNET_PAYOUT_ACCOUNT_INDEX);
let humans = 0;

interface Health {
  state: string;
  reason?: string;
  message?: string;
  walletBalanceAtomic: string | null;
  pendingAtomic: string;
  gasBalanceWei: string | null;
}
const health = async () => {
  const body = (await (await fetch(`${service.url}/healthz`)).json()) as { status: string; payouts: Record<string, Health> };
  return { status: body.status, local: body.payouts[service.devnet!.network]! };
};
const vote = async (address: string) =>
  voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: `pause-${humans++}`, payoutAddress: address });
const usdc = (address: string) => usdcBalanceOf(service.devnet!.rpcUrl, service.devnet!.asset, address as Address);
const paidTo = async (address: string) => {
  const devnet = service.devnet!;
  const logs = await publicClientFor(devnet.rpcUrl).getLogs({
    address: devnet.asset,
    event: transferEvent,
    args: { from: payoutWallet.address, to: address as Address },
    fromBlock: 0n,
    toBlock: "latest",
  });
  return logs.map((log) => log.args.value!);
};

beforeAll(async () => {
  service = await startLocalService({ PAYOUT_THRESHOLD_ATOMIC: "1000", PAYOUT_INTERVAL_MS: "3600000" });
  await service.payouts.kick();
  // Empty the payout wallet (its key is the public dev mnemonic's account 500).
  const devnet = service.devnet!;
  const wallet = createWalletClient({
    account: privateKeyToAccount(payoutWallet.privateKey),
    chain: localChain(devnet.chainId, devnet.rpcUrl),
    transport: http(devnet.rpcUrl),
  });
  const balance = await usdc(payoutWallet.address);
  const hash = await wallet.writeContract({ address: devnet.asset, abi: testUsdcAbi, functionName: "transfer", args: [devnet.payTo, balance] });
  await publicClientFor(devnet.rpcUrl).waitForTransactionReceipt({ hash, pollingInterval: 50 });
  expect(await usdc(payoutWallet.address)).toBe(0n);
  poll = await createPaidPoll(service);
});
afterAll(async () => {
  await service?.stop();
});

describe("an empty payout wallet", () => {
  it("pauses payouts with a log line and /healthz, keeps accepting votes, and loses nothing", async () => {
    for (let i = 0; i < 2; i++) expect((await vote(E)).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await vote(F)).status).toBe(201);
    await service.payouts.kick();

    const { status, local } = await health();
    expect(status).toBe("ok");
    expect(local).toMatchObject({ state: "paused", reason: "insufficient_usdc", walletBalanceAtomic: "0", pendingAtomic: "2500" });
    expect(service.logs.some((line) => /payouts paused on Local devnet .*holds 0 USDC but pending payouts need 0\.0025 USDC/.test(line))).toBe(true);

    // Votes still count, and what is owed is shown as pending, with no transaction yet.
    expect((await vote(E)).status).toBe(201);
    const rewards = (await ownerRewards(service.url, privateKeyToAccount(voterE.privateKey))).body as { rewards: Record<string, unknown>[] };
    expect(rewards.rewards[0]).toMatchObject({ accruedAtomic: "1500", unpaidAtomic: "500", pendingAtomic: "1000", paidAtomic: "0" });
    expect(rewards.rewards[0]!.payouts).toEqual([expect.objectContaining({ status: "pending", amountAtomic: "1000", txHash: null })]);
    expect(await paidTo(E)).toEqual([]);
    expect(await paidTo(F)).toEqual([]);
  });

  it("stays paused while funding does not cover everything pending, then resumes and pays exactly what is owed", async () => {
    const devnet = service.devnet!;
    await mintUsdc(devnet.rpcUrl, devnet.minter.privateKey, devnet.asset, payoutWallet.address, 1_000n);
    await service.payouts.kick();
    expect((await health()).local).toMatchObject({ state: "paused", reason: "insufficient_usdc", walletBalanceAtomic: "1000", pendingAtomic: "2500" });
    expect(await paidTo(E)).toEqual([]);

    await mintUsdc(devnet.rpcUrl, devnet.minter.privateKey, devnet.asset, payoutWallet.address, 1_500n);
    await service.payouts.kick();
    expect((await health()).local).toMatchObject({ state: "active", walletBalanceAtomic: "0", pendingAtomic: "0" });
    expect(service.logs.some((line) => line.includes("payouts resumed on Local devnet"))).toBe(true);
    expect(await paidTo(E)).toEqual([1000n]);
    expect(await paidTo(F)).toEqual([1500n]);
    expect(await usdc(payoutWallet.address)).toBe(0n);
  });

  it("pauses when the wallet has no gas, and resumes when it gets some", async () => {
    const devnet = service.devnet!;
    await mintUsdc(devnet.rpcUrl, devnet.minter.privateKey, devnet.asset, payoutWallet.address, 10_000n);
    await setEthBalance(devnet.rpcUrl, payoutWallet.address, 0n);
    const asked = await requestSignedPayout(service.url, voterE.privateKey);
    expect(asked.status).toBe(202);
    await service.payouts.kick();
    const paused = (await health()).local;
    expect(paused).toMatchObject({ state: "paused", reason: "insufficient_gas", gasBalanceWei: "0", pendingAtomic: "500" });
    expect(paused.message).toMatch(/PAYOUT_MIN_GAS_WEI/);
    expect(service.logs.some((line) => line.includes("payouts paused on Local devnet") && line.includes("gas"))).toBe(true);
    expect((await vote(F)).status).toBe(201); // votes are unaffected

    await setEthBalance(devnet.rpcUrl, payoutWallet.address, 10n ** 18n);
    await service.payouts.kick();
    expect((await health()).local).toMatchObject({ state: "active", pendingAtomic: "0" });
    expect(await paidTo(E)).toEqual([1000n, 500n]);
    // Everything E earned is in E's wallet; F's last vote waits for the threshold (or a request).
    expect(await usdc(E)).toBe(1500n);
    expect(await usdc(F)).toBe(1500n);
  });
});
