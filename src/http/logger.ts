// Structured logs: one JSON object per line with time, level, message and fields. Lines written while
// serving a request carry its id (`{ requestId: requestIdOf(c) }`, src/http/hardening.ts), as the access
// line does, so every line of a request can be found. Callers never pass secrets; messages carry ids and
// codes, not tokens, keys or bodies.

export type Logger = (message: string, fields?: Record<string, unknown>) => void;

/**
 * Lines to stdout, written once per turn of the event loop instead of one write each: under load that
 * is one write(2) for many access lines (stdout to a file or a pipe is a synchronous write in Node).
 * Whatever is pending is written before the process exits.
 */
export function bufferedStdout(): (line: string) => void {
  let pending = "";
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === "") return;
    const chunk = pending;
    pending = "";
    process.stdout.write(chunk);
  };
  process.on("exit", flush);
  return (line) => {
    pending += `${line}\n`;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

let stdoutWriter: ((line: string) => void) | undefined;

export function jsonLogger(write: (line: string) => void = (stdoutWriter ??= bufferedStdout())): Logger {
  // One access line per request under load: the timestamp string is reused within a millisecond.
  let lastMs = 0;
  let lastIso = "";
  return (message, fields) => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    const entry: Record<string, unknown> = { ts: lastIso, level: fields?.level ?? "info", msg: message };
    if (fields) for (const key in fields) if (key !== "level") entry[key] = fields[key];
    write(JSON.stringify(entry));
  };
}
