// better-sqlite3 behind the Store port. One connection per process: SQLite serialises writers anyway,
// and better-sqlite3 is synchronous, so a batch is a plain transaction with no interleaving.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect, type Compilable } from "kysely";
import type { Database } from "./schema";
import type { BatchResult, Store } from "./store";
import { applyMigrations } from "./migrate";

export interface SqliteStore extends Store {
  readonly sqlite: BetterSqlite3.Database;
}

export function openSqliteStore(filename: string): SqliteStore {
  if (filename !== ":memory:") mkdirSync(dirname(filename), { recursive: true });
  const sqlite = new BetterSqlite3(filename);
  sqlite.pragma("journal_mode = WAL");
  // NORMAL in WAL mode loses at most the last transactions on power loss, never corrupts.
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  applyMigrations(sqlite);

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = sqlite.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  const runBatch = sqlite.transaction((queries: readonly Compilable[]): BatchResult[] =>
    queries.map((query) => {
      const compiled = query.compile();
      const statement = prepared(compiled.sql);
      const parameters = compiled.parameters as unknown[];
      if (statement.reader) {
        statement.all(...parameters);
        return { changes: 0 };
      }
      return { changes: statement.run(...parameters).changes };
    }),
  );

  return {
    db,
    sqlite,
    async batch(queries) {
      return runBatch(queries);
    },
    async close() {
      await db.destroy();
    },
  };
}
