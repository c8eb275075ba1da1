// "Agents pay for answers, not for hope": a poll that ends without filling up gives its payer back the
// price of every missing response — (maxResponses − voteCount) × 5,000 atomic USDC — on the network it
// paid on, exactly once, from the wallet that pays voters; voters still get their rewards. Checked against
// the token's Transfer logs out of the payout wallet, the poll's own views, the webhook, and the money
// audit. A poll that filled up owes nothing; a poll sold under REFUND_POLICY=none is never refunded, even
// after the deployment switches to 'unfilled'. Time is the test's clock: nobody waits for an expiry.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, prepareVote, submitPrepared, voteAsSimulatedHuman } from "../scripts/lib/voter";
import { ConfigError, loadConfig } from "../src/config";
import { PRICE_PER_RESPONSE_ATOMIC, REWARD_PER_VOTE_ATOMIC } from "../src/payment/pricing";
import { queueOwedRefunds } from "../src/payouts";
import { testClock } from "./support/clock";
import { futureIso, startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, mapLimit, type CreatedPoll } from "./support/polls";
import { expectCleanAudit, pollRefund, refundRows, resultsRefund, walletTransfers } from "./support/refunds";
import { startReceiver, type Receiver } from "./support/webhook-receiver";

const VOTERS = ["0x00000000000000000000000000000000000a0f01", "0x00000000000000000000000000000000000a0f02", "0x00000000000000000000000000000000000a0f03"];
let humans = 0;

/** Votes once per address (each a new simulated human). */
async function voteFrom(service: LocalService, poll: CreatedPoll, addresses: readonly string[]) {
  for (const address of addresses) {
    const answer = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: `refund-${humans++}`, payoutAddress: address });
    expect(answer.status).toBe(201);
  }
}

/**
 * Moves the service's clock past the poll's expiry and lets a (prepared) vote find it expired: the vote
 * is refused and expires the poll on the spot, through the real lifecycle transition (webhook included).
 * Returns what sets the clock back, for once the test is done with that instant (the webhook it enqueued is
 * due then): payers' authorizations are signed on real time, so new polls need the clock back.
 */
async function expireThroughAVote(service: LocalService, clock: ReturnType<typeof testClock>, poll: CreatedPoll): Promise<() => void> {
  const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: `refund-late-${humans++}` });
  if ("failed" in step) throw new Error(JSON.stringify(step.failed));
  clock.advance(7 * 60_000);
  const late = await submitPrepared(service.url, step.prepared);
  expect(late.status).toBe(409);
  expect(errorCode(late)).toBe("poll_expired");
  return () => clock.advance(-7 * 60_000);
}

describe("REFUND_POLICY", () => {
  it("is 'unfilled' unless set, takes 'none', and refuses anything else with the variable named", () => {
    expect(loadConfig({}).refunds.policy).toBe("unfilled");
    expect(loadConfig({ REFUND_POLICY: "none" }).refunds.policy).toBe("none");
    expect(() => loadConfig({ REFUND_POLICY: "always" })).toThrow(ConfigError);
    expect(() => loadConfig({ REFUND_POLICY: "always" })).toThrow(/REFUND_POLICY/);
  });
});

