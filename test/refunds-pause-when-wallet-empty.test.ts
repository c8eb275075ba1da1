// Refunds come out of the one payout wallet (one wallet to fund per network): when it cannot cover a
// refund owed, the network pauses exactly as for voter payouts — a log line, /healthz says why and how
// much is pending — the refund stays owed and shows as pending on the poll; once the wallet is funded,
// the next round pays exactly what is owed, once. Checked against the token's Transfer logs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { errorCode, prepareVote, submitPrepared, voteAsSimulatedHuman } from "../scripts/lib/voter";
import { devAccount, localChain, mintUsdc, publicClientFor, testUsdcAbi, usdcBalanceOf, type Address } from "../src/devnet/chain";
import { DEVNET_PAYOUT_ACCOUNT_INDEX } from "../src/devnet/payout-wallet";
import { testClock } from "./support/clock";
import { futureIso, startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { expectCleanAudit, pollRefund, refundRows, walletTransfers } from "./support/refunds";

const clock = testClock();
const payoutWallet = devAccount(DEVNET_PAYOUT_ACCOUNT_INDEX);
let service: LocalService;
let poll: CreatedPoll;
let payer: string;
/** The first block after the test emptied the payout wallet (that transfer is the test's, not the service's). */
let auditFrom: bigint;

interface Health {
  state: string;
  reason?: string;
  message?: string;
  walletBalanceAtomic: string | null;
  pendingAtomic: string;
}
const health = async () => ((await (await fetch(`${service.url}/healthz`)).json()) as { payouts: Record<string, Health> }).payouts[service.devnet!.network]!;
const usdc = (address: string) => usdcBalanceOf(service.devnet!.rpcUrl, service.devnet!.asset, address as Address);

beforeAll(async () => {
  // The voters' rewards (500 each) stay below the threshold: the refund is the only transfer owed.
  service = await startLocalService({ PAYOUT_THRESHOLD_ATOMIC: "10000", PAYOUT_INTERVAL_MS: "3600000" }, { now: clock.now });
  await service.payouts.kick();
  // Empty the payout wallet (its key is the public dev mnemonic's account 500).
  const devnet = service.devnet!;
  const wallet = createWalletClient({ account: privateKeyToAccount(payoutWallet.privateKey), chain: localChain(devnet.chainId, devnet.rpcUrl), transport: http(devnet.rpcUrl) });
  const hash = await wallet.writeContract({ address: devnet.asset, abi: testUsdcAbi, functionName: "transfer", args: [devnet.payTo, await usdc(payoutWallet.address)] });
  auditFrom = (await publicClientFor(devnet.rpcUrl).waitForTransactionReceipt({ hash, pollingInterval: 50 })).blockNumber + 1n;
  expect(await usdc(payoutWallet.address)).toBe(0n);

  poll = await createPaidPoll(service, { maxResponses: 100, expiresAt: futureIso(6) }, 1);
  payer = devnet.payers[1]!.address.toLowerCase();
  for (let i = 0; i < 3; i++) {
    const answer = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: `refund-pause-${i}` });
    expect(answer.status).toBe(201);
  }
  // Past its expiry (the test's clock): a vote finds it expired and expires it on the spot.
  const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: "refund-pause-late" });
  if ("failed" in step) throw new Error(JSON.stringify(step.failed));
  clock.advance(7 * 60_000);
  const late = await submitPrepared(service.url, step.prepared);
  expect(errorCode(late)).toBe("poll_expired");
});
afterAll(async () => {
  await service?.stop();
});

describe("a refund owed while the payout wallet is empty", () => {
  it("pauses the network with a log line and /healthz, keeps the refund owed, and sends nothing", async () => {
    await service.payouts.kick();
    expect(await health()).toMatchObject({ state: "paused", reason: "insufficient_usdc", walletBalanceAtomic: "0", pendingAtomic: "485000" });
    expect(service.logs.some((line) => /payouts paused on Local devnet .*holds 0 USDC but pending payouts need 0\.485 USDC/.test(line))).toBe(true);
    expect(refundRows(service, poll.id)).toEqual([expect.objectContaining({ status: "claimed", amount_atomic: "485000", address: payer, tx_hash: null })]);
    expect((await pollRefund(service.url, poll.id)).refund).toEqual({ status: "pending", amountAtomic: "485000", amountUsdc: 0.485, txHash: null });
    expect((await walletTransfers(service)).get(payer)).toBeUndefined();
  });

  it("stays paused while funding falls short by one unit, then pays exactly the refund, once", async () => {
    const devnet = service.devnet!;
    await mintUsdc(devnet.rpcUrl, devnet.minter.privateKey, devnet.asset, payoutWallet.address, 484_999n);
    await service.payouts.kick();
    expect(await health()).toMatchObject({ state: "paused", reason: "insufficient_usdc", walletBalanceAtomic: "484999", pendingAtomic: "485000" });
    expect((await walletTransfers(service)).get(payer)).toBeUndefined();

    await mintUsdc(devnet.rpcUrl, devnet.minter.privateKey, devnet.asset, payoutWallet.address, 1n);
    await service.payouts.kick();
    expect(await health()).toMatchObject({ state: "active", walletBalanceAtomic: "0", pendingAtomic: "0" });
    expect(service.logs.some((line) => line.includes("payouts resumed on Local devnet"))).toBe(true);
    const [refund] = refundRows(service, poll.id);
    expect(refund).toMatchObject({ status: "confirmed", amount_atomic: "485000" });
    await service.payouts.kick();
    expect((await walletTransfers(service)).get(payer)).toEqual([{ value: 485_000n, tx: refund!.tx_hash }]);
    expect(await usdc(payoutWallet.address)).toBe(0n);
    expect((await pollRefund(service.url, poll.id)).refund).toEqual({ status: "confirmed", amountAtomic: "485000", amountUsdc: 0.485, txHash: refund!.tx_hash });
    await expectCleanAudit(service, auditFrom);
  });
});
