// "Migration 0012 rebuilds `polls` (two more statuses) without losing or changing a row anywhere." A
// database migrated up to 0011 is filled with polls in every status and rows in every table that points at
// them; 0012 is applied, on SQLite (the Node server's migrate.ts, foreign keys ON) and on D1 (workerd, by
// `wrangler d1 migrations apply` from the same files). Every row of every table is the same afterwards, the
// indexes of polls are the same, the foreign keys still hold and are still enforced, and the new statuses
// are accepted while unknown ones are still refused.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { applyMigrations, MIGRATIONS_DIR } from "../src/db/migrate";
import { runWrangler } from "./support/wrangler";

const MIGRATION = "0012_polls_closed_removed_reports.sql";
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the migrations up to (and with `including`) 0012. */
function migrationsDir(including: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), "quali-mig-0012-"));
  dirs.push(dir);
  for (const name of readdirSync(MIGRATIONS_DIR)) {
    if (name < MIGRATION || (including && name === MIGRATION)) cpSync(join(MIGRATIONS_DIR, name), join(dir, name));
  }
  return dir;
}

const STATUSES = ["pending_payment", "active", "completed", "expired", "payment_failed"];

/** Rows in every table that references polls, and in the others, for polls in every status. */
function seedSql(): string {
  const lines: string[] = [];
  STATUSES.forEach((status, i) => {
    const id = `00000000-0000-4000-8000-00000000000${i}`;
    const votes = status === "completed" ? 2 : status === "active" || status === "expired" ? 1 : 0;
    lines.push(
      `INSERT INTO polls (id, status, question, description, more_info_url, media_url, media_type, layout_type, max_responses, vote_count, expires_at, callback_url, network, payer, cost_atomic, reward_pool_atomic, fee_atomic, created_at, activated_at, completed_at, transition_id, public_results) VALUES ('${id}', '${status}', 'Question ${i}? ''quoted''', ${i % 2 ? "NULL" : "'ünïcödé description'"}, NULL, ${i === 1 ? "'https://example.com/a.png'" : "NULL"}, ${i === 1 ? "'image'" : "NULL"}, '${i % 2 ? "grid" : "list"}', ${status === "completed" ? 2 : 100}, ${votes}, '2026-12-0${i + 1}T00:00:00.000Z', ${i === 2 ? "'https://hooks.example.com/q'" : "NULL"}, 'eip155:31337', '0x00000000000000000000000000000000000000a${i}', '${(100 * 5000).toString()}', '50000', '450000', '2026-11-0${i + 1}T00:00:00.000Z', ${i === 0 || i === 4 ? "NULL" : `'2026-11-0${i + 1}T00:00:01.000Z'`}, ${status === "completed" ? "'2026-11-03T01:00:00.000Z'" : "NULL"}, ${i === 2 || i === 3 ? `'tr-${i}'` : "NULL"}, ${i % 2});`,
      `INSERT INTO poll_options (poll_id, position, id, text, media_url, vote_count) VALUES ('${id}', 0, 'opt-${i}-a', 'A', NULL, ${votes}), ('${id}', 1, 'opt-${i}-b', 'B', NULL, 0);`,
      `INSERT INTO payments (id, poll_id, network, payer, nonce, asset, pay_to, amount_atomic, valid_before, status, tx_hash, failure_reason, created_at, settled_at, answer, payment_identifier, request_fingerprint) VALUES ('pay-${i}', '${id}', 'eip155:31337', '0xa${i}', '0xnonce${i}', '0xasset', '0xpayto', '500000', 1893456000, '${status === "pending_payment" ? "claimed" : status === "payment_failed" ? "failed" : "settled"}', ${status === "payment_failed" || status === "pending_payment" ? "NULL" : `'0xtx${i}'`}, ${status === "payment_failed" ? "'reverted'" : "NULL"}, '2026-11-01T00:00:00.000Z', NULL, ${status === "pending_payment" ? "NULL" : "'created'"}, ${i === 1 ? "'idem-1'" : "NULL"}, ${i === 1 ? "'fp'" : "NULL"});`,
    );
    for (let v = 0; v < votes; v++) {
      lines.push(
        `INSERT INTO world_id_requests (nonce, poll_id, option_id, payout_address, signal, created_at, expires_at, used_at, signal_hash) VALUES ('n-${i}-${v}', '${id}', 'opt-${i}-a', '0xvoter${v}', 'sig', '2026-11-01T00:00:00.000Z', '2026-11-01T00:10:00.000Z', '2026-11-01T00:01:00.000Z', ${v ? "NULL" : "'0xhash'"});`,
        `INSERT INTO votes (id, poll_id, option_id, nullifier, world_id_nonce, shown_order, country, age_band, created_at) VALUES ('vote-${i}-${v}', '${id}', 'opt-${i}-a', '0xnull${v}', 'n-${i}-${v}', ${v ? "NULL" : `'["opt-${i}-b","opt-${i}-a"]'`}, ${v ? "NULL" : "'DE'"}, NULL, '2026-11-01T00:01:00.000Z');`,
        `INSERT INTO reward_ledger (vote_id, address, network, amount_atomic, created_at, payout_id) VALUES ('vote-${i}-${v}', '0xvoter${v}', 'eip155:31337', '500', '2026-11-01T00:01:00.000Z', ${v ? "'payout-1'" : "NULL"});`,
      );
    }
    if (votes > 0) {
      lines.push(`INSERT INTO poll_demographic_counts (poll_id, dimension, value, option_id, count) VALUES ('${id}', 'country', 'DE', 'opt-${i}-a', 1);`);
    }
  });
  lines.push(
    `INSERT INTO reward_balances (address, network, votes, accrued_atomic) VALUES ('0xvoter0', 'eip155:31337', 3, 1500), ('0xvoter1', 'eip155:31337', 1, 500);`,
    `INSERT INTO webhook_deliveries (id, poll_id, event, url, body, state, attempts, next_attempt_at, created_at) VALUES ('del-2', '00000000-0000-4000-8000-000000000002', 'poll.completed', 'https://hooks.example.com/q', '{"pollId":"x"}', 'delivered', 1, NULL, '2026-11-03T01:00:00.000Z');`,
    `INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status, error, response_snippet) VALUES ('del-2', 1, '2026-11-03T01:00:01.000Z', 12, 200, NULL, 'ok');`,
    `INSERT INTO payouts (id, address, network, status, trigger, amount_atomic, entries, from_address, token, nonce, signed_tx, tx_hash, block_number, broadcasts, created_at, signed_at, sent_at, confirmed_at, updated_at) VALUES ('payout-1', '0xvoter1', 'eip155:31337', 'confirmed', 'threshold', '500', 1, '0xwallet', '0xtoken', 0, '0xsigned', '0xpaytx', 7, 1, '2026-11-02T00:00:00.000Z', '2026-11-02T00:00:01.000Z', '2026-11-02T00:00:02.000Z', '2026-11-02T00:00:03.000Z', '2026-11-02T00:00:03.000Z');`,
  );
  return lines.join("\n");
}

