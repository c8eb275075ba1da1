// A poll's creator cannot link a vote to the payout address it paid. The test plays the attack: several
// voters with their own addresses vote one after another while the "creator" polls the public rewards of
// every candidate address every 100 ms and reads the poll (its vote count) and /votes with the read token.
// Nothing public about an address moves when it is credited for a vote, so there is no change to match a
// vote to; /votes shows each vote's minute only, lists a minute once it has ended, and orders it by a
// random key, not by who voted first. The owner sees their own details with a fresh signature of their
// address; a wrong or stale signature is refused with a stable code.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { prepareVote, submitPrepared, voteAsSimulatedHuman, type PreparedVote } from "../scripts/lib/voter";
import { listingKey, publicVoteId } from "../src/polls/vote-listing";
import { rewardsOwnerMessage } from "../src/payouts/rewards-owner";
import { startLocalService, type LocalService } from "./support/harness";
import { ownerRewards, publicRewards } from "./support/owner-rewards";
import { testClock } from "./support/clock";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

const VOTERS = 6;
const clock = testClock();
let service: LocalService;
let poll: CreatedPoll;
let voters: PrivateKeyAccount[];
let prepared: PreparedVote[];
/** The minute the votes are cast in (a whole minute, a little ahead of the real clock). */
let minute: number;

interface ListedVote {
  id: string;
  optionId: string;
  createdAt: string;
  demographics: { country: string | null; ageBand: string | null };
}

const addressOf = (account: PrivateKeyAccount) => account.address.toLowerCase();

async function readVotes(query = "?limit=500"): Promise<{ status: number; body: { votes: ListedVote[]; nextCursor: string | null } }> {
  const response = await fetch(`${service.url}/api/v1/polls/${poll.id}/votes${query}`, { headers: { "x-read-token": poll.readToken } });
  return { status: response.status, body: (await response.json()) as { votes: ListedVote[]; nextCursor: string | null } };
}

async function publicVoteCount(): Promise<number> {
  return ((await (await fetch(`${service.url}/api/v1/polls/${poll.id}`)).json()) as { voteCount: number }).voteCount;
}

/** What the creator sees of every candidate address: its public rewards, as text. */
async function snapshot(): Promise<Map<string, string>> {
  const answers = await Promise.all(voters.map(async (v) => [addressOf(v), JSON.stringify((await publicRewards(service.url, addressOf(v))).body)] as const));
  return new Map(answers);
}

beforeAll(async () => {
  // Payouts at 1000 (two votes): none during the attack, one on purpose at the end. Rounds only on kick().
  service = await startLocalService({ PAYOUT_THRESHOLD_ATOMIC: "1000", PAYOUT_INTERVAL_MS: "3600000" }, { now: clock.now });
  poll = await createPaidPoll(service);
  voters = Array.from({ length: VOTERS }, () => privateKeyToAccount(generatePrivateKey()));
  prepared = [];
  for (const [i, voter] of voters.entries()) {
    const step = await prepareVote(service.url, {
      pollId: poll.id,
      optionId: poll.options[i % 2]!.id,
      human: `unlinkable-${i}`,
      payoutAddress: addressOf(voter),
      demographics: { country: i % 3 === 0 ? "DE" : "FR", ageBand: i % 2 === 0 ? "25-34" : "35-44" },
    });
    if ("failed" in step) throw new Error(JSON.stringify(step.failed));
    prepared.push(step.prepared);
  }
  minute = Math.ceil((Date.now() + 60_000) / 60_000) * 60_000;
});
afterAll(async () => {
  await service?.stop();
});

