// Structured logs: one JSON object per line with time, level, message and fields. Lines written while
// serving a request carry its id (`{ requestId: requestIdOf(c) }`, src/http/hardening.ts), as the access
// line does, so every line of a request can be found. Callers never pass secrets; messages carry ids and
// codes, not tokens, keys or bodies.

/** The fields of the access line every request gets (src/http/hardening.ts, src/http/replay-edge.ts), in order. */
export type AccessEntry = {
  requestId: string;
  method: string;
  path: string;
  status: number;
  ms: number;
};

export type Logger = ((message: string, fields?: Record<string, unknown>) => void) & {
  /** The access line exactly as `log("request", entry)` writes it, through a faster lane when the logger has one. */
  access?: (entry: AccessEntry) => void;
};

/** Where a request's access line goes: the logger's own lane for it, or a plain "request" line. */
export function accessLogOf(log: Logger): (entry: AccessEntry) => void {
  return log.access ?? ((entry) => log("request", entry));
}

/** How long a line may wait in memory before it is written, at most. */
const FLUSH_AFTER_MS = 25;
/** Written at once when a line would not fit in what is left of this many bytes. */
const FLUSH_AT_BYTES = 64 * 1024;
/** How long writing the last lines may wait for a reader that takes nothing (a dead log shipper). */
const EXIT_WAIT_MS = 10_000;

/**
 * Lines to stdout, gathered and written together: at most FLUSH_AFTER_MS after the first pending line,
 * or as soon as FLUSH_AT_BYTES are pending. Under load a write per turn of the event loop cost more than
 * building the lines. Each line is encoded into a byte buffer as it comes, so no line string outlives its
 * call: strings kept pending survived young collections and showed up as GC time on every request.
 *
 * Batches go to fd 1 with writeSync, not through process.stdout. A pipe there is non-blocking: what a
 * full pipe does not take waits here, is tried again 1 to FLUSH_AFTER_MS later, and is written at
 * "exit", waiting for the reader if it must (up to EXIT_WAIT_MS: a reader that stopped reading cannot
 * hold the exit up; stderr says what was not written). process.stdout keeps such bytes in libuv's queue,
 * which nothing writes after "exit": they were lost, the last batch of a process ending on its own, every
 * queued batch at process.exit(). Only a SIGKILL, an unhandled signal or a reader gone quiet loses lines.
 */
export function bufferedStdout(): ((line: string) => void) & { flush(): void } {
  // Looked up, not imported: the Workers bundle imports this module and has no node:fs.
  const { writeSync } = process.getBuiltinModule("node:fs");
  // Opening process.stdout makes a pipe on fd 1 non-blocking (libuv): writeSync never waits for a reader.
  const stdout = process.stdout;
  let buffer = Buffer.allocUnsafe(FLUSH_AT_BYTES);
  let used = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** What fd 1 has not taken yet, oldest first. */
  const unwritten: Buffer[] = [];
  let retry: ReturnType<typeof setTimeout> | undefined;
  let retryMs = 1;
  /** Writes what fd 1 takes now, in order; false when a full pipe left some. */
  const send = (): boolean => {
    while (unwritten.length > 0) {
      const chunk = unwritten[0]!;
      let written = 0;
      try {
        written = writeSync(1, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") {
          // A closed or broken stdout: process.stdout reports it as before (copies: the buffer is reused).
          for (const rest of unwritten.splice(0)) stdout.write(Buffer.from(rest));
          return true;
        }
      }
      if (written < chunk.length) {
        unwritten[0] = chunk.subarray(written);
        return false;
      }
      unwritten.shift();
    }
    return true;
  };
  const pump = () => {
    retry = undefined;
    const head = unwritten[0];
    // What others printed through process.stdout and is still queued there goes first.
    if (stdout.writableLength === 0 && send()) {
      retryMs = 1;
      return;
    }
    // Soon while the reader takes something; less often while it takes nothing (each try costs an EAGAIN error).
    retryMs = unwritten[0] === head ? Math.min(retryMs * 2, FLUSH_AFTER_MS) : 1;
    retry = setTimeout(pump, retryMs);
    // Never the reason the process stays up; "exit" writes what is left.
    retry.unref();
  };
  const enqueue = (chunk: Buffer) => {
    unwritten.push(chunk);
    if (retry === undefined) pump();
  };
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (used === 0) return;
    enqueue(buffer.subarray(0, used));
    used = 0;
    // Reused once fd 1 has taken it all, the usual case.
    if (unwritten.length > 0) buffer = Buffer.allocUnsafe(FLUSH_AT_BYTES);
  };
  /** Writes every pending line now, waiting up to EXIT_WAIT_MS for a full pipe's reader (at exit, and from flushLogs before direct prints). */
  const drain = () => {
    flush();
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const giveUpAt = Date.now() + EXIT_WAIT_MS;
    while (!send()) {
      if (Date.now() >= giveUpAt) {
        // A reader that stopped reading must not keep the process from ending: say what is lost, elsewhere.
        const lost = unwritten.splice(0).reduce((bytes, chunk) => bytes + chunk.length, 0);
        process.stderr.write(`logger: stdout's reader did not take the pending log lines within ${EXIT_WAIT_MS / 1000} s; ${lost} bytes were not written\n`);
        return;
      }
      Atomics.wait(pause, 0, 0, 1);
    }
  };
  // Nothing asynchronous runs after "exit", whether the process ends on its own or calls process.exit().
  process.on("exit", drain);
  const write = (line: string) => {
    // UTF-8 needs at most 3 bytes per UTF-16 unit; +1 for the newline.
    const mostBytes = line.length * 3 + 1;
    if (used + mostBytes > buffer.length) {
      flush();
      if (mostBytes > buffer.length) {
        enqueue(Buffer.from(`${line}\n`));
        return;
      }
    }
    used += buffer.write(line, used, "utf8");
    buffer[used++] = 0x0a;
    if (timer === undefined) {
      timer = setTimeout(flush, FLUSH_AFTER_MS);
      // Never the reason the process stays up; "exit" writes what is left.
      timer.unref();
    }
  };
  return Object.assign(write, { flush: drain });
}