type Snapshot = { rows: Record<string, unknown[]>; schema: { type: string; name: string; sql: string | null }[] };

function snapshot(db: BetterSqlite3.Database): Snapshot {
  const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('schema_migrations', 'd1_migrations', '_cf_KV', '_cf_METADATA') ORDER BY name").all() as { name: string }[]).map((t) => t.name);
  const rows: Record<string, unknown[]> = {};
  for (const table of tables) rows[table] = db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).all();
  const schema = db
    .prepare("SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_autoindex%' AND name NOT IN ('schema_migrations', 'd1_migrations', '_cf_KV', '_cf_METADATA') ORDER BY type, name")
    .all() as Snapshot["schema"];
  return { rows, schema };
}

/** What must hold of a database before (`before`) and after 0012 (`after`). */
function expectKeptEveryRow(before: Snapshot, after: Snapshot, db: BetterSqlite3.Database) {
  // Every pre-existing table, row for row, value for value (column order included).
  for (const [table, rows] of Object.entries(before.rows)) expect(after.rows[table], table).toEqual(rows);
  expect(Object.values(before.rows).flat().length).toBeGreaterThan(30);
  expect(after.rows.reports).toEqual([]);
  expect(after.rows.admin_actions).toEqual([]);
  // Every index, table and trigger as before, except the polls table's own definition (its CHECK).
  const kept = (s: Snapshot) => s.schema.filter((entry) => !(entry.type === "table" && entry.name === "polls"));
  const afterKept = kept(after).filter((entry) => !["reports", "admin_actions", "reports_by_time", "admin_actions_by_poll"].includes(entry.name));
  expect(afterKept).toEqual(kept(before));
  expect(before.schema.filter((e) => e.type === "index" && /ON polls /.test(e.sql ?? "")).map((e) => e.name).sort()).toEqual([
    "polls_by_payer_created",
    "polls_by_status_created",
    "polls_by_status_expiry",
  ]);
  const pollsSql = after.schema.find((e) => e.type === "table" && e.name === "polls")!.sql!;
  expect(pollsSql).toContain("'closed', 'removed'");
  expect(db.pragma("foreign_key_check")).toEqual([]);
  expect(db.pragma("integrity_check")).toEqual([{ integrity_check: "ok" }]);

  // Still enforced: foreign keys to polls, and the CHECKs.
  db.pragma("foreign_keys = ON");
  expect(() => db.prepare("DELETE FROM polls WHERE id = '00000000-0000-4000-8000-000000000001'").run()).toThrow(/FOREIGN KEY/);
  expect(() => db.prepare("INSERT INTO poll_options (poll_id, position, id, text) VALUES ('nope', 0, 'x', 'x')").run()).toThrow(/FOREIGN KEY/);
  expect(() => db.prepare("UPDATE polls SET status = 'archived' WHERE id = '00000000-0000-4000-8000-000000000001'").run()).toThrow(/CHECK/);
  expect(() => db.prepare("UPDATE polls SET vote_count = max_responses + 1 WHERE id = '00000000-0000-4000-8000-000000000001'").run()).toThrow(/CHECK/);
  expect(db.prepare("UPDATE polls SET status = 'closed' WHERE id = '00000000-0000-4000-8000-000000000001'").run().changes).toBe(1);
  expect(db.prepare("UPDATE polls SET status = 'removed' WHERE id = '00000000-0000-4000-8000-000000000003'").run().changes).toBe(1);
  // The voter feed's and the expiry sweep's plans still use their indexes.
  const plan = (query: string) => (db.prepare(`EXPLAIN QUERY PLAN ${query}`).all() as { detail: string }[]).map((r) => r.detail).join(" | ");
  expect(plan("SELECT id FROM polls WHERE status = 'active' AND expires_at <= '2027' ORDER BY expires_at")).toContain("polls_by_status_expiry");
  expect(plan("SELECT id FROM polls WHERE payer = '0xa1' ORDER BY created_at DESC, id DESC")).toContain("polls_by_payer_created");
}