describe("a poll's creator cannot link a vote to a wallet", () => {
  it("sees no rewards field of any candidate address change while the votes come in, polling every 100 ms", async () => {
    clock.freeze(new Date(minute + 2_000));
    const baseline = await snapshot();
    for (const text of baseline.values()) expect(JSON.parse(text)).toMatchObject({ rewards: [] });

    // The attacker's loop: every 100 ms, every candidate's public rewards and the listed votes.
    const seen = new Map<string, Set<string>>([...baseline.keys()].map((address) => [address, new Set<string>()]));
    let listedDuringVoting = 0;
    let rounds = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const [rewards, listed] = await Promise.all([snapshot(), readVotes()]);
        for (const [address, text] of rewards) seen.get(address)!.add(text);
        listedDuringVoting = Math.max(listedDuringVoting, listed.body.votes.length);
        rounds++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    for (const [i, vote] of prepared.entries()) {
      clock.advance(7_000); // one vote every 7 s, all in one minute
      const answer = await submitPrepared(service.url, vote);
      expect(answer.status).toBe(201);
      // The creator sees the vote happen (the count moves) …
      expect(await publicVoteCount()).toBe(i + 1);
      // … and nothing about any address moves with it.
      expect(await snapshot()).toEqual(baseline);
      // Let the poller look a few times: two more of its rounds, so one started after this vote.
      const looked = rounds + 2;
      await vi.waitUntil(() => rounds >= looked, { timeout: 30_000, interval: 20 });
    }
    polling = false;
    await poller;

    expect(rounds).toBeGreaterThan(VOTERS);
    for (const [address, texts] of seen) expect([...texts], address).toEqual([baseline.get(address)]);
    // A minute that has not ended is not listed yet: watching /votes live shows no vote at all.
    expect(listedDuringVoting).toBe(0);
  });

  it("reads the votes by minute only, in an order that is not the order they were cast in", async () => {
    clock.freeze(new Date(minute + 30_000)); // still inside the minute
    expect((await readVotes()).body.votes).toEqual([]);
    clock.freeze(new Date(minute + 60_000 + 11_000)); // the minute has ended (+ the grace for writes in flight)

    const { status, body } = await readVotes();
    expect(status).toBe(200);
    expect(body.votes).toHaveLength(VOTERS);
    // Every vote shows the minute; the milliseconds only number the votes in list order (0, 1, 2 …).
    expect(body.votes.map((v) => v.createdAt)).toEqual(body.votes.map((_, i) => new Date(minute + i).toISOString()));

    // The stored ids carry each vote's time in milliseconds: none of them, nor their time part, is served.
    const stored = await service.store.db.selectFrom("votes").select(["id", "created_at"]).where("poll_id", "=", poll.id).orderBy("created_at").execute();
    expect(stored).toHaveLength(VOTERS);
    const text = JSON.stringify(body);
    for (const row of stored) {
      expect(text).not.toContain(row.id);
      expect(text).not.toContain(row.id.slice(0, 13)); // the 48-bit time prefix
      expect(text).not.toContain(row.created_at);
    }
    // The order is the random listing key's, never the voting order (which only the database knows).
    const byKey = [...stored].sort((a, b) => (listingKey(a.id) < listingKey(b.id) ? -1 : 1));
    expect(body.votes.map((v) => v.id)).toEqual(byKey.map((row) => publicVoteId(row.id)));
    expect(new Set(body.votes.map((v) => v.id)).size).toBe(VOTERS);

    // Pages of two: every vote once, the same order; the cursor carries no time finer than the minute.
    const paged: ListedVote[] = [];
    let cursor: string | null = null;
    do {
      const page = await readVotes(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      paged.push(...page.body.votes);
      cursor = page.body.nextCursor;
      if (cursor) expect(Buffer.from(cursor, "base64url").toString("utf8")).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}\|[0-9a-f-]{21}\|\d+$/);
    } while (cursor);
    expect(paged.map((v) => v.id)).toEqual(body.votes.map((v) => v.id));

    // The contract's ISO cursor compares with the listed minute, so it cannot split a minute either.
    const midMinute = await readVotes(`?cursor=${encodeURIComponent(new Date(minute + 30_000).toISOString())}`);
    expect(midMinute.body.votes).toEqual([]);
    const before = await readVotes(`?cursor=${encodeURIComponent(new Date(minute - 1).toISOString())}`);
    expect(before.body.votes.map((v) => v.id)).toEqual(body.votes.map((v) => v.id));
  });

  it("shows the public only payouts: they move per payout round, never per vote", async () => {
    const [first] = voters;
    // A second vote (another human, another poll) takes the first voter to the 1000 threshold …
    clock.unfreeze();
    const other = await createPaidPoll(service);
    const answer = await voteAsSimulatedHuman(service.url, { pollId: other.id, optionId: other.options[0]!.id, human: "unlinkable-extra", payoutAddress: addressOf(first!) });
    expect(answer.status).toBe(201);
    expect((await publicRewards(service.url, addressOf(first!))).body).toEqual({ address: addressOf(first!), rewards: [] });
    // … and the payout round pays it: now the public sees that payout, and still no vote count or balance.
    await service.payouts.kick();
    const after = (await publicRewards(service.url, addressOf(first!))).body;
    expect(Object.keys(after).sort()).toEqual(["address", "rewards"]);
    expect(after.rewards).toHaveLength(1);
    expect(after.rewards[0]).toMatchObject({
      network: service.devnet!.network,
      networkLabel: "Local devnet",
      pendingAtomic: "0",
      paidAtomic: "1000",
      paidUsdc: 0.001,
      payouts: [expect.objectContaining({ status: "confirmed", amountAtomic: "1000", votes: 2 })],
    });
    for (const perVote of ["votes", "accruedAtomic", "accruedUsdc", "unpaidAtomic", "unpaidUsdc"]) expect(after.rewards[0]).not.toHaveProperty(perVote);
  });
});