describe("REFUND_POLICY=unfilled (the default)", () => {
  const clock = testClock();
  let service: LocalService;
  let hook: Receiver;
  beforeAll(async () => {
    hook = await startReceiver();
    // Every vote's reward reaches the threshold; no timer rounds: the test runs them with payouts.kick().
    service = await startLocalService({ PAYOUT_THRESHOLD_ATOMIC: "500", PAYOUT_INTERVAL_MS: "3600000" }, { now: clock.now });
    await service.payouts.kick();
  });
  afterAll(async () => {
    await service?.stop();
    await hook?.close();
  });

  it("an expired poll with 3 of 100 votes refunds exactly 97 × 5,000 to its payer once, and pays each voter 500", async () => {
    const payer = service.devnet!.payers[1]!.address.toLowerCase();
    const poll = await createPaidPoll(service, { maxResponses: 100, expiresAt: futureIso(6), callbackUrl: hook.url }, 1);
    expect((await pollRefund(service.url, poll.id)).refundPolicy).toBe("unfilled");
    await voteFrom(service, poll, VOTERS);
    expect((await pollRefund(service.url, poll.id)).refund).toBeUndefined(); // active: nothing owed yet

    const setClockBack = await expireThroughAVote(service, clock, poll);
    const owed = 97n * PRICE_PER_RESPONSE_ATOMIC;
    expect(owed).toBe(485_000n);
    // Known at once (queued by the next payout round or sweep), not yet sent.
    expect(await pollRefund(service.url, poll.id)).toEqual({
      status: "expired",
      refundPolicy: "unfilled",
      refund: { status: "pending", amountAtomic: "485000", amountUsdc: 0.485, txHash: null },
    });
    // The webhook says so too: the contract's body, then the refund as its last key.
    const [delivery] = await hook.waitFor(1, 10_000);
    expect(delivery!.headers.get("x-quali-event")).toBe("poll.expired");
    const body = JSON.parse(delivery!.rawBody) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["pollId", "status", "voteCount", "maxResponses", "completedAt", "resultsUrl", "votesUrl", "readToken", "refund"]);
    expect(body).toMatchObject({ pollId: poll.id, status: "expired", voteCount: 3, maxResponses: 100 });
    expect(body.refund).toEqual({ status: "pending", amountAtomic: "485000", amountUsdc: 0.485, txHash: null });
    setClockBack();

    await service.payouts.kick();
    const [refund] = refundRows(service, poll.id);
    expect(refund).toMatchObject({ kind: "refund", address: payer, status: "confirmed", amount_atomic: "485000" });
    const transfers = await walletTransfers(service);
    expect(transfers.get(payer)).toEqual([{ value: owed, tx: refund!.tx_hash }]);
    for (const voter of VOTERS) expect(transfers.get(voter)).toEqual([{ value: REWARD_PER_VOTE_ATOMIC, tx: expect.any(String) }]);

    // Exactly once: more rounds, the sweep's queuing, and the database itself refuse a second refund.
    await service.payouts.kick();
    await service.payouts.kick();
    expect(await queueOwedRefunds(service.store, clock.now())).toBe(0);
    expect(() =>
      service.store.sqlite
        .prepare("INSERT INTO payouts (id, kind, poll_id, address, network, status, trigger, amount_atomic, created_at, updated_at) VALUES ('twin', 'refund', ?, ?, ?, 'claimed', 'poll_ended', '485000', 't', 't')")
        .run(poll.id, payer, service.devnet!.network),
    ).toThrow(/UNIQUE constraint failed/);
    expect(refundRows(service, poll.id)).toHaveLength(1);
    expect((await walletTransfers(service)).get(payer)).toEqual([{ value: owed, tx: refund!.tx_hash }]);

    const shown = { status: "confirmed", amountAtomic: "485000", amountUsdc: 0.485, txHash: refund!.tx_hash };
    expect((await pollRefund(service.url, poll.id)).refund).toEqual(shown);
    expect(await resultsRefund(service.url, poll.id, poll.readToken)).toEqual(shown);
    expect(service.logs.some((line) => line.startsWith(`refund ${refund!.id} of poll ${poll.id}: 0.485 USDC to ${payer}`) && line.includes("confirmed"))).toBe(true);

    const audit = await expectCleanAudit(service);
    const local = audit.networks[0]!;
    expect(local.refundsOut).toMatchObject({ owedAtomic: owed, paidOnChainAtomic: owed, inFlightAtomic: 0n, notQueuedAtomic: 0n });
    expect(local.split.refundsOwedAtomic).toBe(owed);
  });

  it("a poll that filled up refunds nothing", async () => {
    const payer = service.devnet!.payers[2]!.address.toLowerCase();
    const poll = await createPaidPoll(service, { maxResponses: 100 }, 2);
    const prepared = await mapLimit(
      Array.from({ length: 100 }, (_, i) => i),
      16,
      async (i) => {
        const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[i % 2]!.id, human: `refund-full-${i}` });
        if ("failed" in step) throw new Error(JSON.stringify(step.failed));
        return step.prepared;
      },
    );
    const answers = await mapLimit(prepared, 16, (vote) => submitPrepared(service.url, vote));
    expect(answers.every((answer) => answer.status === 201)).toBe(true);
    clock.advance(365 * 24 * 3_600_000); // long past its expiry: it stays completed, and still owes nothing
    try {
      await service.payouts.kick();
      expect((await pollRefund(service.url, poll.id)).refund).toBeUndefined();
    } finally {
      clock.advance(-365 * 24 * 3_600_000);
    }

    expect(await pollRefund(service.url, poll.id)).toEqual({ status: "completed", refundPolicy: "unfilled", refund: undefined });
    expect(await resultsRefund(service.url, poll.id, poll.readToken)).toBeUndefined();
    expect(refundRows(service, poll.id)).toEqual([]);
    expect((await walletTransfers(service)).get(payer)).toBeUndefined();
    await expectCleanAudit(service);
  });
});

