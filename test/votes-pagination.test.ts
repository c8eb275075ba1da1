// GET /polls/{id}/votes pages through every vote exactly once, in time order, even when many votes
// share one timestamp: the cursor is (created_at, id), opaque to clients. An ISO timestamp is also
// accepted as the cursor (votes after that instant).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareVote, submitPrepared } from "../scripts/lib/voter";
import { startLocalService, type LocalService } from "./support/harness";
import { controllableClock, createPaidPoll, mapLimit, type CreatedPoll } from "./support/polls";

const clock = controllableClock();
let service: LocalService;
let poll: CreatedPoll;
const T1 = new Date(Date.now() + 60_000);
const T2 = new Date(T1.getTime() + 1_000);

interface Vote {
  id: string;
  optionId: string;
  optionText: string;
  createdAt: string;
  shownOrder: string[] | null;
  shownPosition: number | null;
  demographics: { country: string | null; ageBand: string | null };
}

async function castAt(at: Date, count: number, prefix: string) {
  const prepared = await mapLimit(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
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
  clock.freeze(at);
  const answers = await Promise.all(prepared.map((vote) => submitPrepared(service.url, vote)));
  clock.unfreeze();
  expect(answers.every((a) => a.status === 201)).toBe(true);
}

const page = async (query: string) => {
  const response = await fetch(`${service.url}/api/v1/polls/${poll.id}/votes${query}`, { headers: { "x-read-token": poll.readToken } });
  return { status: response.status, body: (await response.json()) as { votes: Vote[]; nextCursor: string | null; error?: { code: string } } };
};

beforeAll(async () => {
  service = await startLocalService({}, { now: clock.now });
  poll = await createPaidPoll(service);
  await castAt(T1, 23, "early");
  await castAt(T2, 6, "late");
});
afterAll(async () => {
  await service?.stop();
});

describe("votes pagination", () => {
  it("serves every vote exactly once across pages, in time order, through identical timestamps", async () => {
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
    const keys = seen.map((v) => `${v.createdAt}|${v.id}`);
    expect(keys).toEqual([...keys].sort());
    expect(seen.filter((v) => v.createdAt === T1.toISOString())).toHaveLength(23);
    expect(seen.filter((v) => v.createdAt === T2.toISOString())).toHaveLength(6);
    expect(pages).toBe(6);

    const all = await page("?limit=500");
    expect(all.body.votes.map((v) => v.id)).toEqual(seen.map((v) => v.id));
    expect(all.body.nextCursor).toBeNull();
  });

  it("is anonymised: no nullifier, no payout address, demographics and shown order per vote", async () => {
    const { body } = await page("?limit=500");
    const text = JSON.stringify(body);
    const secrets = await service.store.db.selectFrom("votes").select("nullifier").where("poll_id", "=", poll.id).execute();
    for (const { nullifier } of secrets) expect(text).not.toContain(nullifier.slice(2));
    const addresses = await service.store.db.selectFrom("reward_ledger").select("address").execute();
    for (const { address } of addresses) expect(text).not.toContain(address.slice(2));
    for (const vote of body.votes) {
      expect(Object.keys(vote).sort()).toEqual(["createdAt", "demographics", "id", "optionId", "optionText", "shownOrder", "shownPosition"]);
      expect(vote.shownOrder).toHaveLength(2);
      expect(vote.shownOrder![vote.shownPosition!]).toBe(vote.optionId);
      expect(["Option A", "Option B"]).toContain(vote.optionText);
    }
    expect(body.votes.filter((v) => v.demographics.country === "FR" && v.demographics.ageBand === "35-44").length).toBeGreaterThan(0);
    expect(body.votes.filter((v) => v.demographics.country === null && v.demographics.ageBand === null).length).toBeGreaterThan(0);
  });

  it("accepts an ISO timestamp as the cursor: the votes recorded after that instant", async () => {
    const after = await page(`?cursor=${encodeURIComponent(T1.toISOString())}`);
    expect(after.status).toBe(200);
    expect(after.body.votes).toHaveLength(6);
    expect(after.body.votes.every((v) => v.createdAt === T2.toISOString())).toBe(true);
    const justBefore = await page(`?cursor=${encodeURIComponent(new Date(T1.getTime() - 1).toISOString())}`);
    expect(justBefore.body.votes).toHaveLength(29);
    const offsetForm = await page(`?cursor=${encodeURIComponent("2020-01-01T00:00:00+02:00")}`);
    expect(offsetForm.body.votes).toHaveLength(29);
  });

  it("rejects a limit outside 1..500 and a cursor it did not issue", async () => {
    for (const limit of ["0", "501", "abc", "-1"]) {
      const { status, body } = await page(`?limit=${limit}`);
      expect(status).toBe(400);
      expect(body.error?.code).toBe("validation_error");
    }
    const forged = await page(`?cursor=${Buffer.from("not|a cursor").toString("base64url")}`);
    expect(forged.status).toBe(400);
    expect(forged.body.error?.code).toBe("invalid_cursor");
  });
});