describe("migration 0012", () => {
  it("keeps every row on SQLite (foreign keys ON, as the server runs)", () => {
    const db = new BetterSqlite3(":memory:");
    db.pragma("foreign_keys = ON");
    applyMigrations(db, migrationsDir(false));
    db.exec(seedSql());
    const before = snapshot(db);
    expect(applyMigrations(db, migrationsDir(true))).toEqual([MIGRATION]);
    expectKeptEveryRow(before, snapshot(db), db);
    db.close();
  });

  it("refuses to commit if the rebuild would leave a row pointing at a poll that is gone", () => {
    // The safety net the migration relies on: with foreign keys deferred, a dangling child fails the COMMIT
    // (the whole migration rolls back) instead of passing silently.
    const db = new BetterSqlite3(":memory:");
    db.pragma("foreign_keys = ON");
    applyMigrations(db, migrationsDir(false));
    db.exec(seedSql());
    const before = snapshot(db);
    const lossy = migrationsDir(true);
    const sqlText = readFileSync(join(lossy, MIGRATION), "utf8");
    expect(sqlText).toContain("FROM polls_before_0012;");
    writeFileSync(join(lossy, MIGRATION), sqlText.replace("FROM polls_before_0012;", "FROM polls_before_0012 WHERE status <> 'completed';"));
    expect(() => applyMigrations(db, lossy)).toThrow(/FOREIGN KEY/);
    expect(snapshot(db)).toEqual(before);
    db.close();
  });

  it("keeps every row on D1 (workerd, wrangler d1 migrations apply)", { timeout: 240_000 }, async () => {
    const state = mkdtempSync(join(tmpdir(), "quali-mig-0012-d1-"));
    dirs.push(state);
    const config = (migrations: string) =>
      [
        'name = "migration-0012-test"',
        'compatibility_date = "2026-04-20"',
        "[[d1_databases]]",
        'binding = "DB"',
        'database_name = "quali"',
        'database_id = "00000000-0000-0000-0000-000000000000"',
        `migrations_dir = "${migrations}"`,
      ].join("\n");
    const beforeConfig = join(state, "before.toml");
    const afterConfig = join(state, "after.toml");
    writeFileSync(beforeConfig, config(migrationsDir(false)));
    writeFileSync(afterConfig, config(migrationsDir(true)));
    const persist = join(state, "d1");
    await runWrangler(["d1", "migrations", "apply", "quali", "--local", "--persist-to", persist, "--config", beforeConfig], state);
    const seed = join(state, "seed.sql");
    writeFileSync(seed, seedSql());
    await runWrangler(["d1", "execute", "quali", "--local", "--persist-to", persist, "--config", beforeConfig, "--file", seed], state);
    const file = () => {
      const dir = join(persist, "v3", "d1", "miniflare-D1DatabaseObject");
      return join(dir, readdirSync(dir).find((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite")!);
    };
    const read = (fn: (db: BetterSqlite3.Database) => Snapshot) => {
      const db = new BetterSqlite3(file());
      try {
        return fn(db);
      } finally {
        db.close();
      }
    };
    const before = read(snapshot);
    const output = await runWrangler(["d1", "migrations", "apply", "quali", "--local", "--persist-to", persist, "--config", afterConfig], state);
    expect(output).toContain(MIGRATION);
    const db = new BetterSqlite3(file());
    try {
      expectKeptEveryRow(before, snapshot(db), db);
    } finally {
      db.close();
    }
  });
});
