// Group commit in the SQLite store: concurrent batches share one transaction, yet each stays atomic and
// independent — a batch that fails (a UNIQUE violation) is rolled back alone and only its caller sees
// the error; the others commit, in arrival order, with their own results.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql, type Compilable, type RawBuilder } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore, type SqliteStore } from "../src/db/sqlite";
import { isUniqueViolation } from "../src/db/store";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
function freshStore(options: Parameters<typeof openSqliteStore>[1] = {}): SqliteStore {
  const dir = mkdtempSync(join(tmpdir(), "quali-group-commit-"));
  dirs.push(dir);
  const store = openSqliteStore(join(dir, "quali.sqlite"), options);
  stores.push(store);
  current = store;
  store.sqlite.exec("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0); CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
  store.sqlite.exec("INSERT INTO counter (id, n) VALUES (1, 0)");
  return store;
}
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Raw SQL as a batch statement of `store`. */
let current: SqliteStore;
const q = (raw: RawBuilder<unknown>): Compilable => ({ compile: () => raw.compile(current.db) });
const insert = (store: SqliteStore, k: string) => ((current = store), q(sql`INSERT INTO t (k) VALUES (${k})`));
const bump = q(sql`UPDATE counter SET n = n + 1 WHERE id = 1`);
/** A guarded write whose effect depends on what earlier batches did: only while n < limit. */
const bumpBelow = (limit: number) => q(sql`UPDATE counter SET n = n + 1 WHERE id = 1 AND n < ${limit}`);
const counter = (store: SqliteStore) => (store.sqlite.prepare("SELECT n FROM counter WHERE id = 1").get() as { n: number }).n;
const keys = (store: SqliteStore) => (store.sqlite.prepare("SELECT k FROM t ORDER BY k").all() as { k: string }[]).map((r) => r.k);
/** WAL frames written since the last checkpoint: one commit of N batches writes each page once. */
const walFrames = (store: SqliteStore) => (store.sqlite.pragma("wal_checkpoint(PASSIVE)") as { log: number }[])[0]!.log;

describe("SQLite group commit", () => {
  it("fails only the batch that violates a constraint; the others commit with their own results", async () => {
    const store = freshStore();
    await store.batch([insert(store, "taken")]);
    const outcomes = await Promise.allSettled([
      store.batch([insert(store, "a"), bump]),
      store.batch([bump, insert(store, "taken"), bump]), // second statement throws: the whole batch is undone
      store.batch([insert(store, "b"), bump, q(sql`SELECT n FROM counter`)]),
      store.batch([q(sql`UPDATE t SET n = 1 WHERE k = 'nope'`), insert(store, "c")]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect((outcomes[0] as PromiseFulfilledResult<unknown>).value).toEqual([{ changes: 1 }, { changes: 1 }]);
    expect(isUniqueViolation((outcomes[1] as PromiseRejectedResult).reason)).toBe(true);
    expect((outcomes[2] as PromiseFulfilledResult<unknown>).value).toEqual([{ changes: 1 }, { changes: 1 }, { changes: 0 }]);
    expect((outcomes[3] as PromiseFulfilledResult<unknown>).value).toEqual([{ changes: 0 }, { changes: 1 }]);
    // The failed batch's first bump was rolled back with it.
    expect(counter(store)).toBe(2);
    expect(keys(store)).toEqual(["a", "b", "c", "taken"]);
  });

  it("runs batches in arrival order, each seeing its predecessors' writes (no overshoot)", async () => {
    const store = freshStore();
    const results = await Promise.all(Array.from({ length: 30 }, () => store.batch([bumpBelow(10)])));
    expect(results.map((r) => r[0]!.changes)).toEqual([...Array(10).fill(1), ...Array(20).fill(0)]);
    expect(counter(store)).toBe(10);
  });

  it("a batch that cannot even be compiled fails alone", async () => {
    const store = freshStore();
    const broken = { compile: () => { throw new Error("cannot compile"); } };
    const outcomes = await Promise.allSettled([store.batch([insert(store, "x")]), store.batch([broken as never]), store.batch([insert(store, "y")])]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(keys(store)).toEqual(["x", "y"]);
  });

  it("coalesces concurrent batches into one commit (one WAL append per page, not one per batch)", async () => {
    const grouped = freshStore();
    walFrames(grouped);
    grouped.sqlite.pragma("wal_checkpoint(TRUNCATE)");
    await Promise.all(Array.from({ length: 100 }, (_, i) => grouped.batch([insert(grouped, `k${i}`), bump])));
    const groupedFrames = walFrames(grouped);

    const separate = freshStore({ groupCommit: false });
    separate.sqlite.pragma("wal_checkpoint(TRUNCATE)");
    await Promise.all(Array.from({ length: 100 }, (_, i) => separate.batch([insert(separate, `k${i}`), bump])));
    const separateFrames = walFrames(separate);

    expect(counter(grouped)).toBe(100);
    expect(counter(separate)).toBe(100);
    expect(separateFrames).toBeGreaterThanOrEqual(100);
    expect(groupedFrames).toBeLessThan(10);
  });

  it("splits very large groups and writes queued batches before closing", async () => {
    const store = freshStore({ maxBatchesPerCommit: 7 });
    const all = Promise.all(Array.from({ length: 50 }, (_, i) => store.batch([insert(store, `z${String(i).padStart(2, "0")}`)])));
    const pending = store.batch([bump]);
    await all;
    await pending;
    expect(keys(store)).toHaveLength(50);
    const last = store.batch([bump]);
    await store.close();
    stores.splice(stores.indexOf(store), 1);
    await expect(last).resolves.toEqual([{ changes: 1 }]);
  });

  it("serves Kysely reads from cached prepared statements", async () => {
    const store = freshStore();
    let prepares = 0;
    const original = store.sqlite.prepare.bind(store.sqlite);
    (store.sqlite as { prepare: typeof original }).prepare = ((source: string) => {
      prepares += 1;
      return original(source);
    }) as typeof original;
    for (let i = 0; i < 20; i++) await sql`SELECT n FROM counter WHERE id = ${1}`.execute(store.db);
    expect(prepares).toBe(1);
  });
});
