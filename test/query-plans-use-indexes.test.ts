// The hot queries use the indexes meant for them. The SQL is not copied here: the real code runs it
// (the routes through createApp, the jobs through their own functions) against a seeded database, every
// statement SQLite prepares is recorded, and EXPLAIN QUERY PLAN is asserted on each hot one — so a
// change to a query or an index that makes SQLite scan a big table, or sort what an index should
// deliver in order, fails here.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { available, unavailable } from "../src/http/capability";
import { openSqliteStore, type SqliteStore } from "../src/db/sqlite";
import { findLiveClaim } from "../src/payment/payments-repo";
import { expireDuePolls } from "../src/polls/lifecycle";
import { createReadTokens } from "../src/polls/read-token";
import { dispatchDue } from "../src/webhook/dispatch-core";

const PAYER = "0x00000000000000000000000000000000000000aa";
const NETWORK = "eip155:31337";
let dir: string;
let store: SqliteStore;
const prepared = new Set<string>();
const readTokens = createReadTokens("x".repeat(40));
let votedPoll: string;

function seed(sqlite: SqliteStore["sqlite"]): void {
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const insertPoll = sqlite.prepare(
    `INSERT INTO polls (id, status, question, layout_type, max_responses, vote_count, expires_at, network, payer, cost_atomic,
                        reward_pool_atomic, fee_atomic, created_at, activated_at)
     VALUES (?, ?, 'Q?', 'list', 100, 0, ?, ?, ?, '1', '1', '1', ?, ?)`,
  );
  const insertOption = sqlite.prepare("INSERT INTO poll_options (poll_id, position, id, text) VALUES (?, ?, ?, 'o')");
  const statuses = ["active", "active", "active", "completed", "expired", "pending_payment"] as const;
  sqlite.transaction(() => {
    for (let i = 0; i < 3000; i++) {
      const id = randomUUID();
      const status = statuses[i % statuses.length]!;
      insertPoll.run(id, status, iso(now + (i % 7 === 0 ? -3600_000 : 86_400_000)), NETWORK, i % 10 === 0 ? PAYER : `0x${String(i).padStart(40, "0")}`, iso(now - i * 1000), iso(now - i * 1000));
      insertOption.run(id, 0, randomUUID());
      insertOption.run(id, 1, randomUUID());
      if (i % 5 === 0) {
        sqlite
          .prepare(
            `INSERT INTO payments (id, poll_id, network, payer, nonce, asset, pay_to, amount_atomic, valid_before, status, created_at)
             VALUES (?, ?, ?, ?, ?, '0xa', '0xb', '1', 0, ?, ?)`,
          )
          .run(randomUUID(), id, NETWORK, PAYER, `0x${i.toString(16).padStart(64, "0")}`, i % 10 === 0 ? "claimed" : "settled", iso(now));
        sqlite
          .prepare(
            `INSERT INTO webhook_deliveries (id, poll_id, event, url, body, state, next_attempt_at, created_at)
             VALUES (?, ?, 'poll.completed', 'https://example.com/hook', '{}', ?, ?, ?)`,
          )
          .run(randomUUID(), id, i % 3 === 0 ? "delivered" : "pending", i % 3 === 0 ? null : iso(now + i * 1000), iso(now));
      }
    }
    // One poll with many votes and demographic counters.
    votedPoll = randomUUID();
    insertPoll.run(votedPoll, "active", iso(now + 86_400_000), NETWORK, PAYER, iso(now), iso(now));
    const options = [randomUUID(), randomUUID()];
    options.forEach((option, position) => insertOption.run(votedPoll, position, option));
    const insertVote = sqlite.prepare(
      "INSERT INTO votes (id, poll_id, option_id, nullifier, world_id_nonce, country, age_band, created_at) VALUES (?, ?, ?, ?, ?, 'DE', '25-34', ?)",
    );
    for (let i = 0; i < 5000; i++) insertVote.run(randomUUID(), votedPoll, options[i % 2], `0x${i.toString(16).padStart(64, "0")}`, `n${i}`, iso(now - 5000_000 + i * 1000));
    sqlite.prepare("UPDATE polls SET vote_count = 5000, max_responses = 10000 WHERE id = ?").run(votedPoll);
    for (const option of options) {
      sqlite.prepare("INSERT INTO poll_demographic_counts (poll_id, dimension, value, option_id, count) VALUES (?, 'country', 'DE', ?, 2500)").run(votedPoll, option);
    }
  })();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "quali-plans-"));
  store = openSqliteStore(join(dir, "quali.sqlite"));
  seed(store.sqlite);
  const original = store.sqlite.prepare.bind(store.sqlite);
  (store.sqlite as { prepare: typeof original }).prepare = ((source: string) => {
    prepared.add(source);
    return original(source);
  }) as typeof original;

  const app = createApp({
    mode: "local",
    publicBaseUrl: "http://localhost:8787",
    store,
    payments: unavailable("payment_not_configured", "Not in this test."),
    knownNetworks: [],
    moderator: unavailable("moderation_not_configured", "Not in this test."),
    readTokens: available(readTokens),
    worldId: unavailable("world_id_not_configured", "Not in this test."),
    maxExpiryLeadMs: 365 * 86_400_000,
    accessLog: false,
    log: () => {},
  });
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await app.request(path, { headers });
    expect(response.status, path).toBe(200);
    return (await response.json()) as { nextCursor?: string | null };
  };
  const token = { "x-read-token": readTokens.tokenFor(votedPoll) };
  const feed = await get("/api/v1/voter/polls?limit=20");
  await get(`/api/v1/voter/polls?limit=20&cursor=${encodeURIComponent(feed.nextCursor!)}`);
  const votes = await get(`/api/v1/polls/${votedPoll}/votes?limit=100`, token);
  await get(`/api/v1/polls/${votedPoll}/votes?limit=100&cursor=${encodeURIComponent(votes.nextCursor!)}`, token);
  await get(`/api/v1/polls/${votedPoll}/results`, token);
  const mine = await get(`/api/v1/polls?payer=${PAYER}&limit=20`);
  await get(`/api/v1/polls?payer=${PAYER}&limit=20&cursor=${encodeURIComponent(mine.nextCursor!)}`);
  await expireDuePolls(store, new Date(), []);
  await findLiveClaim(store.db, { network: NETWORK, payer: PAYER, nonce: `0x${"0".repeat(64)}` });
  await dispatchDue({
    store,
    mode: "local",
    now: () => new Date(Date.now() - 86_400_000),
    contractSecret: undefined,
    callbackSecrets: undefined,
    transport: async () => {
      throw new Error("no delivery is due in this test");
    },
    target: async () => {
      throw new Error("no delivery is due in this test");
    },
  } as never);
});

