// Structured logs: one JSON object per line with time, level, message and fields. Lines written while
// serving a request carry its id (`{ requestId: requestIdOf(c) }`, src/http/hardening.ts), as the access
// line does, so every line of a request can be found. Callers never pass secrets; messages carry ids and
// codes, not tokens, keys or bodies.

export type Logger = (message: string, fields?: Record<string, unknown>) => void;

/** How long a line may wait in memory before it is written, at most. */
const FLUSH_AFTER_MS = 25;
/** Written at once when a line would not fit in what is left of this many bytes. */
const FLUSH_AT_BYTES = 64 * 1024;

/**
 * Lines to stdout, gathered and written together: at most FLUSH_AFTER_MS after the first pending line,
 * or as soon as FLUSH_AT_BYTES are pending. Stdout to a file is a synchronous write in Node (a pipe too,
 * until it is full), and under load a write per turn of the event loop cost more than building the lines. Each line is
 * encoded into a byte buffer as it comes, so no line string outlives its call: strings kept pending
 * survived young collections and showed up as GC time on every request. Whatever is pending is written
 * before the process exits on its own; process.exit() while a full pipe still holds earlier batches, or a
 * SIGKILL, can lose the last lines.
 */
export function bufferedStdout(): ((line: string) => void) & { flush(): void } {
  let buffer = Buffer.allocUnsafe(FLUSH_AT_BYTES);
  let used = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (used === 0) return;
    const chunk = buffer.subarray(0, used);
    // A fresh buffer: stdout may still hold the chunk (a pipe can be asynchronous).
    buffer = Buffer.allocUnsafe(FLUSH_AT_BYTES);
    used = 0;
    process.stdout.write(chunk);
  };
  // A pipe is written asynchronously once it is full, and nothing asynchronous runs after "exit": flush
  // while the event loop still runs (it then waits for the write), and again at "exit" for process.exit().
  process.on("beforeExit", flush);
  process.on("exit", flush);
  const write = (line: string) => {
    // UTF-8 needs at most 3 bytes per UTF-16 unit; +1 for the newline.
    const mostBytes = line.length * 3 + 1;
    if (used + mostBytes > buffer.length) {
      flush();
      if (mostBytes > buffer.length) {
        process.stdout.write(`${line}\n`);
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
  return Object.assign(write, { flush });
}

let stdoutWriter: ReturnType<typeof bufferedStdout> | undefined;

/** Writes the log lines still waiting, before something else prints to stdout directly (start-up banners). */
export function flushLogs(): void {
  stdoutWriter?.flush();
}

export function jsonLogger(write: (line: string) => void = (stdoutWriter ??= bufferedStdout())): Logger {
  // One access line per request under load: the line's head is reused within a millisecond, and the
  // caller's fields are serialised as they are (one JSON.stringify, no copy) unless they carry `level`.
  let lastMs = 0;
  let lastIso = "";
  return (message, fields) => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    if (fields === undefined || fields.level === undefined) {
      const head = `{"ts":"${lastIso}","level":"info","msg":${JSON.stringify(message)}`;
      const rest = fields === undefined ? "{}" : JSON.stringify(fields);
      write(rest === "{}" ? `${head}}` : `${head},${rest.slice(1)}`);
      return;
    }
    const entry: Record<string, unknown> = { ts: lastIso, level: fields.level, msg: message };
    for (const key in fields) if (key !== "level") entry[key] = fields[key];
    write(JSON.stringify(entry));
  };
}
