// The voter feed keeps each page it read with the database's change version (issue 8). The promise guarded
// here: a kept page is never staler than a fresh read — a poll that fills leaves the feed with the vote
// that filled it, a new poll appears as soon as it is paid, a poll leaves at its expiry with no write at
// all, and a write by another connection (a restore, a script) is seen at once.
import BetterSqlite3 from "better-sqlite3";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { futureIso, startLocalService, type LocalService } from "./support/harness";
import { testClock } from "./support/clock";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

const clock = testClock();
let service: LocalService;
let small: CreatedPoll;

const feedIds = async (): Promise<string[]> => {
  const response = await fetch(`${service.url}/api/v1/voter/polls?limit=100`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { polls: { id: string }[] }).polls.map((p) => p.id);
};

beforeAll(async () => {
  service = await startLocalService({}, { now: clock.now });
  small = await createPaidPoll(service, { question: "Fills soon" });
  // Two votes short of full, written directly: the last vote through the API fills it.
  await service.store.db.updateTable("polls").set({ vote_count: 99 }).where("id", "=", small.id).execute();
});
afterAll(async () => {
  await service?.stop();
});

describe("kept feed pages", () => {
  it("drop a poll with the vote that fills it", async () => {
    expect(await feedIds()).toContain(small.id);
    expect(await feedIds()).toContain(small.id);
    const vote = await voteAsSimulatedHuman(service.url, { pollId: small.id, optionId: small.options[0]!.id, human: "the-last-one" });
    expect(vote.status).toBe(201);
    expect(await feedIds()).not.toContain(small.id);
  });

  it("show a new poll as soon as it is paid", async () => {
    const before = await feedIds();
    const fresh = await createPaidPoll(service, { question: "Just paid" }, 1);
    expect(before).not.toContain(fresh.id);
    expect(await feedIds()).toContain(fresh.id);
  });

  it("drop a poll at its expiry, with nothing written", async () => {
    const shortLived = await createPaidPoll(service, { question: "Short lived", expiresAt: futureIso(6) }, 2);
    expect(await feedIds()).toContain(shortLived.id);
    clock.advance(7 * 60_000);
    try {
      expect(await feedIds()).not.toContain(shortLived.id);
    } finally {
      clock.advance(-7 * 60_000);
    }
  });

  it("see another connection's write at once", async () => {
    const target = (await feedIds())[0]!;
    const other = new BetterSqlite3(join(service.dataDir, "quali.sqlite"));
    try {
      other.prepare("UPDATE polls SET status = 'completed' WHERE id = ?").run(target);
    } finally {
      other.close();
    }
    expect(await feedIds()).not.toContain(target);
  });
});
