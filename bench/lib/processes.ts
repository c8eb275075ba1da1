// Child processes of the bench: the servers under test run in their own processes (the load generator
// stays in the parent), and every one of them — and the anvil a service child starts — is stopped when
// the bench exits, whether it finished, failed or was interrupted.
import { fork, type ChildProcess } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { START_NODE_FLAGS } from "../../scripts/lib/bundle";

export interface Child<Ready> {
  process: ChildProcess;
  pid: number;
  ready: Ready;
  /** Sends `message` and resolves with the first answer of type `answerType`. */
  ask<T>(message: { type: string }, answerType: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
const extraPids = new Set<number>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Last resort on exit: SIGKILL whatever is still running (servers and the anvils they started). */
function killAll(): void {
  for (const child of children) if (child.pid !== undefined && child.exitCode === null) child.kill("SIGKILL");
  for (const pid of extraPids) if (alive(pid)) process.kill(pid, "SIGKILL");
}

let installed = false;
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping the servers`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

/** Also kill this pid on exit if it is still there (anvil, started by a service child). */
export function trackPid(pid: number | undefined): void {
  if (pid !== undefined) extraPids.add(pid);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stopProcess(child)));
  killAll();
}

async function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  if (child.connected) child.send({ type: "stop" });
  else child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Forks `script` (TypeScript, through tsx) with an IPC channel, its stdout and stderr to `logFile`, and
 * waits for its `{ type: "ready" }` message.
 */
export async function startChild<Ready extends { pid: number }>(
  script: string,
  args: string[],
  logFile: string,
  options: { execArgv?: string[]; timeoutMs?: number } = {},
): Promise<Child<Ready>> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  installCleanup();
  const out = openSync(logFile, "a");
  const child = fork(script, args, {
    // A bundle (.mjs) runs as package.json "start" runs the service; TypeScript through tsx.
    execArgv: [...(script.endsWith(".ts") ? ["--import", "tsx"] : START_NODE_FLAGS), ...(options.execArgv ?? [])],
    stdio: ["ignore", out, out, "ipc"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within ${timeoutMs} ms (see ${logFile})`)), timeoutMs);
    child.on("message", (message: { type?: string }) => {
      if (message.type === "ready") {
        clearTimeout(timer);
        resolve(message as unknown as Ready);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      const tail = readFileSync(logFile, "utf8").split("\n").slice(-20).join("\n");
      reject(new Error(`${script} exited with ${code} before it was ready:\n${tail}`));
    });
  });
  return {
    process: child,
    pid: ready.pid,
    ready,
    ask<T>(message: { type: string }, answerType: string, askTimeoutMs = 10_000) {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${answerType} answer from ${script}`)), askTimeoutMs);
        const onMessage = (answer: { type?: string }) => {
          if (answer.type !== answerType) return;
          clearTimeout(timer);
          child.off("message", onMessage);
          resolve(answer as T);
        };
        child.on("message", onMessage);
        child.send(message);
      });
    },
    stop: () => stopProcess(child),
  };
}

/** Resident memory of a process from /proc: current (VmRSS) and peak (VmHWM), in MB. */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak seen (MB). */
export function sampleRss(pid: number, everyMs = 100): { stop(): number } {
  let peak = memoryOf(pid)?.rssMb ?? 0;
  const timer = setInterval(() => {
    const now = memoryOf(pid)?.rssMb;
    if (now !== undefined && now > peak) peak = now;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const now = memoryOf(pid)?.rssMb;
      if (now !== undefined && now > peak) peak = now;
      return peak;
    },
  };
}

/** CPU time a process has used so far (user + system, all its threads), in ms, from /proc/<pid>/stat. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the line)
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** USER_HZ: 100 on every Linux we run on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;
