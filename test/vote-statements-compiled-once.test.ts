// The vote write's statements are compiled once per shape and then only re-bound (src/db/compiled.ts):
// for every shape, the SQL and parameters must be exactly what building them afresh gives.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { compileTemplate, placeholder } from "../src/db/compiled";
import { openSqliteStore } from "../src/db/sqlite";
import { voteStatements, type VoteToRecord } from "../src/voting/record-vote";

const store = openSqliteStore(":memory:");

function vote(overrides: Partial<VoteToRecord> = {}): VoteToRecord {
  return {
    voteId: randomUUID(),
    pollId: randomUUID(),
    optionId: randomUUID(),
    nullifier: `0x${"ab".repeat(32)}`,
    nonce: `0x${"cd".repeat(32)}`,
    shownOrder: [randomUUID(), randomUUID()],
    country: "DE",
    ageBand: "25-34",
    payoutAddress: `0x${"12".repeat(20)}`,
    network: "eip155:480",
    at: new Date().toISOString(),
    ...overrides,
  };
}

describe("vote statements compiled once", () => {
  it("bind to exactly the SQL and parameters a fresh build gives, for every shape", () => {
    for (const shownOrder of [null, ["a", "b"]]) {
      for (const country of [null, "FR"]) {
        for (const ageBand of [null, "65+"]) {
          for (let i = 0; i < 3; i++) {
            const v = vote({ shownOrder, country, ageBand });
            // Twice: the first call builds the template, the second uses it.
            voteStatements(store.db, vote({ shownOrder, country, ageBand }));
            const templated = voteStatements(store.db, v).statements.map((s) => s.compile());
            // A fresh build: a new Kysely instance has no template yet, so compile the placeholder-free way.
            const fresh = voteStatements(openSqliteStore(":memory:").db, v).statements.map((s) => s.compile());
            // The transition's statements carry a fresh transition id each time: compare them apart from it.
            const strip = (q: { sql: string; parameters: readonly unknown[] }) => ({ sql: q.sql, parameters: q.parameters.map((p) => (typeof p === "string" && /^[0-9a-f-]{36}$/.test(p) && p !== v.voteId && p !== v.pollId && p !== v.optionId ? "<uuid>" : p)) });
            expect(templated.map(strip)).toEqual(fresh.map(strip));
            expect(JSON.stringify(templated.map((q) => [q.sql, q.parameters]))).not.toContain("\\u0000");
          }
        }
      }
    }
  });

  it("refuses to template a statement whose values are derived from a placeholder", () => {
    const derived = store.db.selectFrom("polls").selectAll().where("id", "=", `${placeholder("pollId")}-suffix`);
    expect(compileTemplate([derived], ["pollId"])).toBeUndefined();
    const whole = store.db.selectFrom("polls").selectAll().where("id", "=", placeholder("pollId"));
    expect(compileTemplate([whole], ["pollId"])).toHaveLength(1);
  });
});
