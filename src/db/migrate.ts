// Applies src/db/migrations/*.sql in name order, once each. The same files are what
// `wrangler d1 migrations apply` runs on D1, so there is one source of truth for the schema.
import { readdirSync, readFileSync } from "node:fs";
import type BetterSqlite3 from "better-sqlite3";
import { projectPath } from "../project-paths";

export const MIGRATIONS_DIR = `${projectPath("src", "db", "migrations")}/`;

export function listMigrations(dir = MIGRATIONS_DIR): { name: string; sql: string }[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort()
    .map((name) => ({ name, sql: readFileSync(`${dir}/${name}`, "utf8") }));
}

export function applyMigrations(sqlite: BetterSqlite3.Database, dir = MIGRATIONS_DIR): string[] {
  sqlite.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
  );
  const applied = new Set(
    (sqlite.prepare("SELECT name FROM schema_migrations").all() as { name: string }[]).map((row) => row.name),
  );
  const newlyApplied: string[] = [];
  for (const migration of listMigrations(dir)) {
    if (applied.has(migration.name)) continue;
    sqlite.transaction(() => {
      sqlite.exec(migration.sql);
      sqlite
        .prepare("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)")
        .run(migration.name, new Date().toISOString());
    })();
    newlyApplied.push(migration.name);
  }
  return newlyApplied;
}
