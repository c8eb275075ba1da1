// GET /polls/{id}/votes pages through every vote exactly once, even when many votes share one
// timestamp: votes come by minute, within a minute in the order of a random key fixed when they were
// cast, and the cursor is opaque. createdAt is the minute plus the vote's rank in that order (in ms), so
// the contract's ISO cursor (the last createdAt seen) pages exactly too. A minute is listed once it has
// ended (at once when the poll is completed), so a reader at the end never misses a vote that lands later.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareVote, submitPrepared, type PreparedVote } from "../scripts/lib/voter";
import { listingKey, publicVoteId } from "../src/polls/vote-listing";
import { startLocalService, type LocalService } from "./support/harness";
import { testClock } from "./support/clock";
import { createPaidPoll, mapLimit, type CreatedPoll } from "./support/polls";
import type { Vote } from "../src/client/types";

const clock = testClock();
let service: LocalService;
let poll: CreatedPoll;
/** Three whole minutes ahead of the real clock: M1 (23 votes in one millisecond), M2 (6), M3 (2, later). */
const M1 = Math.ceil((Date.now() + 60_000) / 60_000) * 60_000;
const M2 = M1 + 60_000;
const M3 = M2 + 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** The minute a listed createdAt belongs to. */
const minuteOf = (createdAt: string) => iso(Math.floor(Date.parse(createdAt) / 60_000) * 60_000);
let late: PreparedVote[];

async function prepare(count: number, prefix: string): Promise<PreparedVote[]> {
  return mapLimit(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
    const step = await prepareVote(service.url, {
      pollId: poll.id,
      optionId: poll.options[i % 2]!.id,
      human: `${prefix}-${i}`,
      shownOrder: i % 2 ? poll.options.map((o) => o.id) : poll.options.map((o) => o.id).reverse(),
      demographics: i % 3 === 0 ? null : { country: "fr", ageBand: "35-44" },
    });
    if ("failed" in step) throw new Error(JSON.stringify(step.failed));
    return step.prepared;
  });
}

async function castAt(at: number, prepared: PreparedVote[]) {
  clock.freeze(new Date(at));
  const answers = await Promise.all(prepared.map((vote) => submitPrepared(service.url, vote)));
  expect(answers.every((a) => a.status === 201)).toBe(true);
}

const page = async (query: string) => {
  const response = await fetch(`${service.url}/api/v1/polls/${poll.id}/votes${query}`, { headers: { "x-read-token": poll.readToken } });
  return { status: response.status, body: (await response.json()) as { votes: Vote[]; nextCursor: string | null; error?: { code: string } } };
};

/** The order the votes must come in: by minute, then by the random part of the stored id. */
async function expectedOrder(): Promise<string[]> {
  const rows = await service.store.db.selectFrom("votes").select(["id", "created_at"]).where("poll_id", "=", poll.id).execute();
  const sortKey = (row: { id: string; created_at: string }) => `${row.created_at.slice(0, 16)}|${listingKey(row.id)}`;
  return rows.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1)).map((row) => publicVoteId(row.id));
}

beforeAll(async () => {
  service = await startLocalService({}, { now: clock.now });
  poll = await createPaidPoll(service);
  const [first, second] = [await prepare(23, "early"), await prepare(6, "late")];
  late = await prepare(2, "latest");
  await castAt(M1 + 10_000, first);
  await castAt(M2 + 5_000, second.slice(0, 3));
  await castAt(M2 + 48_000, second.slice(3));
  clock.freeze(new Date(M3 + 15_000)); // M2 has ended (and its grace), M3 has not
});
afterAll(async () => {
  await service?.stop();
});

