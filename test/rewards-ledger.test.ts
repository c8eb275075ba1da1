// Each accepted vote credits 0.0005 USDC (500 atomic) to its payout address on the network the poll was
// paid on, in the same atomic write as the vote; refused votes credit nothing. The ledger always equals
// votes × 500 per network, and the owner's view (POST /api/v1/voter/rewards, signed by the address) shows
// the totals; the public view (GET) shows none of them before a payout.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAddress } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { insertOptions, insertPoll } from "../src/polls/repo";
import { startLocalService, futureIso, type LocalService } from "./support/harness";
import { ownerRewards, publicRewards } from "./support/owner-rewards";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

const accountA = privateKeyToAccount(generatePrivateKey());
const accountB = privateKeyToAccount(generatePrivateKey());
const A = accountA.address.toLowerCase();
const B = accountB.address.toLowerCase();
let service: LocalService;
let devnetPoll: CreatedPoll;
let worldChainPoll: { id: string; options: { id: string }[] };

/** A settled poll "paid on World Chain": a fixture row, since the local chain is the only one here. */
async function worldChainFixture() {
  const id = randomUUID();
  const options = [{ id: randomUUID(), position: 0, text: "Yes", mediaUrl: null }, { id: randomUUID(), position: 1, text: "No", mediaUrl: null }];
  const at = new Date().toISOString();
  await service.store.batch([
    insertPoll(service.store.db, {
      id,
      status: "active",
      question: "Paid on World Chain?",
      description: null,
      more_info_url: null,
      media_url: null,
      media_type: null,
      layout_type: "list",
      max_responses: 100,
      expires_at: new Date(futureIso()).toISOString(),
      callback_url: null,
      network: "eip155:480",
      payer: `0x${"c".repeat(40)}`,
      cost_atomic: "500000",
      reward_pool_atomic: "50000",
      fee_atomic: "450000",
      created_at: at,
      activated_at: at,
      completed_at: null,
    }),
    insertOptions(service.store.db, id, options),
  ]);
  return { id, options };
}

beforeAll(async () => {
  service = await startLocalService();
  devnetPoll = await createPaidPoll(service);
  worldChainPoll = await worldChainFixture();
  const votes: [string, string, string][] = [
    [devnetPoll.id, "h0", A],
    [devnetPoll.id, "h1", A],
    [devnetPoll.id, "h2", A],
    [devnetPoll.id, "h3", B],
    [devnetPoll.id, "h4", B],
    [worldChainPoll.id, "h0", A],
    [worldChainPoll.id, "h5", A],
  ];
  for (const [pollId, human, payoutAddress] of votes) {
    const optionId = pollId === devnetPoll.id ? devnetPoll.options[0]!.id : worldChainPoll.options[1]!.id;
    const answer = await voteAsSimulatedHuman(service.url, { pollId, optionId, human, payoutAddress });
    expect(answer.status).toBe(201);
  }
  // Refused: the same human again in the same poll, to another address.
  const again = await voteAsSimulatedHuman(service.url, { pollId: devnetPoll.id, optionId: devnetPoll.options[1]!.id, human: "h0", payoutAddress: B });
  expect(again.status).toBe(409);
});
afterAll(async () => {
  await service?.stop();
});

/** The owner's view of an account's address, as given (any letter case). */
const rewards = (account: typeof accountA, address = account.address.toLowerCase()) => ownerRewards(service.url, account, { address });

/** The payout fields (src/payouts/) of a balance below the payout threshold: all of it unpaid. */
const unpaid = (atomic: string, usdc: number) => ({
  unpaidAtomic: atomic,
  unpaidUsdc: usdc,
  pendingAtomic: "0",
  pendingUsdc: 0,
  paidAtomic: "0",
  paidUsdc: 0,
  payouts: [],
  parked: [],
});

describe("the rewards ledger", () => {
  it("credits 500 atomic per accepted vote on the network the poll was paid on", async () => {
    const devnet = service.devnet!.network;
    const { status, body } = await rewards(accountA, getAddress(A)); // checksummed input, lower-case output
    expect(status).toBe(200);
    expect(body).toEqual({
      address: A,
      totalVotes: 5,
      rewards: [
        { network: devnet, networkLabel: "Local devnet", votes: 3, accruedAtomic: "1500", accruedUsdc: 0.0015, ...unpaid("1500", 0.0015) },
        { network: "eip155:480", networkLabel: "World Chain", votes: 2, accruedAtomic: "1000", accruedUsdc: 0.001, ...unpaid("1000", 0.001) },
      ].sort((x, y) => x.network.localeCompare(y.network)),
    });
    expect((await rewards(accountB)).body).toMatchObject({ totalVotes: 2, rewards: [{ network: devnet, votes: 2, accruedAtomic: "1000" }] });
    // The public view: no payout yet, so nothing at all (not even which networks the address has votes on).
    expect((await publicRewards(service.url, A)).body).toEqual({ address: A, rewards: [] });
  });

  it("equals votes × 500 per network, row by row and in the running balances", async () => {
    const db = service.store.db;
    const votesPerNetwork = await db
      .selectFrom("votes")
      .innerJoin("polls", "polls.id", "votes.poll_id")
      .select(["polls.network", (eb) => eb.fn.countAll<number>().as("votes")])
      .groupBy("polls.network")
      .execute();
    const ledger = await db.selectFrom("reward_ledger").selectAll().execute();
    expect(ledger.every((row) => row.amount_atomic === "500")).toBe(true);
    for (const { network, votes } of votesPerNetwork) {
      const credited = ledger.filter((row) => row.network === network).reduce((sum, row) => sum + BigInt(row.amount_atomic), 0n);
      expect(credited).toBe(BigInt(votes) * 500n);
    }
    // Every ledger row belongs to a vote of a poll paid on that very network.
    const mismatched = await db
      .selectFrom("reward_ledger")
      .innerJoin("votes", "votes.id", "reward_ledger.vote_id")
      .innerJoin("polls", "polls.id", "votes.poll_id")
      .select("reward_ledger.vote_id")
      .whereRef("polls.network", "!=", "reward_ledger.network")
      .execute();
    expect(mismatched).toEqual([]);
    const balances = await db.selectFrom("reward_balances").selectAll().execute();
    for (const balance of balances) {
      const rows = ledger.filter((row) => row.address === balance.address && row.network === balance.network);
      expect(balance.votes).toBe(rows.length);
      expect(BigInt(balance.accrued_atomic)).toBe(BigInt(rows.length) * 500n);
    }
    expect(balances.reduce((sum, b) => sum + b.votes, 0)).toBe(ledger.length);
  });

  it("answers an unknown address with nothing accrued and a malformed one with 400", async () => {
    const unknown = privateKeyToAccount(generatePrivateKey());
    const address = unknown.address.toLowerCase();
    expect((await rewards(unknown)).body).toEqual({ address, totalVotes: 0, rewards: [] });
    expect((await publicRewards(service.url, address)).body).toEqual({ address, rewards: [] });
    const lower = "0x00000000000000000000000000000000000000aa";
    const badChecksum = `${lower.slice(0, -2)}aA`; // mixed case must be a valid EIP-55 checksum
    expect(badChecksum).not.toBe(getAddress(lower));
    for (const bad of ["", "0x123", "not-an-address", badChecksum]) {
      expect((await publicRewards(service.url, bad)).status).toBe(400);
    }
  });
});
