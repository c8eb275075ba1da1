// A refund the token refuses (the payer was blacklisted on the devnet USDC after paying, as Circle can on
// USDC) is parked like a voter payout: it stays owed to the payer, /healthz and the poll say so, nothing
// moves. Released by the operator, it is failed (no money moved) and the next round queues the poll's
// refund again — parked again while the token still refuses the payer, never a second refund beside it.
// Once the payer can be paid, a retry pays it exactly once (the token's Transfer logs) and the audit is clean.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalletClient, http, parseAbi } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { errorCode, prepareVote, submitPrepared, voteAsSimulatedHuman } from "../scripts/lib/voter";
import { localChain, publicClientFor, type Address } from "../src/devnet/chain";
import { releaseParked, retryParked } from "../src/payouts";
import { testClock } from "./support/clock";
import { futureIso, startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { expectCleanAudit, pollRefund, refundRows, walletTransfers } from "./support/refunds";

const blacklistAbi = parseAbi(["function blacklist(address account)", "function unBlacklist(address account)"]);
const clock = testClock();
let service: LocalService;
let poll: CreatedPoll;
let payer: string;

async function setBlacklisted(address: string, on: boolean) {
  const devnet = service.devnet!;
  const admin = createWalletClient({ account: privateKeyToAccount(devnet.minter.privateKey), chain: localChain(devnet.chainId, devnet.rpcUrl), transport: http(devnet.rpcUrl) });
  const hash = await admin.writeContract({ address: devnet.asset, abi: blacklistAbi, functionName: on ? "blacklist" : "unBlacklist", args: [address as Address] });
  await publicClientFor(devnet.rpcUrl).waitForTransactionReceipt({ hash, pollingInterval: 50 });
}

const parkedHealth = async () =>
  ((await (await fetch(`${service.url}/healthz`)).json()) as { payouts: Record<string, { state: string; parked: { count: number; amountAtomic: string } }> }).payouts[
    service.devnet!.network
  ]!;

beforeAll(async () => {
  service = await startLocalService({ PAYOUT_THRESHOLD_ATOMIC: "10000", PAYOUT_INTERVAL_MS: "3600000" }, { now: clock.now });
  await service.payouts.kick();
  poll = await createPaidPoll(service, { maxResponses: 100, expiresAt: futureIso(6) }, 1);
  payer = service.devnet!.payers[1]!.address.toLowerCase();
  for (let i = 0; i < 3; i++) {
    expect((await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: `refund-parked-${i}` })).status).toBe(201);
  }
  const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: "refund-parked-late" });
  if ("failed" in step) throw new Error(JSON.stringify(step.failed));
  clock.advance(7 * 60_000);
  expect(errorCode(await submitPrepared(service.url, step.prepared))).toBe("poll_expired");
  await setBlacklisted(payer, true);
});
afterAll(async () => {
  await service?.stop();
});

describe("a refund the token refuses", () => {
  it("is parked, still owed to the payer, and nothing moves", async () => {
    await service.payouts.kick();
    const [parked] = refundRows(service, poll.id);
    expect(parked).toMatchObject({ status: "parked", amount_atomic: "485000", address: payer, tx_hash: null });
    expect(await parkedHealth()).toMatchObject({ state: "active", parked: { count: 1, amountAtomic: "485000" } });
    expect((await pollRefund(service.url, poll.id)).refund).toEqual({ status: "parked", amountAtomic: "485000", amountUsdc: 0.485, txHash: null });
    expect(service.logs.some((line) => line.startsWith(`refund ${parked!.id} of poll ${poll.id}`) && line.includes("parked") && line.includes("stays owed to the payer"))).toBe(true);
    expect((await walletTransfers(service)).get(payer)).toBeUndefined();
  });

  it("released, it is queued again for the same poll and parked again: one refund owed, never two", async () => {
    const [first] = refundRows(service, poll.id);
    const released = await releaseParked(service.store, first!.id, clock.now());
    expect(released.ok).toBe(true);
    await service.payouts.kick();
    const rows = refundRows(service, poll.id);
    expect(rows).toEqual([
      expect.objectContaining({ id: first!.id, status: "failed", tx_hash: null }),
      expect.objectContaining({ status: "parked", amount_atomic: "485000", address: payer }),
    ]);
    await service.payouts.kick();
    expect(refundRows(service, poll.id)).toHaveLength(2);
    expect((await walletTransfers(service)).get(payer)).toBeUndefined();
  });

  it("retried once the payer can be paid, it is paid exactly once", async () => {
    await setBlacklisted(payer, false);
    const parked = refundRows(service, poll.id).find((row) => row.status === "parked")!;
    expect((await retryParked(service.store, parked.id, clock.now())).ok).toBe(true);
    await service.payouts.kick();
    await service.payouts.kick();
    const confirmed = refundRows(service, poll.id).filter((row) => row.status === "confirmed");
    expect(confirmed).toEqual([expect.objectContaining({ id: parked.id, amount_atomic: "485000" })]);
    expect((await walletTransfers(service)).get(payer)).toEqual([{ value: 485_000n, tx: confirmed[0]!.tx_hash }]);
    expect((await pollRefund(service.url, poll.id)).refund).toMatchObject({ status: "confirmed", txHash: confirmed[0]!.tx_hash });
    expect((await parkedHealth()).parked).toMatchObject({ count: 0 });
    await expectCleanAudit(service);
  });
});