afterAll(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** EXPLAIN QUERY PLAN of the one recorded statement that `match` picks (parameters bound to NULL). */
function planOf(label: string, match: (sql: string) => boolean): string[] {
  const candidates = [...prepared].filter(match);
  expect(candidates, `${label}: exactly one statement should match, got:\n${candidates.join("\n")}`).toHaveLength(1);
  const sql = candidates[0]!;
  const parameters = (sql.match(/\?/g) ?? []).map(() => null);
  const rows = store.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...parameters) as { detail: string }[];
  return rows.map((row) => row.detail);
}

const from = (table: string) => (sql: string) => new RegExp(`^select .* from "${table}"`, "i").test(sql);
const has = (...parts: string[]) => (sql: string) => parts.every((part) => sql.includes(part));
const not = (...parts: string[]) => (sql: string) => parts.every((part) => !sql.includes(part));
const all = (...tests: ((sql: string) => boolean)[]) => (sql: string) => tests.every((test) => test(sql));

function expectIndexed(plan: string[], table: string, index: string, options: { sortAllowed?: boolean } = {}): void {
  const text = plan.join("\n");
  expect(text, text).toMatch(new RegExp(`SEARCH ${table} USING (COVERING )?INDEX ${index}\\b`));
  expect(text, text).not.toMatch(/\bSCAN (polls|votes|payments|poll_options|webhook_deliveries|poll_demographic_counts|world_id_requests|reward_ledger)\b/);
  if (!options.sortAllowed) expect(text, text).not.toMatch(/TEMP B-TREE/);
}

describe("hot queries use their indexes", () => {
  it("voter feed, first page and next pages: polls_by_status_created in feed order, stopping at the page size", () => {
    const feed = all(from("polls"), has(`"status" = ?`, "max_responses", "limit ?"), not(`"payer"`));
    expectIndexed(planOf("feed (first page)", all(feed, not(`"created_at" <`, `("created_at", "id") <`))), "polls", "polls_by_status_created");
    expectIndexed(planOf("feed (cursor)", all(feed, has(`("created_at", "id") <`))), "polls", "polls_by_status_created");
  });

  it("options of a page of polls (feed, polls by payer): the poll_options key for each id, in display order", () => {
    expectIndexed(planOf("options of polls", all(from("poll_options"), has("json_each"))), "poll_options", "sqlite_autoindex_poll_options_\\d");
  });

  it("votes pagination: votes_by_poll_listing (by minute, then the random listing key), from the cursor on", () => {
    const page = all(from("votes"), has(`"poll_id" = ?`, "limit ?"));
    const cursor = `substr("id", 16) >`;
    expectIndexed(planOf("votes (first page)", all(page, not(cursor, `substr("created_at", 1, 16) >`))), "votes", "votes_by_poll_listing");
    expectIndexed(planOf("votes (cursor)", all(page, has(cursor))), "votes", "votes_by_poll_listing");
  });

  it("results: the poll by primary key, options and demographic counters by poll id (never the votes)", () => {
    expectIndexed(planOf("results: poll", all(from("polls"), has(`where "id" = ?`), not("limit"))), "polls", "sqlite_autoindex_polls_1");
    expectIndexed(planOf("results: options", all(from("poll_options"), has(`"poll_id" = ?`), not(" in ("))), "poll_options", "sqlite_autoindex_poll_options_\\d");
    expectIndexed(planOf("results: demographics", all(from("poll_demographic_counts"), has(`"poll_id" = ?`))), "poll_demographic_counts", "sqlite_autoindex_poll_demographic_counts_1");
  });

  it("polls by payer, first page and next pages: polls_by_payer_created", () => {
    const list = all(from("polls"), has(`"payer" = ?`, "limit ?"));
    expectIndexed(planOf("by payer (first page)", all(list, not(`("created_at", "id") <`))), "polls", "polls_by_payer_created");
    expectIndexed(planOf("by payer (cursor)", all(list, has(`("created_at", "id") <`))), "polls", "polls_by_payer_created");
  });

  it("expiry sweep: polls_by_status_expiry", () => {
    expectIndexed(planOf("expiry sweep", all(from("polls"), has(`"expires_at" <= ?`))), "polls", "polls_by_status_expiry");
  });

  it("claim lookup (replay guard): the partial unique index payments_authorization", () => {
    expectIndexed(planOf("claim lookup", all(from("payments"), has(`"nonce" = ?`))), "payments", "payments_authorization");
  });

  it("outbox due scan: webhook_deliveries_due (the few due rows are sorted, not the table)", () => {
    expectIndexed(planOf("outbox due", all(from("webhook_deliveries"), has(`"next_attempt_at" <= ?`))), "webhook_deliveries", "webhook_deliveries_due", { sortAllowed: true });
  });
});
