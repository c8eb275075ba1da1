// A text/event-stream reader over a fetch body (EventSource cannot send the read token as a header):
// the HTML standard's parsing rules, kept small. Comment lines (heartbeats) are skipped.

/** An event as a client reads it off the stream. */
export interface StreamedEvent {
  event: string;
  data: string;
  /** The stream's last event id after this event (ids carry over to later events without one). */
  lastEventId: string;
}

/**
 * An incremental parser: feed it decoded text as it arrives; it returns the complete events so far and keeps
 * the rest. CRLF, CR or LF line ends, a leading BOM, comment lines, multi-line data, `retry:` (reported
 * through onRetry), ids with NUL ignored, unknown fields ignored.
 */
export function eventStreamParser(options: { lastEventId?: string; onRetry?: (ms: number) => void } = {}): (text: string) => StreamedEvent[] {
  let buffer = "";
  let eventType = "";
  let data: string[] = [];
  let lastEventId = options.lastEventId ?? "";
  let pendingCr = false;
  let first = true;
  return (text) => {
    const out: StreamedEvent[] = [];
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    // A CR at the end of one chunk and an LF at the start of the next are one line end.
    if (pendingCr && text.startsWith("\n")) text = text.slice(1);
    pendingCr = text.endsWith("\r");
    buffer += text;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      if (!match) break;
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      if (line === "") {
        if (data.length > 0) out.push({ event: eventType || "message", data: data.join("\n"), lastEventId });
        eventType = "";
        data = [];
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") eventType = value;
      else if (field === "data") data.push(value);
      else if (field === "id") {
        if (!value.includes("\0")) lastEventId = value;
      } else if (field === "retry" && /^\d+$/.test(value)) options.onRetry?.(Number(value));
    }
    return out;
  };
}

/** The events of `body` as they arrive; ends when the stream ends. `lastEventId` seeds the id. */
export async function* readEventStream(body: ReadableStream<Uint8Array>, lastEventId = ""): AsyncGenerator<StreamedEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parse = eventStreamParser({ lastEventId });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      yield* parse(done ? decoder.decode() : decoder.decode(value, { stream: true }));
      if (done) return;
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => undefined);
  }
}
