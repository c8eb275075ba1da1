// Consistent backup of a DATA_DIR while the service runs: the SQLite database through `VACUUM INTO`
// (a transactionally consistent copy even with writers and the WAL), plus, in local mode, the
// devnet's chain state and the generated read-token secret.
// Usage: npm run backup -- <destination-dir>     (DATA_DIR from the environment, default .data)
// Restore: stop the service, copy the files of a backup into an empty DATA_DIR, start the service.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { loadConfig } from "../src/config";

export function backupDataDir(dataDir: string, destination: string): string[] {
  mkdirSync(destination, { recursive: true });
  if (readdirSync(destination).length > 0) throw new Error(`${destination} is not empty`);
  const written: string[] = [];
  const database = join(dataDir, "quali.sqlite");
  if (!existsSync(database)) throw new Error(`no database at ${database}`);
  const sqlite = new BetterSqlite3(database, { readonly: true });
  try {
    const target = join(destination, "quali.sqlite");
    sqlite.prepare("VACUUM INTO ?").run(target);
    written.push(target);
  } finally {
    sqlite.close();
  }
  // Local mode only: the chain the payments live on (anvil dumps it after every settlement and on
  // exit) and the secret the read tokens derive from. Without the secret, old read tokens stop matching.
  for (const name of ["chain-state.json", "read-token-secret", "devnet.json"]) {
    const source = join(dataDir, name);
    if (existsSync(source)) {
      copyFileSync(source, join(destination, name));
      written.push(join(destination, name));
    }
  }
  return written;
}

if (process.argv[1]?.endsWith("backup.ts")) {
  const destination = process.argv[2];
  if (!destination) {
    console.error("usage: npm run backup -- <destination-dir>");
    process.exit(2);
  }
  const config = loadConfig();
  for (const file of backupDataDir(resolve(config.dataDir), resolve(destination))) console.log(`wrote ${file}`);
}
