// better-sqlite3 behind the Store port. One connection per process: SQLite serialises writers anyway,
// and better-sqlite3 is synchronous, so a transaction never interleaves with anything else.
//
// Two things make the hot paths cheap:
// - Prepared statements are cached by their SQL text (bounded, least recently used first out), for
//   Kysely's reads as well as for batches: Kysely still builds and compiles the SQL, but SQLite parses
//   and plans each distinct statement once. Templated reads (src/db/compiled.ts) go straight to the
//   cached statement, without Kysely's executor (its connection mutex and promise hops).
// - Group commit: batches that arrive while the event loop is busy (concurrent votes, claims…) are
//   written in ONE transaction when the loop next gets to it (setImmediate), each inside its own
//   SAVEPOINT. A batch stays atomic and independent: a statement that throws (a UNIQUE violation…)
//   rolls back that batch alone and rejects its promise with that error; the others commit. Batches
//   run in arrival order, so every batch sees exactly what it would have seen run alone after its
//   predecessors. A promise resolves only once its transaction committed. Each commit costs a WAL
//   append of every page it touched, so N votes in one commit write those pages once instead of N times.
//   The savepoints' statement journals are kept in memory (temp_store = MEMORY).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect, type Compilable } from "kysely";
import { registerDirectReader } from "./compiled";
import type { Database } from "./schema";
import type { BatchResult, Store } from "./store";
import { applyMigrations } from "./migrate";

export interface SqliteStore extends Store {
  readonly sqlite: BetterSqlite3.Database;
}

export interface SqliteStoreOptions {
  /** Coalesce concurrent batches into one transaction (default true). false: one transaction per batch, at once. */
  groupCommit?: boolean;
  /** At most this many batches per transaction (default 256); the rest go in the next one. */
  maxBatchesPerCommit?: number;
  /** Prepared statements kept (default 500). */
  statementCacheSize?: number;
}

interface Pending {
  queries: readonly Compilable[];
  resolve: (results: BatchResult[]) => void;
  reject: (error: unknown) => void;
  results?: BatchResult[];
  error?: unknown;
  failed?: boolean;
}

export function openSqliteStore(filename: string, options: SqliteStoreOptions = {}): SqliteStore {
  if (filename !== ":memory:") mkdirSync(dirname(filename), { recursive: true });
  const sqlite = new BetterSqlite3(filename);
  sqlite.pragma("journal_mode = WAL");
  // NORMAL in WAL mode loses at most the last transactions on power loss, never corrupts.
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  // Statement journals of the group commit's SAVEPOINTs (and temp tables) in memory, not in temp files:
  // a savepoint copies each page it touches first, which on disk is a cost every vote pays.
  sqlite.pragma("temp_store = MEMORY");
  applyMigrations(sqlite);

  // Least recently used statements leave first. A use only stamps its entry (cheaper than re-inserting
  // it into the Map on every run); the oldest stamp is looked for when the cache is full.
  const cacheSize = options.statementCacheSize ?? 500;
  const statements = new Map<string, { statement: BetterSqlite3.Statement; usedAt: number }>();
  let uses = 0;
  const prepared = (sql: string): BetterSqlite3.Statement => {
    const cached = statements.get(sql);
    // A statement still being iterated (Kysely's stream()) cannot run again until it is done.
    if (cached && !cached.statement.busy) {
      cached.usedAt = ++uses;
      return cached.statement;
    }
    const statement = sqlite.prepare(sql);
    if (!cached) {
      if (statements.size >= cacheSize) {
        let oldest: string | undefined;
        let oldestUse = Infinity;
        for (const [key, entry] of statements) {
          if (entry.usedAt < oldestUse) {
            oldestUse = entry.usedAt;
            oldest = key;
          }
        }
        if (oldest !== undefined) statements.delete(oldest);
      }
      statements.set(sql, { statement, usedAt: ++uses });
    }
    return statement;
  };

  // Kysely talks to the same connection through the statement cache.
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: { prepare: prepared, close: () => sqlite.close() } }),
  });
  // Templated reads (src/db/compiled.ts) skip Kysely's executor: the same all() on the same statement.
  registerDirectReader(db, (sql, parameters) => prepared(sql).all(...parameters));

  const runStatements = (queries: readonly Compilable[]): BatchResult[] =>
    queries.map((query) => {
      const compiled = query.compile();
      const statement = prepared(compiled.sql);
      const parameters = compiled.parameters as unknown[];
      if (statement.reader) {
        statement.all(...parameters);
        return { changes: 0 };
      }
      return { changes: statement.run(...parameters).changes };
    });
  // Called inside a transaction, a better-sqlite3 transaction function is a SAVEPOINT: if it throws,
  // only its own statements are rolled back.
  const runBatch = sqlite.transaction(runStatements);
  const runGroup = sqlite.transaction((group: Pending[]) => {
    for (const item of group) {
      try {
        item.results = runBatch(item.queries);
      } catch (error) {
        // SQLite may have rolled back the whole transaction (SQLITE_FULL, an interrupt…): then every
        // batch of the group is lost, not only this one.
        if (!sqlite.inTransaction) throw error;
        item.error = error;
        item.failed = true;
      }
    }
  });

  const groupCommit = options.groupCommit ?? true;
  const maxPerCommit = Math.max(1, options.maxBatchesPerCommit ?? 256);
  let queue: Pending[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const group = queue.length > maxPerCommit ? queue.splice(0, maxPerCommit) : queue.splice(0);
    if (queue.length > 0) schedule();
    if (group.length === 0) return;
    try {
      runGroup.immediate(group);
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    for (const item of group) {
      if (item.failed) item.reject(item.error);
      else item.resolve(item.results!);
    }
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  // total_changes(): rows this connection changed (counted even if rolled back: only ever too eager);
  // data_version: moves when another connection commits (a backup restore, a seeding script).
  const versionStatement = sqlite.prepare("SELECT total_changes() AS changes, (SELECT data_version FROM pragma_data_version()) AS other").raw();

  return {
    db,
    sqlite,
    changeVersion() {
      const [changes, other] = versionStatement.get() as [number, number];
      return `${changes}:${other}`;
    },
    batch(queries) {
      if (!groupCommit) {
        try {
          return Promise.resolve(runBatch(queries));
        } catch (error) {
          return Promise.reject(error);
        }
      }
      return new Promise<BatchResult[]>((resolve, reject) => {
        queue.push({ queries, resolve, reject });
        schedule();
      });
    },
    async close() {
      // Batches already accepted are written before the connection closes.
      while (queue.length > 0) flush();
      await db.destroy();
    },
  };
}
