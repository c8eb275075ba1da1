// Spawns anvil (from the npm package @foundry-rs/anvil) as a child process and manages its life.
//
// Lifetime guarantees (anvil must never outlive us):
// - stop(): optional state save, SIGTERM, wait for exit, SIGKILL after a timeout.
// - The parent's `exit` event (process.exit, natural end) SIGTERMs anvil synchronously.
// - Anything else that kills the parent (SIGKILL, an unhandled SIGINT/SIGTERM, which in Node skip
//   `exit` handlers, a crash): a tiny watchdog process holds a pipe from the parent; the kernel
//   closes that pipe when the parent dies however it dies, and the watchdog then SIGTERMs anvil
//   (SIGKILL if it is still there after WATCHDOG_KILL_AFTER_MS) and exits. Node cannot set
//   PR_SET_PDEATHSIG, so this is the portable way.
// - startAnvil resolves only once anvil catches SIGTERM (it prints "Listening on" before installing
//   its handler, and a SIGTERM in between kills it without the exit dump), so a stop or the watchdog
//   never loses state however soon it comes.
// - anvil runs in its own process group (detached), so a terminal Ctrl-C reaches only the parent:
//   the parent decides when anvil stops (after saving state), instead of racing it.
// We install no signal handlers: the host process keeps its own SIGINT/SIGTERM semantics.
//
// Persistence: with `statePath`, anvil gets `--state <path>` (load at start, dump on exit) and
// optionally `--state-interval`. `saveState()` forces a dump over RPC (anvil_dumpState returns
// gzipped JSON, identical to the file format) and writes it atomically (temp file + rename).
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { Socket } from "node:net";
import { constants as osConstants } from "node:os";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";

export interface StartAnvilOptions {
  chainId: number;
  /** Persist chain state here (anvil `--state`): loaded on start if present, dumped on exit. */
  statePath?: string;
  /** anvil also dumps to `statePath` every N seconds (`--state-interval`). */
  stateIntervalSeconds?: number;
  /** 0 (default) lets the OS pick a free port. */
  port?: number;
  /** How long to wait for "Listening on"; default 10 s. */
  startTimeoutMs?: number;
  /** Extra anvil CLI arguments (e.g. ["--hardfork", "prague"]). */
  extraArgs?: string[];
}

export interface AnvilProcess {
  rpcUrl: string;
  port: number;
  pid: number;
  chainId: number;
  statePath: string | undefined;
  /** Forces a state dump to `statePath` now (atomic). No-op without `statePath`. */
  saveState(): Promise<void>;
  /** Saves state (if `statePath`), then SIGTERM; SIGKILL after `timeoutMs` (default 5 s). Idempotent. */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
  /** Resolves when the process has exited (for whatever reason). */
  exited: Promise<void>;
  /** Last lines anvil wrote to stdout/stderr, for error messages. */
  recentOutput(): string;
}

const require_ = createRequire(import.meta.url);

/** Absolute path of the anvil binary shipped in the platform package of @foundry-rs/anvil. */
export function resolveAnvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const platform = process.platform;
  const exe = platform === "win32" ? "anvil.exe" : "anvil";
  const pkg = `@foundry-rs/anvil-${platform}-${arch}`;
  try {
    // The platform packages have no "exports" map, so their files resolve directly.
    return require_.resolve(`${pkg}/bin/${exe}`);
  } catch {
    // Fall back to what @foundry-rs/anvil's own bin.mjs would use (a postinstall-downloaded dist/).
    try {
      const wrapperDir = dirname(require_.resolve("@foundry-rs/anvil/package.json"));
      const candidate = join(wrapperDir, "..", "dist", exe);
      if (existsSync(candidate)) return candidate;
    } catch {
      // not installed at all: reported below
    }
    throw new Error(
      `anvil binary not found: expected npm package ${pkg} (an optional dependency of @foundry-rs/anvil) ` +
        `for ${platform}/${process.arch}. Reinstall dependencies without --omit=optional.`,
    );
  }
}

// Long enough for the exit dump of a large chain on a busy machine: a SIGKILL in the middle of it would
// leave a cut-short state file.
const WATCHDOG_KILL_AFTER_MS = 30_000;

// Runs in a separate `node -e` process. argv[1] = anvil pid. Exits when its stdin pipe closes
// (the parent died) after stopping anvil; the parent SIGKILLs it once anvil has exited normally.
// String.raw keeps the regex's backslashes.
const WATCHDOG_SOURCE = String.raw`
const pid = Number(process.argv[1]);
for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(s, () => {});
let fired = false;
function alive() {
  try { process.kill(pid, 0); } catch { return false; }
  // An exited child of a dead parent can linger as a zombie until init reaps it: count it as gone.
  try { return !/^\d+ \(.*\) Z/.test(require("fs").readFileSync("/proc/" + pid + "/stat", "utf8")); } catch { return true; }
}
function fire() {
  if (fired) return; fired = true;
  if (!alive()) process.exit(0);
  try { process.kill(pid, "SIGTERM"); } catch {}
  const t0 = Date.now();
  setInterval(() => {
    if (!alive()) process.exit(0);
    if (Date.now() - t0 > ${WATCHDOG_KILL_AFTER_MS}) { try { process.kill(pid, "SIGKILL"); } catch {} process.exit(0); }
  }, 50);
}
process.stdin.on("data", () => {});
process.stdin.on("end", fire);
process.stdin.on("close", fire);
process.stdin.on("error", fire);
`;

