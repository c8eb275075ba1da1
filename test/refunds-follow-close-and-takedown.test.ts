// A poll its creator closes early, or the operator takes down, ended without filling up: the payer gets
// the unfilled responses back within a payout round, exactly once, and voters keep their rewards. The
// close and the takedown know nothing about payouts: the round finds the ended poll with no refund.
// Checked against the token's Transfer logs; the audit is clean after each.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, voteAsSimulatedHuman } from "../scripts/lib/voter";
import { PRICE_PER_RESPONSE_ATOMIC, REWARD_PER_VOTE_ATOMIC } from "../src/payment/pricing";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { expectCleanAudit, pollRefund, refundRows, resultsRefund, walletTransfers } from "./support/refunds";
import { startReceiver, type Receiver } from "./support/webhook-receiver";

const ADMIN_TOKEN = "admin-token-for-the-refund-tests-0123456789";
let service: LocalService;
let hook: Receiver;
let humans = 0;

async function voteFrom(poll: CreatedPoll, addresses: readonly string[]) {
  for (const address of addresses) {
    const answer = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: `refund-end-${humans++}`, payoutAddress: address });
    expect(answer.status).toBe(201);
  }
}

const close = (pollId: string, headers: Record<string, string>) => fetch(`${service.url}/api/v1/polls/${pollId}/close`, { method: "POST", headers });

beforeAll(async () => {
  hook = await startReceiver();
  service = await startLocalService({ ADMIN_TOKEN, PAYOUT_THRESHOLD_ATOMIC: "500", PAYOUT_INTERVAL_MS: "3600000" });
  await service.payouts.kick();
});
afterAll(async () => {
  await service?.stop();
  await hook?.close();
});

describe("refunds follow a close and a takedown", () => {
  it("a 100-response poll closed after 3 votes refunds exactly 97 × 5,000 once; its voters get 3 × 500", async () => {
    const voters = ["0x00000000000000000000000000000000000a0e01", "0x00000000000000000000000000000000000a0e02", "0x00000000000000000000000000000000000a0e03"];
    const payer = service.devnet!.payers[1]!.address.toLowerCase();
    const poll = await createPaidPoll(service, { maxResponses: 100, callbackUrl: hook.url }, 1);
    await voteFrom(poll, voters);

    // Without the read token, or with another poll's, nothing closes and nothing is owed.
    expect((await close(poll.id, {})).status).toBe(401);
    expect((await close(poll.id, { "x-read-token": "00000000-0000-4000-8000-000000000000" })).status).toBe(403);
    await service.payouts.kick();
    expect(await pollRefund(service.url, poll.id)).toMatchObject({ status: "active", refund: undefined });
    expect(refundRows(service, poll.id)).toEqual([]);

    expect((await close(poll.id, { "x-read-token": poll.readToken })).status).toBe(200);
    expect(await pollRefund(service.url, poll.id)).toMatchObject({
      status: "closed",
      refund: { status: "pending", amountAtomic: "485000", amountUsdc: 0.485, txHash: null },
    });
    const [delivery] = await hook.waitFor(1, 10_000);
    expect(JSON.parse(delivery!.rawBody)).toMatchObject({ status: "closed", voteCount: 3, refund: { status: "pending", amountAtomic: "485000" } });

    await service.payouts.kick();
    expect((await close(poll.id, { "x-read-token": poll.readToken })).status).toBe(200); // idempotent
    await service.payouts.kick();
    const rows = refundRows(service, poll.id);
    expect(rows).toEqual([expect.objectContaining({ status: "confirmed", amount_atomic: "485000", address: payer })]);
    const transfers = await walletTransfers(service);
    expect(transfers.get(payer)).toEqual([{ value: 97n * PRICE_PER_RESPONSE_ATOMIC, tx: rows[0]!.tx_hash }]);
    for (const voter of voters) expect(transfers.get(voter)).toEqual([{ value: REWARD_PER_VOTE_ATOMIC, tx: expect.any(String) }]);
    expect(await resultsRefund(service.url, poll.id, poll.readToken)).toEqual({ status: "confirmed", amountAtomic: "485000", amountUsdc: 0.485, txHash: rows[0]!.tx_hash });
    await expectCleanAudit(service);
  });

  it("a poll taken down after 2 votes refuses votes and refunds exactly 98 × 5,000 once", async () => {
    const voters = ["0x00000000000000000000000000000000000a0e11", "0x00000000000000000000000000000000000a0e12"];
    const payer = service.devnet!.payers[2]!.address.toLowerCase();
    const poll = await createPaidPoll(service, { maxResponses: 100 }, 2);
    await voteFrom(poll, voters);

    const takedown = await fetch(`${service.url}/admin/api/v1/polls/${poll.id}/takedown`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ reason: "refund test", actor: "refund-tests" }),
    });
    expect(takedown.status).toBe(200);
    const refused = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: `refund-end-${humans++}` });
    expect(refused.status).toBe(409);
    expect(errorCode(refused)).toBe("poll_removed");

    await service.payouts.kick();
    await service.payouts.kick();
    const rows = refundRows(service, poll.id);
    expect(rows).toEqual([expect.objectContaining({ status: "confirmed", amount_atomic: "490000", address: payer })]);
    expect((await walletTransfers(service)).get(payer)).toEqual([{ value: 98n * PRICE_PER_RESPONSE_ATOMIC, tx: rows[0]!.tx_hash }]);
    expect(await pollRefund(service.url, poll.id)).toEqual({
      status: "removed",
      refundPolicy: "unfilled",
      refund: { status: "confirmed", amountAtomic: "490000", amountUsdc: 0.49, txHash: rows[0]!.tx_hash },
    });
    await expectCleanAudit(service);
  });
});