describe("REFUND_POLICY=none", () => {
  const clock = testClock();
  let dataDir: string;
  let service: LocalService | undefined;
  let poll: CreatedPoll;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), "quali-refund-none-"));
  });
  afterAll(async () => {
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refunds nothing for an unfilled poll, and says so", async () => {
    service = await startLocalService({ DATA_DIR: dataDir, REFUND_POLICY: "none", PAYOUT_THRESHOLD_ATOMIC: "500", PAYOUT_INTERVAL_MS: "3600000" }, { now: clock.now });
    const agentsMd = await (await fetch(`${service.url}/agents.md`)).text();
    expect(agentsMd).toContain('refund policy "none": a poll that ends without filling up is not refunded');

    poll = await createPaidPoll(service, { maxResponses: 100, expiresAt: futureIso(6) }, 1);
    await voteFrom(service, poll, VOTERS);
    (await expireThroughAVote(service, clock, poll))();
    await service.payouts.kick();

    expect(await pollRefund(service.url, poll.id)).toEqual({ status: "expired", refundPolicy: "none", refund: undefined });
    expect(await resultsRefund(service.url, poll.id, poll.readToken)).toBeUndefined();
    expect(refundRows(service, poll.id)).toEqual([]);
    const transfers = await walletTransfers(service);
    expect(transfers.get(service.devnet!.payers[1]!.address.toLowerCase())).toBeUndefined();
    for (const voter of VOTERS) expect(transfers.get(voter)).toEqual([{ value: REWARD_PER_VOTE_ATOMIC, tx: expect.any(String) }]);
    const audit = await expectCleanAudit(service);
    // The unfilled responses are kept as fees: 0.5 USDC = 3 × 500 rewarded + 498,500 kept.
    expect(audit.networks[0]!.split).toMatchObject({ receivedAtomic: 500_000n, rewardsAccruedAtomic: 1_500n, feesKeptAtomic: 498_500n, refundsOwedAtomic: 0n });
  });

  it("a later switch to 'unfilled' never touches a poll sold under 'none'", async () => {
    await service!.stop();
    service = await startLocalService({ DATA_DIR: dataDir, REFUND_POLICY: "unfilled", PAYOUT_THRESHOLD_ATOMIC: "500", PAYOUT_INTERVAL_MS: "3600000" }, { now: clock.now });
    await service.payouts.kick();
    expect(await pollRefund(service.url, poll.id)).toEqual({ status: "expired", refundPolicy: "none", refund: undefined });
    expect(refundRows(service, poll.id)).toEqual([]);
    expect((await walletTransfers(service)).get(service.devnet!.payers[1]!.address.toLowerCase())).toBeUndefined();
    // A poll created now is sold under the new policy.
    const fresh = await createPaidPoll(service, { maxResponses: 100 }, 2);
    expect((await pollRefund(service.url, fresh.id)).refundPolicy).toBe("unfilled");
    await expectCleanAudit(service);
  });
});
