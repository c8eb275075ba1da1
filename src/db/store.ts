// The storage port every feature uses: a Kysely instance for reads and single statements, and
// `batch` for writes that must be atomic. SQLite runs a batch as one transaction; D1 as `batch()`.
// Feature code never opens interactive transactions, so the same code runs on both.
import type { Compilable, Kysely } from "kysely";
import type { Database } from "./schema";

export interface BatchResult {
  /** Rows changed by that statement (0 for a guarded UPDATE that did not match). */
  changes: number;
}

export interface Store {
  readonly db: Kysely<Database>;
  /** Runs the statements in order, atomically: all of them take effect or none does. */
  batch(queries: readonly Compilable[]): Promise<BatchResult[]>;
  /**
   * A token that differs whenever the data may have changed since it was last read (SQLite: this
   * connection's row changes and other connections' commits). Absent where that cannot be known cheaply
   * (D1, where other isolates write): read caches keyed on it are then simply off.
   */
  changeVersion?(): string;
  close(): Promise<void>;
}

/** True when the error is a UNIQUE / PRIMARY KEY violation (better-sqlite3 and D1 word it alike). */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") return true;
  return /UNIQUE constraint failed/i.test(error.message);
}
