// Runs the pinned wrangler (node_modules) against this repository's wrangler.toml, offline: D1
// migrations on a local database, `wrangler dev --local` (workerd from npm) as a child process, and
// `wrangler deploy --dry-run` for the bundle. No telemetry, no prompts, logs kept out of $HOME.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import BetterSqlite3 from "better-sqlite3";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WRANGLER = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

/** The environment of every wrangler invocation: no metrics, no update check, non-interactive, logs under `stateDir`. */
export function wranglerEnv(stateDir: string): NodeJS.ProcessEnv {
  mkdirSync(join(stateDir, "logs"), { recursive: true });
  return {
    ...process.env,
    CI: "true",
    WRANGLER_SEND_METRICS: "false",
    // No banner, hence no update check against the npm registry.
    WRANGLER_HIDE_BANNER: "true",
    WRANGLER_LOG_PATH: join(stateDir, "logs"),
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  };
}

/** Runs `wrangler <args>` to completion; rejects with its output when it fails. */
export function runWrangler(args: string[], stateDir: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], { cwd: REPO_ROOT, env: wranglerEnv(stateDir), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`wrangler ${args.join(" ")} exited with ${code}:\n${output}`));
    });
  });
}

/**
 * This repository's wrangler.toml as wrangler reads it, changed by `change`, written as `dir`/wrangler.json
 * with its paths made absolute; pass the path as `config` (a Rate Limiting binding's limit, for one, can
 * only be set in the configuration).
 */
export async function writeWranglerConfig(dir: string, change: (config: Record<string, any>) => void): Promise<string> {
  const { experimental_readRawConfig } = await import("wrangler");
  const config = structuredClone(experimental_readRawConfig({ config: join(REPO_ROOT, "wrangler.toml") }).rawConfig) as Record<string, any>;
  const absolute = (path: string) => (isAbsolute(path) ? path : join(REPO_ROOT, path));
  config.main = absolute(config.main);
  if (config.assets?.directory) config.assets.directory = absolute(config.assets.directory);
  for (const database of config.d1_databases ?? []) if (database.migrations_dir) database.migrations_dir = absolute(database.migrations_dir);
  change(config);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "wrangler.json");
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

export interface WranglerDev {
  url: string;
  /** Everything wrangler and the Worker printed so far (console.log of the Worker included). */
  output(): string;
  stop(): Promise<void>;
  /** SIGKILL to wrangler and its workerd at once, as a crash: nothing gets to finish. */
  kill(): Promise<void>;
}

/**
 * `wrangler dev --local` on `port`, state persisted under `stateDir`, `vars` passed as --var (secrets
 * too: this is a local test). Resolves once GET /healthz answers 200.
 */
export async function startWranglerDev(options: {
  port: number;
  inspectorPort: number;
  stateDir: string;
  vars: Record<string, string>;
  readyTimeoutMs?: number;
  /** Another configuration file (writeWranglerConfig); default: this repository's wrangler.toml. */
  config?: string;
}): Promise<WranglerDev> {
  const { port, stateDir } = options;
  const args = [
    WRANGLER,
    "dev",
    ...(options.config ? ["--config", options.config] : []),
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(options.inspectorPort),
    "--persist-to",
    stateDir,
    "--show-interactive-dev-session=false",
    // GET /__scheduled runs scheduled() (wrangler 4.86's /cdn-cgi/handler/scheduled fails with [assets]).
    "--test-scheduled",
    "--log-level",
    "log",
    ...Object.entries(options.vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
  // Its own process group, so stopping it also stops the workerd it runs.
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: wranglerEnv(stateDir),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  child.on("exit", () => (exited = true));

  const stop = async () => {
    if (exited || child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
    }, 5_000);
    await gone;
    clearTimeout(timer);
  };

  const kill = async () => {
    if (exited || child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      return;
    }
    await gone;
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`wrangler dev exited before it was ready:\n${output}`);
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer /healthz in time:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, output: () => output, stop, kill };
}

/**
 * Writes to the local D1 database of a running `wrangler dev` (persisted under `stateDir`) from outside,
 * the way a test moves time forward: make a retry due now, let a poll's expiry pass. The file is the
 * SQLite database miniflare keeps for the D1 binding (WAL, normal locking), so the running Worker sees
 * the change at its next query.
 */
export function writeLocalD1(stateDir: string, sql: string, ...parameters: unknown[]): number {
  const db = new BetterSqlite3(localD1File(stateDir));
  try {
    db.pragma("busy_timeout = 5000");
    return db.prepare(sql).run(...parameters).changes;
  } finally {
    db.close();
  }
}

/** Reads the local D1 database of a running (or stopped) `wrangler dev` persisted under `stateDir`. */
export function readLocalD1<T>(stateDir: string, sql: string, ...parameters: unknown[]): T[] {
  const db = new BetterSqlite3(localD1File(stateDir), { readonly: true });
  try {
    db.pragma("busy_timeout = 5000");
    return db.prepare(sql).all(...parameters) as T[];
  } finally {
    db.close();
  }
}

function localD1File(stateDir: string): string {
  const dir = join(stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = readdirSync(dir).filter((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite");
  if (files.length !== 1) throw new Error(`expected one local D1 database in ${dir}, found ${files.join(", ") || "none"}`);
  return join(dir, files[0]!);
}
