// Prepared statements are cached by SQL text, bounded, least recently used out first (src/db/sqlite.ts).
// The promise guarded here: a statement in use stays prepared however many others pass through, the one
// left unused longest is the one that goes, and an evicted statement still runs (prepared again).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it, vi } from "vitest";
import { openSqliteStore, type SqliteStore } from "../src/db/sqlite";

let store: SqliteStore | undefined;
let dir: string | undefined;
afterEach(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the prepared-statement cache", () => {
  it("evicts the least recently used statement, keeps the hot one, and re-prepares what it evicted", async () => {
    dir = mkdtempSync(join(tmpdir(), "quali-stmt-"));
    store = openSqliteStore(join(dir, "db.sqlite"), { statementCacheSize: 3 });
    const prepare = vi.spyOn(store.sqlite, "prepare");
    const run = async (label: string) => {
      const rows = await sql<{ label: string }>`SELECT ${sql.lit(label)} AS label`.execute(store!.db);
      expect(rows.rows[0]?.label).toBe(label);
    };
    await run("a");
    await run("b");
    await run("c");
    expect(prepare).toHaveBeenCalledTimes(3);
    await run("a"); // a is now the most recent; b the least
    expect(prepare).toHaveBeenCalledTimes(3);
    await run("d"); // full: b goes
    expect(prepare).toHaveBeenCalledTimes(4);
    await run("a");
    await run("c");
    await run("d");
    expect(prepare).toHaveBeenCalledTimes(4);
    await run("b"); // evicted: prepared again, and still answers
    expect(prepare).toHaveBeenCalledTimes(5);
    // A hot statement survives a stream of one-off ones as long as it keeps being used.
    for (let i = 0; i < 20; i++) {
      await run("a");
      await run(`once-${i}`);
    }
    const before = prepare.mock.calls.length;
    await run("a");
    expect(prepare).toHaveBeenCalledTimes(before);
  });
});