function spawnWatchdog(anvilPid: number): ChildProcess | undefined {
  try {
    const wd = spawn(process.execPath, ["-e", WATCHDOG_SOURCE, String(anvilPid)], {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true,
      windowsHide: true,
    });
    wd.on("error", () => {}); // best effort: the `exit` hook still covers normal exits
    wd.unref();
    // The pipe must not keep the parent's event loop alive.
    if (wd.stdin instanceof Socket) wd.stdin.unref();
    return wd;
  } catch {
    return undefined;
  }
}

// Live children, SIGTERMed synchronously when the parent exits.
const live = new Set<{ anvil: ChildProcess; watchdog: ChildProcess | undefined }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const { anvil, watchdog } of live) {
      // Watchdog first, so anvil doesn't get a second SIGTERM in the middle of its exit dump.
      try { watchdog?.kill("SIGKILL"); } catch { /* already gone */ }
      try { anvil.kill("SIGTERM"); } catch { /* already gone */ }
    }
  });
}

/** Writes `data` to `path` atomically: temp file in the same directory, then rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(15_000), // a hung node must not hang stop()
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method} failed: ${body.error.message}`);
  return body.result as T;
}

function assertStateFileReadable(statePath: string): void {
  if (!existsSync(statePath)) return;
  try {
    JSON.parse(readFileSync(statePath, "utf8"));
  } catch (err) {
    throw new Error(
      `anvil state file ${statePath} is not valid JSON (${(err as Error).message}); it was probably cut ` +
        `short by a crash. Move it away to start a fresh chain (which also needs a fresh database).`,
    );
  }
}

/**
 * Whether process `pid` has a SIGTERM handler installed: the SigCgt mask of /proc/<pid>/status (Linux).
 * Undefined where that cannot be read.
 */
function catchesSigterm(pid: number): boolean | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (mask === undefined) return undefined;
  return ((BigInt(`0x${mask}`) >> BigInt(osConstants.signals.SIGTERM - 1)) & 1n) === 1n;
}

/** Waits until anvil catches SIGTERM; returns at once where that cannot be known (no /proc). */
async function untilCatchesSigterm(pid: number, deadline: number, exited: () => boolean): Promise<void> {
  for (;;) {
    if (exited()) throw new Error("anvil exited during start-up");
    if (catchesSigterm(pid) !== false) return;
    if (Date.now() > deadline) throw new Error("anvil listened but did not install its SIGTERM handler in time");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export async function startAnvil(opts: StartAnvilOptions): Promise<AnvilProcess> {
  const binary = resolveAnvilBinary();
  const { chainId, statePath, port = 0, startTimeoutMs = 10_000 } = opts;

  const args = ["--host", "127.0.0.1", "--port", String(port), "--chain-id", String(chainId)];
  if (statePath) {
    assertStateFileReadable(statePath);
    mkdirSync(dirname(statePath), { recursive: true });
    args.push("--state", statePath);
    if (opts.stateIntervalSeconds) args.push("--state-interval", String(opts.stateIntervalSeconds));
  }
  args.push(...(opts.extraArgs ?? []));

  const startedAt = Date.now();
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], detached: true, windowsHide: true });

  // Keep draining both pipes for the whole life of the process (anvil logs every RPC call; a full
  // pipe would block it) and remember the tail for diagnostics.
  const tail: string[] = [];
  const remember = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      tail.push(line);
      if (tail.length > 60) tail.shift();
    }
  };
  child.stdout!.on("data", remember);
  child.stderr!.on("data", remember);
  const recentOutput = () => tail.join("\n");

  let hasExited = false;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      hasExited = true;
      resolve();
    });
  });

  // Guard the child from the moment it exists, not only once it listens.
  if (child.pid !== undefined) {
    const watchdog = spawnWatchdog(child.pid);
    const entry = { anvil: child, watchdog };
    live.add(entry);
    installExitHook();
    void exited.then(() => {
      live.delete(entry);
      try { watchdog?.kill("SIGKILL"); } catch { /* already gone */ }
    });
  }

  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`anvil did not start within ${startTimeoutMs} ms. Output:\n${recentOutput()}`));
    }, startTimeoutMs);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const m = /Listening on (\S+):(\d+)/.exec(buffered);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        resolve(`http://${m[1]}:${m[2]}`);
      }
    };
    child.stdout!.on("data", onData);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`failed to spawn anvil (${binary}): ${err.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited during start-up (code ${code}, signal ${signal}). Output:\n${recentOutput()}`));
    });
  });

  const pid = child.pid!;
  await untilCatchesSigterm(pid, startedAt + startTimeoutMs, () => hasExited).catch((err: Error) => {
    child.kill("SIGKILL");
    throw new Error(`${err.message}. Output:\n${recentOutput()}`);
  });
  // Neither anvil nor its pipes keep the parent alive; the exit hook/watchdog stop it.
  child.unref();
  for (const pipe of [child.stdout, child.stderr]) if (pipe instanceof Socket) pipe.unref();

  const saveState = async (): Promise<void> => {
    if (!statePath || hasExited) return;
    const hex = await rpc<string>(url, "anvil_dumpState");
    const json = gunzipSync(Buffer.from(hex.slice(2), "hex"));
    writeFileAtomic(statePath, json);
  };

  let stopping: Promise<void> | undefined;
  const stop = (stopOpts: { timeoutMs?: number } = {}): Promise<void> => {
    stopping ??= (async () => {
      if (hasExited) return;
      try {
        await saveState();
      } catch {
        // anvil also dumps on SIGTERM; a failed RPC save must not prevent stopping
      }
      child.kill("SIGTERM");
      const timeoutMs = stopOpts.timeoutMs ?? 5_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        child.kill("SIGKILL");
        await exited;
      }
    })();
    return stopping;
  };

  return {
    rpcUrl: url,
    port: Number(new URL(url).port),
    pid,
    chainId,
    statePath,
    saveState,
    stop,
    exited,
    recentOutput,
  };
}