let stdoutWriter: ReturnType<typeof bufferedStdout> | undefined;

/**
 * Writes the log lines still waiting, waiting for a full pipe's reader: before something else prints to
 * stdout directly (start-up banners), which would otherwise come first, or cut into a line a full pipe
 * took only part of.
 */
export function flushLogs(): void {
  stdoutWriter?.flush();
}

const numberJson = (value: number) => (Number.isFinite(value) ? String(value) : "null");

/**
 * A duration as JSON. Access lines carry milliseconds to one decimal, and String() of a fraction is
 * several times slower than of an integer: a value that is exactly tenths is written from its digits
 * (the same text, as it is the shortest that reads back as that double).
 */
function msJson(ms: number): string {
  const tenths = Math.round(ms * 10);
  if (tenths / 10 !== ms || !(tenths >= 0 && tenths < 1e7)) return numberJson(ms);
  const rest = tenths % 10;
  return rest === 0 ? String(tenths / 10) : `${(tenths - rest) / 10}.${rest}`;
}

/** A field's value as JSON, as JSON.stringify would write it; undefined for what it leaves out. */
function valueJson(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return numberJson(value);
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    default:
      return JSON.stringify(value);
  }
}

/** A JSON logger always has its access lane. */
export type JsonLogger = Logger & { access: (entry: AccessEntry) => void };

export function jsonLogger(write: (line: string) => void = (stdoutWriter ??= bufferedStdout())): JsonLogger {
  // One access line per request under load: the line's head is reused within a millisecond for the same
  // message, and fields are written member by member rather than stringifying the record and splicing
  // it after the head; the access line, whose members are known, skips even the walk over them.
  let lastMs = 0;
  let lastIso = "";
  let lastMessage = "";
  let lastHead = "";
  const infoHead = (message: string) => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
      lastMessage = "";
    }
    if (message !== lastMessage) {
      lastMessage = message;
      lastHead = `{"ts":"${lastIso}","level":"info","msg":${JSON.stringify(message)}`;
    }
    return lastHead;
  };
  const keyJson = new Map<string, string>();
  const memberKey = (key: string) => {
    let json = keyJson.get(key);
    if (json === undefined) {
      json = `,${JSON.stringify(key)}:`;
      // Keys are the code's own names; the bound only matters if a caller ever builds them from data.
      if (keyJson.size < 1024) keyJson.set(key, json);
    }
    return json;
  };
  const log = (message: string, fields?: Record<string, unknown>) => {
    const level = fields?.level;
    let line: string;
    if (level === undefined) line = infoHead(message);
    else {
      infoHead(message);
      line = `{"ts":"${lastIso}","level":${valueJson(level) ?? "null"},"msg":${JSON.stringify(message)}`;
    }
    for (const key in fields) {
      if (key === "level") continue;
      const json = valueJson(fields[key]);
      if (json !== undefined) line += memberKey(key) + json;
    }
    write(`${line}}`);
  };
  // Consecutive requests mostly share method, path and status: those members are written once for a run of them.
  let tailMethod = "";
  let tailPath = "";
  let tailStatus = Number.NaN;
  let tail = "";
  const access = (entry: AccessEntry) => {
    if (entry.path !== tailPath || entry.method !== tailMethod || entry.status !== tailStatus) {
      tailMethod = entry.method;
      tailPath = entry.path;
      tailStatus = entry.status;
      tail = `,"method":${JSON.stringify(tailMethod)},"path":${JSON.stringify(tailPath)},"status":${numberJson(tailStatus)},"ms":`;
    }
    write(`${infoHead("request")},"requestId":${JSON.stringify(entry.requestId)}${tail}${msJson(entry.ms)}}`);
  };
  return Object.assign(log, { access });
}
