// Structured logs: one JSON object per line with time, level, message, and the request id of the
// request being served (read from Hono's context storage), so every line of a request can be found.
// Callers never pass secrets; messages carry ids and codes, not tokens, keys or bodies.
import { tryGetContext } from "hono/context-storage";

export type Logger = (message: string, fields?: Record<string, unknown>) => void;

function currentRequestId(): string | undefined {
  try {
    return tryGetContext()?.get("requestId" as never) as string | undefined;
  } catch {
    return undefined;
  }
}

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
  return (message, fields) => {
    const requestId = currentRequestId();
    write(
      JSON.stringify({
        ts: new Date().toISOString(),
        level: fields?.level ?? "info",
        msg: message,
        ...(requestId ? { requestId } : {}),
        ...fields,
      }),
    );
  };
}
