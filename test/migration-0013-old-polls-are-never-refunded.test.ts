// "Migration 0013 turns payouts into the queue of outgoing transfers without changing a payout, and polls
// sold before it keep the policy they were sold under: none." A database migrated up to 0012 holds polls
// and payouts in every status; 0013 is applied by the Node server's migrate.ts. Every payout is the same
// (now kind 'reward'), every old poll reads refund_policy 'none' (so no refund is ever queued for it),
// and the constraints hold: one refund per poll that is not failed, rewards as before. 0013 is applied the
// way the server does it: openSqliteStore on a database file that stopped at 0012.
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { applyMigrations, MIGRATIONS_DIR } from "../src/db/migrate";
import { openSqliteStore } from "../src/db/sqlite";
import { queueOwedRefunds } from "../src/payouts";

const MIGRATION = "0013_refunds.sql";
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function migrationsDir(including: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), "quali-mig-0013-"));
  dirs.push(dir);
  for (const name of readdirSync(MIGRATIONS_DIR)) {
    if (name < MIGRATION || (including && name === MIGRATION)) cpSync(join(MIGRATIONS_DIR, name), join(dir, name));
  }
  return dir;
}

const PAYOUT_STATUSES = ["claimed", "signed", "sent", "confirmed", "failed", "parked"] as const;

describe("migration 0013", () => {
  it("keeps every payout as a reward, sells every old poll as 'none', and refunds none of them", async () => {
    const file = join(migrationsDir(false), "quali.sqlite");
    const sqlite = new BetterSqlite3(file);
    applyMigrations(sqlite, migrationsDir(false));
    const poll = sqlite.prepare(
      "INSERT INTO polls (id, status, question, layout_type, max_responses, vote_count, expires_at, network, payer, cost_atomic, reward_pool_atomic, fee_atomic, created_at) VALUES (?, ?, 'q', 'list', 100, 3, '2026-01-01T00:00:00.000Z', 'eip155:31337', '0x00000000000000000000000000000000000000aa', '500000', '50000', '450000', '2026-01-01T00:00:00.000Z')",
    );
    for (const status of ["active", "completed", "expired", "closed", "removed"]) poll.run(`poll-${status}`, status);
    sqlite.prepare("INSERT INTO payments (id, poll_id, network, payer, nonce, asset, pay_to, amount_atomic, valid_before, status, tx_hash, created_at) SELECT 'pay-' || id, id, network, payer, 'n-' || id, '0xa', '0xb', cost_atomic, 1, 'settled', '0xtx-' || id, created_at FROM polls").run();
    PAYOUT_STATUSES.forEach((status, i) => {
      const signed = status !== "claimed" && status !== "parked";
      sqlite
        .prepare(
          "INSERT INTO payouts (id, address, network, status, trigger, amount_atomic, entries, from_address, token, nonce, signed_tx, tx_hash, created_at, updated_at, parked_at, parked_reason) VALUES (?, ?, 'eip155:31337', ?, 'threshold', '1000', 2, ?, ?, ?, ?, ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', ?, ?)",
        )
        .run(
          `payout-${status}`,
          `0x${String(i).repeat(40)}`,
          status,
          signed ? "0xwallet" : null,
          signed ? "0xtoken" : null,
          signed ? i : null,
          signed ? `0xsigned${i}` : null,
          signed ? `0xhash${i}` : null,
          status === "parked" ? "2026-01-01T00:00:00.000Z" : null,
          status === "parked" ? "blacklisted" : null,
        );
    });
    const payoutsBefore = sqlite.prepare("SELECT * FROM payouts ORDER BY id").all() as Record<string, unknown>[];
    sqlite.close();

    const store = openSqliteStore(file, { groupCommit: false });
    const db = store.sqlite;
    try {
      expect(db.prepare("SELECT name FROM schema_migrations ORDER BY name DESC LIMIT 1").all()).toEqual([{ name: MIGRATION }]);
      const payoutsAfter = db.prepare("SELECT * FROM payouts ORDER BY id").all() as Record<string, unknown>[];
      expect(payoutsAfter).toEqual(payoutsBefore.map((row) => ({ ...row, kind: "reward", poll_id: null })));
      expect(db.prepare("SELECT DISTINCT refund_policy FROM polls").all()).toEqual([{ refund_policy: "none" }]);

      // The ended, unfilled old polls owe nothing: nothing is queued for them.
      expect(await queueOwedRefunds(store, new Date())).toBe(0);

      // The same poll sold under 'unfilled' owes 97 × 5,000 — once.
      db.prepare("UPDATE polls SET refund_policy = 'unfilled' WHERE id = 'poll-expired'").run();
      expect(await queueOwedRefunds(store, new Date())).toBe(1);
      expect(await queueOwedRefunds(store, new Date())).toBe(0);
      expect(db.prepare("SELECT kind, poll_id, address, status, trigger, amount_atomic, entries FROM payouts WHERE kind = 'refund'").all()).toEqual([
        { kind: "refund", poll_id: "poll-expired", address: "0x00000000000000000000000000000000000000aa", status: "claimed", trigger: "poll_ended", amount_atomic: "485000", entries: 0 },
      ]);
      // Refused by the database: a second live refund of the poll, a refund without a poll, a reward with one.
      const insert = (values: string) => () =>
        db.prepare(`INSERT INTO payouts (id, kind, poll_id, address, network, status, trigger, created_at, updated_at) VALUES ${values}`).run();
      expect(insert("('r2', 'refund', 'poll-expired', '0xaa', 'eip155:31337', 'claimed', 'poll_ended', 't', 't')")).toThrow(/UNIQUE/);
      expect(insert("('r3', 'refund', NULL, '0xaa', 'eip155:31337', 'claimed', 'poll_ended', 't', 't')")).toThrow(/CHECK/);
      expect(insert("('r4', 'reward', 'poll-expired', '0xaa', 'eip155:31337', 'claimed', 'threshold', 't', 't')")).toThrow(/CHECK/);
      // A failed refund moved no money: a new one may be queued beside it.
      db.prepare("UPDATE payouts SET status = 'failed' WHERE kind = 'refund'").run();
      expect(await queueOwedRefunds(store, new Date())).toBe(1);
    } finally {
      await store.close();
    }
  });
});
