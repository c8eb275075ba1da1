// GET /api/v1/voter/polls: the polls a voter can answer now (settled, not expired, not full), newest
// first, cursor-paginated through identical timestamps, with public fields only and options shuffled
// per request.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, requestWorldId } from "../scripts/lib/voter";
import { futureIso, startLocalService, type LocalService } from "./support/harness";
import { testClock } from "./support/clock";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

const clock = testClock();
let service: LocalService;
const sameInstant: CreatedPoll[] = [];
let newest: CreatedPoll;
let shortLived: CreatedPoll;
let full: CreatedPoll;
let pending: CreatedPoll;

interface FeedPoll {
  id: string;
  status: string;
  options: { id: string; text: string; mediaUrl: string | null }[];
  voteCount: number;
  maxResponses: number;
  reward: Record<string, unknown>;
}
const feed = async (query = "") => {
  const response = await fetch(`${service.url}/api/v1/voter/polls${query}`);
  return { status: response.status, body: (await response.json()) as { polls: FeedPoll[]; nextCursor: string | null; error?: { code: string } } };
};
async function allPages(limit: number): Promise<FeedPoll[]> {
  const out: FeedPoll[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 20; i++) {
    const { body } = await feed(`?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    out.push(...body.polls);
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  return out;
}

beforeAll(async () => {
  service = await startLocalService({}, { now: clock.now });
  const at = new Date();
  clock.freeze(at);
  for (let i = 0; i < 4; i++) {
    sameInstant.push(
      await createPaidPoll(service, {
        question: `Same instant ${i}`,
        options: [{ text: "A" }, { text: "B", mediaUrl: "https://example.com/b.png" }, { text: "C" }],
        callbackUrl: "https://example.com/hook",
        moreInfoUrl: "https://example.com/more",
      }, i % 3),
    );
  }
  clock.freeze(new Date(at.getTime() + 1000));
  shortLived = await createPaidPoll(service, { question: "Short lived", expiresAt: futureIso(6) });
  full = await createPaidPoll(service, { question: "Full" });
  pending = await createPaidPoll(service, { question: "Pending" });
  clock.freeze(new Date(at.getTime() + 2000));
  newest = await createPaidPoll(service, { question: "Newest" });
  clock.unfreeze();
  await service.store.db.updateTable("polls").set({ status: "completed", vote_count: 100 }).where("id", "=", full.id).execute();
  await service.store.db.updateTable("polls").set({ status: "pending_payment" }).where("id", "=", pending.id).execute();
});
afterAll(async () => {
  await service?.stop();
});

describe("the voter feed", () => {
  it("lists votable polls newest first, paging through identical timestamps without loss or repeats", async () => {
    const pages = await allPages(2);
    const ids = pages.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe(newest.id);
    expect(ids[1]).toBe(shortLived.id);
    expect(new Set(ids.slice(2))).toEqual(new Set(sameInstant.map((p) => p.id)));
    expect(ids).toHaveLength(6);
    expect(ids).not.toContain(full.id);
    expect(ids).not.toContain(pending.id);
    const oneBigPage = await feed("?limit=100");
    expect(oneBigPage.body.polls.map((p) => p.id)).toEqual(ids);
    expect(oneBigPage.body.nextCursor).toBeNull();
  });

  it("shows public fields only: no read token, payer or callback", async () => {
    const { body } = await feed("?limit=100");
    const text = JSON.stringify(body);
    for (const poll of sameInstant) {
      expect(text).not.toContain(poll.readToken);
      expect(text).not.toContain(poll.payment.payer.slice(2));
    }
    expect(text).not.toContain("example.com/hook");
    const sample = body.polls.find((p) => p.id === sameInstant[0]!.id)!;
    expect(Object.keys(sample).sort()).toEqual(
      ["description", "expiresAt", "id", "layoutType", "maxResponses", "mediaType", "mediaUrl", "moreInfoUrl", "options", "question", "reward", "status", "url", "voteCount"].sort(),
    );
    expect(sample).toMatchObject({ status: "active", voteCount: 0, maxResponses: 100, moreInfoUrl: "https://example.com/more" });
    expect(sample.reward).toEqual({ network: service.devnet!.network, networkLabel: "Local devnet", perVoteUsdc: 0.0005, perVoteAtomic: "500" });
    expect(sample.options.find((o) => o.text === "B")!.mediaUrl).toBe("https://example.com/b.png");
  });

  it("shuffles the options per request", async () => {
    const orders = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const answer = await fetch(`${service.url}/api/v1/voter/polls/${sameInstant[0]!.id}`);
      const poll = (await answer.json()) as FeedPoll;
      expect(poll.options.map((o) => o.text).sort()).toEqual(["A", "B", "C"]);
      orders.add(poll.options.map((o) => o.text).join());
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it("drops a poll once it has expired, before any sweep ran, and refuses to start votes on it", async () => {
    clock.advance(7 * 60_000);
    try {
      const ids = (await allPages(100)).map((p) => p.id);
      expect(ids).not.toContain(shortLived.id);
      expect(ids).toContain(newest.id);
      const single = (await (await fetch(`${service.url}/api/v1/voter/polls/${shortLived.id}`)).json()) as FeedPoll;
      expect(single.status).toBe("expired");
      const start = await requestWorldId(service.url, shortLived.id, single.options[0]!.id, `0x${"3".repeat(40)}`);
      expect(start.status).toBe(409);
      expect(errorCode(start)).toBe("poll_expired");
    } finally {
      clock.advance(-7 * 60_000);
    }
  });

  it("answers 404 for unknown or unsettled polls and 400 for a bad limit or cursor", async () => {
    expect((await fetch(`${service.url}/api/v1/voter/polls/${pending.id}`)).status).toBe(404);
    expect((await fetch(`${service.url}/api/v1/voter/polls/7d0c1f3e-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await feed("?limit=0")).status).toBe(400);
    expect((await feed("?limit=101")).status).toBe(400);
    const bad = await feed("?cursor=%%%");
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe("invalid_cursor");
  });
});

describe("the polls a wallet paid for", () => {
  it("lists settled polls by payer, any letter case, newest first, paginated, without read tokens", async () => {
    const payer = service.devnet!.payers[0]!.address;
    const collect = async (address: string) => {
      const out: { id: string }[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 20; i++) {
        const response = await fetch(`${service.url}/api/v1/polls?payer=${address}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
        expect(response.status).toBe(200);
        const text = await response.text();
        for (const poll of sameInstant) expect(text).not.toContain(poll.readToken);
        const body = JSON.parse(text) as { polls: { id: string }[]; nextCursor: string | null };
        out.push(...body.polls);
        cursor = body.nextCursor;
        if (!cursor) break;
      }
      return out.map((p) => p.id);
    };
    const lower = await collect(payer.toLowerCase());
    expect(await collect(payer)).toEqual(lower);
    expect(await collect(`0x${payer.slice(2).toUpperCase()}`)).toEqual(lower);
    // Payer 0 paid for sameInstant[0], sameInstant[3], shortLived, full, pending (unsettled) and newest.
    expect(lower[0]).toBe(newest.id);
    expect(new Set(lower)).toEqual(new Set([newest.id, shortLived.id, full.id, sameInstant[0]!.id, sameInstant[3]!.id]));
    const missing = await fetch(`${service.url}/api/v1/polls`);
    expect(missing.status).toBe(400);
    expect(missing.headers.get("PAYMENT-REQUIRED")).toBeNull();
  });
});