describe("votes pagination", () => {
  it("serves every vote exactly once across pages, by minute, in the listing order, through identical timestamps", async () => {
    const seen: Vote[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body } = await page(`?limit=5${cursor ? `&cursor=${cursor}` : ""}`);
      expect(status).toBe(200);
      expect(body.votes.length).toBeLessThanOrEqual(5);
      seen.push(...body.votes);
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 20);

    expect(seen).toHaveLength(29);
    expect(new Set(seen.map((v) => v.id)).size).toBe(29);
    expect(seen.map((v) => v.id)).toEqual(await expectedOrder());
    expect(seen.filter((v) => minuteOf(v.createdAt) === iso(M1))).toHaveLength(23);
    expect(seen.filter((v) => minuteOf(v.createdAt) === iso(M2))).toHaveLength(6);
    // Within a minute, createdAt numbers the votes in list order (ms); never a real time finer than the minute.
    expect(seen.map((v) => v.createdAt)).toEqual([...Array.from({ length: 23 }, (_, i) => iso(M1 + i)), ...Array.from({ length: 6 }, (_, i) => iso(M2 + i))]);
    expect(pages).toBe(6);

    const all = await page("?limit=500");
    expect(all.body.votes.map((v) => v.id)).toEqual(seen.map((v) => v.id));
    expect(all.body.nextCursor).toBeNull();
  });

  it("is anonymised: no nullifier, no payout address, no stored id, demographics and shown order per vote", async () => {
    const { body } = await page("?limit=500");
    const text = JSON.stringify(body);
    const secrets = await service.store.db.selectFrom("votes").select(["nullifier", "id"]).where("poll_id", "=", poll.id).execute();
    for (const { nullifier, id } of secrets) {
      expect(text).not.toContain(nullifier.slice(2));
      expect(text).not.toContain(id);
    }
    const addresses = await service.store.db.selectFrom("reward_ledger").select("address").execute();
    for (const { address } of addresses) expect(text).not.toContain(address.slice(2));
    for (const vote of body.votes) {
      expect(Object.keys(vote).sort()).toEqual(["createdAt", "demographics", "id", "optionId", "optionText", "shownOrder", "shownPosition"]);
      expect(vote.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(vote.createdAt).toMatch(/T\d{2}:\d{2}:00\.0\d{2}Z$/); // the minute, and the rank (< 23 here)
      expect(vote.shownOrder).toHaveLength(2);
      expect(vote.shownOrder![vote.shownPosition!]).toBe(vote.optionId);
      expect(["Option A", "Option B"]).toContain(vote.optionText);
    }
    expect(body.votes.filter((v) => v.demographics.country === "FR" && v.demographics.ageBand === "35-44").length).toBeGreaterThan(0);
    expect(body.votes.filter((v) => v.demographics.country === null && v.demographics.ageBand === null).length).toBeGreaterThan(0);
  });

  it("accepts an ISO timestamp as the cursor: the votes listed after that createdAt", async () => {
    const all = (await page("?limit=500")).body.votes;
    // A client of the contract pages with the last createdAt it saw: every vote once, in the same order.
    const seen: Vote[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const { status, body } = await page(`?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(status).toBe(200);
      if (body.votes.length === 0) break;
      seen.push(...body.votes);
      cursor = body.votes.at(-1)!.createdAt;
    }
    expect(seen.map((v) => v.id)).toEqual(all.map((v) => v.id));

    // After a minute's last createdAt (or anything later in that minute): the next minutes.
    const after = await page(`?cursor=${encodeURIComponent(iso(M1 + 22))}`);
    expect(after.status).toBe(200);
    expect(after.body.votes.map((v) => v.id)).toEqual(all.slice(23).map((v) => v.id));
    // Inside a minute, an instant past its ranks is "after the minute": the real times are never compared.
    expect((await page(`?cursor=${encodeURIComponent(iso(M1 + 30_000))}`)).body.votes).toHaveLength(6);
    expect((await page(`?cursor=${encodeURIComponent(iso(M2 + 20_000))}`)).body.votes).toHaveLength(0);
    const justBefore = await page(`?cursor=${encodeURIComponent(iso(M1 - 1))}`);
    expect(justBefore.body.votes).toHaveLength(29);
    const offsetForm = await page(`?cursor=${encodeURIComponent("2020-01-01T00:00:00+02:00")}`);
    expect(offsetForm.body.votes).toHaveLength(29);
  });

  it("lists a minute once it has ended, so a reader at the end gets later votes exactly once", async () => {
    // Two votes in M3, which has not ended: not listed yet.
    await castAt(M3 + 20_000, late);
    clock.freeze(new Date(M3 + 59_000));
    const atTheEnd = await page("?limit=500");
    expect(atTheEnd.body.votes).toHaveLength(29);
    const last = atTheEnd.body.votes.at(-1)!.createdAt;
    clock.freeze(new Date(M3 + 60_000 + 5_000)); // ended, still within the grace for writes in flight
    expect((await page(`?cursor=${encodeURIComponent(last)}`)).body.votes).toHaveLength(0);
    clock.freeze(new Date(M3 + 60_000 + 11_000));
    const next = await page(`?cursor=${encodeURIComponent(last)}`);
    expect(next.body.votes).toHaveLength(2);
    expect(next.body.votes.map((v) => v.createdAt)).toEqual([iso(M3), iso(M3 + 1)]);
    expect(new Set([...atTheEnd.body.votes, ...next.body.votes].map((v) => v.id)).size).toBe(31);
  });

  it("lists every minute at once when the poll is completed: no vote can be added any more", async () => {
    clock.freeze(new Date(M3 + 30_000));
    expect((await page("?limit=500")).body.votes).toHaveLength(29);
    await service.store.db.updateTable("polls").set({ status: "completed" }).where("id", "=", poll.id).execute();
    try {
      expect((await page("?limit=500")).body.votes.map((v) => v.id)).toEqual(await expectedOrder());
      expect((await page("?limit=500")).body.votes).toHaveLength(31);
    } finally {
      await service.store.db.updateTable("polls").set({ status: "active" }).where("id", "=", poll.id).execute();
    }
  });

  it("rejects a limit outside 1..500 and a cursor it did not issue", async () => {
    for (const limit of ["0", "501", "abc", "-1"]) {
      const { status, body } = await page(`?limit=${limit}`);
      expect(status).toBe(400);
      expect(body.error?.code).toBe("validation_error");
    }
    for (const forged of ["not|a cursor", `${iso(M1)}|${"0".repeat(8)}-0000-7000-8000-000000000000`, `${iso(M1).slice(0, 16)}|zzz|1`, `${iso(M1).slice(0, 16)}|000-8000-000000000000|x`]) {
      const answer = await page(`?cursor=${Buffer.from(forged).toString("base64url")}`);
      expect(answer.status, forged).toBe(400);
      expect(answer.body.error?.code).toBe("invalid_cursor");
    }
  });
});