describe("the owner's view", () => {
  it("shows the owner, with a fresh signature of their address, their votes and balances", async () => {
    const [first, second] = voters;
    const mine = await ownerRewards(service.url, second!);
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({
      address: addressOf(second!),
      totalVotes: 1,
      rewards: [{ network: service.devnet!.network, votes: 1, accruedAtomic: "500", unpaidAtomic: "500", pendingAtomic: "0", paidAtomic: "0", payouts: [] }],
    });
    // Checksummed in the body: the same address.
    const checksummed = await ownerRewards(service.url, first!, { address: first!.address });
    expect(checksummed.status).toBe(200);
    expect(checksummed.body).toMatchObject({ address: addressOf(first!), totalVotes: 2, rewards: [{ votes: 2, accruedAtomic: "1000", paidAtomic: "1000" }] });
  });

  it("refuses a signature by another wallet, a stale or future one, and a message that is not the expected one", async () => {
    const [first, second] = voters;
    const wrong = await ownerRewards(service.url, first!, { signer: second! });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error).toMatchObject({ code: "invalid_signature", param: "signature", details: { reason: "signer_mismatch" } });

    const stale = await ownerRewards(service.url, first!, { at: new Date(Date.now() - 11 * 60_000) });
    expect(stale.status).toBe(403);
    expect(stale.body.error).toMatchObject({ code: "invalid_signature", param: "message", details: { reason: "expired" } });
    const future = await ownerRewards(service.url, first!, { at: new Date(Date.now() + 3 * 60_000) });
    expect(future.body.error).toMatchObject({ code: "invalid_signature", details: { reason: "expired" } });

    const anotherAddress = await ownerRewards(service.url, first!, { message: rewardsOwnerMessage(addressOf(second!)) });
    expect(anotherAddress.status).toBe(400);
    expect(anotherAddress.body.error).toMatchObject({ code: "validation_error", param: "message" });
    // A read-token recovery (or any other) message is not a rewards message.
    const otherMessage = await ownerRewards(service.url, first!, { message: `Quali read token recovery\nPoll: ${poll.id}\nTimestamp: ${new Date().toISOString()}` });
    expect(otherMessage.status).toBe(400);
    expect(otherMessage.body.error).toMatchObject({ code: "validation_error", param: "message" });

    const garbage = await fetch(`${service.url}/api/v1/voter/rewards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ address: addressOf(first!), message: rewardsOwnerMessage(addressOf(first!)), signature: `0x${"00".repeat(64)}1b` }),
    });
    expect(garbage.status).toBe(403);
    expect(((await garbage.json()) as { error: { code: string } }).error.code).toBe("invalid_signature");
  });
});
