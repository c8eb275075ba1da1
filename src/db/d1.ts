// Cloudflare D1 behind the Store port. Reads and single statements go through Kysely with the
// `kysely-d1` dialect; `batch` is D1's own `batch()`, which runs the statements in order as one atomic
// unit (D1 has no interactive transactions: `db.transaction()` throws, and feature code never uses it).
// The schema comes from the same src/db/migrations/*.sql the Node server applies, applied here by
// `wrangler d1 migrations apply` (wrangler.toml `migrations_dir`).
import type { D1Database } from "@cloudflare/workers-types/latest";
import { Kysely, type Compilable } from "kysely";
import { D1Dialect } from "kysely-d1";
import type { Database } from "./schema";
import type { BatchResult, Store } from "./store";

export interface D1Store extends Store {
  readonly d1: D1Database;
}

export function openD1Store(database: D1Database): D1Store {
  const db = new Kysely<Database>({ dialect: new D1Dialect({ database }) });
  return {
    db,
    d1: database,
    async batch(queries: readonly Compilable[]): Promise<BatchResult[]> {
      if (queries.length === 0) return [];
      const statements = queries.map((query) => {
        const compiled = query.compile();
        return database.prepare(compiled.sql).bind(...(compiled.parameters as unknown[]));
      });
      // All or nothing: a failing statement (e.g. a UNIQUE violation, "D1_ERROR: UNIQUE constraint
      // failed: …") rolls the whole batch back and rejects, which isUniqueViolation recognises.
      const results = await database.batch(statements);
      // meta.changes is per statement (0 for a SELECT, and for a guarded UPDATE that matched nothing).
      return results.map((result) => ({ changes: result.meta?.changes ?? 0 }));
    },
    async close() {
      await db.destroy();
    },
  };
}
