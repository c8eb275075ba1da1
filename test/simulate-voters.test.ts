// `npm run simulate-voters` casts votes through the public HTTP API as distinct simulated humans and
// stops cleanly when the poll fills or expires; the results it produces equal a recount of the votes
// table, and the rewards ledger equals votes × 500.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { futureIso, startLocalService, type LocalService } from "./support/harness";
import { testClock } from "./support/clock";
import { createPaidPoll } from "./support/polls";

const clock = testClock();
let service: LocalService;

beforeAll(async () => {
  service = await startLocalService({}, { now: clock.now });
});
afterAll(async () => {
  await service?.stop();
});

function simulate(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/simulate-voters.ts", ...args], { cwd: process.cwd() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

interface Results {
  voteCount: number;
  status: string;
  options: { id: string; count: number; share: number; ci95: [number, number] }[];
  demographics: {
    country: { value: string; count: number; options: { id: string; count: number }[] }[];
    ageBand: { value: string; count: number; options: { id: string; count: number }[] }[];
    notStated: { country: number; ageBand: number };
  };
}

describe("simulate-voters", () => {
  it("fills a poll through the public API, stops with exit 0, and the results equal a recount", async () => {
    const poll = await createPaidPoll(service, { options: [{ text: "A" }, { text: "B" }, { text: "C" }] });
    const run = await simulate(["--poll", poll.id, "--votes", "130", "--base-url", service.url]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("100 vote(s) cast");
    expect(run.stdout).toContain("the poll is full");
    expect(run.stderr).toMatch(/\[[#-]+\] 100\/130 votes/);

    const response = await fetch(`${service.url}/api/v1/polls/${poll.id}/results`, { headers: { authorization: `Bearer ${poll.readToken}` } });
    const results = (await response.json()) as Results;
    expect(results).toMatchObject({ status: "completed", voteCount: 100 });

    // Recount from the votes table.
    const votes = await service.store.db.selectFrom("votes").selectAll().where("poll_id", "=", poll.id).execute();
    expect(votes).toHaveLength(100);
    for (const option of results.options) {
      expect(option.count).toBe(votes.filter((v) => v.option_id === option.id).length);
      expect(option.count).toBeGreaterThan(0); // choices are spread across the options
      expect(option.share).toBeCloseTo(option.count / 100, 4);
      expect(option.ci95[0]).toBeLessThanOrEqual(option.share);
      expect(option.ci95[1]).toBeGreaterThanOrEqual(option.share);
    }
    for (const [dimension, column] of [["country", "country"], ["ageBand", "age_band"]] as const) {
      const recount = new Map<string, Map<string, number>>();
      for (const vote of votes) {
        const value = vote[column];
        if (value === null) continue;
        const perOption = recount.get(value) ?? new Map<string, number>();
        perOption.set(vote.option_id, (perOption.get(vote.option_id) ?? 0) + 1);
        recount.set(value, perOption);
      }
      expect(results.demographics[dimension].map((b) => b.value).sort()).toEqual([...recount.keys()].sort());
      for (const bucket of results.demographics[dimension]) {
        for (const { id, count } of bucket.options) expect(count).toBe(recount.get(bucket.value)?.get(id) ?? 0);
      }
      expect(results.demographics.notStated[dimension]).toBe(votes.filter((v) => v[column] === null).length);
    }
    expect(votes.every((v) => v.shown_order !== null)).toBe(true);

    // The ledger: one 500-atomic credit per vote, on the poll's network.
    const ledger = await service.store.db
      .selectFrom("reward_ledger")
      .innerJoin("votes", "votes.id", "reward_ledger.vote_id")
      .select(["reward_ledger.amount_atomic", "reward_ledger.network"])
      .where("votes.poll_id", "=", poll.id)
      .execute();
    expect(ledger).toHaveLength(100);
    expect(ledger.reduce((sum, row) => sum + BigInt(row.amount_atomic), 0n)).toBe(100n * 500n);
    expect(new Set(ledger.map((row) => row.network))).toEqual(new Set([service.devnet!.network]));
  });

  it("casts the requested number of votes, and exits 0 without voting once the poll expired", async () => {
    const poll = await createPaidPoll(service, { expiresAt: futureIso(6) });
    const run = await simulate(["--poll", poll.id, "--votes", "12", "--base-url", service.url, "--concurrency", "4"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("12 vote(s) cast");
    clock.advance(7 * 60_000);
    try {
      const late = await simulate(["--poll", poll.id, "--votes", "5", "--base-url", service.url]);
      expect(late.code).toBe(0);
      expect(late.stderr).toContain("expired");
      const count = await service.store.db.selectFrom("votes").select("id").where("poll_id", "=", poll.id).execute();
      expect(count).toHaveLength(12);
    } finally {
      clock.advance(-7 * 60_000);
    }
  });
});
