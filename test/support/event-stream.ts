// A client of GET /api/v1/polls/{id}/events for tests: fetch (so it can send the read token, as the
// results page does), the body read as it arrives and parsed into events, waits with deadlines.
import { eventStreamParser, type StreamedEvent as ReceivedEvent } from "../../src/client/event-stream";

export interface OpenedStream {
  response: Response;
  /** Every event received so far, in order. */
  events: ReceivedEvent[];
  /** `retry:` values received. */
  retries: number[];
  /** Resolves when the server ended the stream (or the read failed: `error`). */
  ended: Promise<{ error?: unknown }>;
  isEnded(): boolean;
  /** Waits until `count` events have arrived; rejects after `timeoutMs` with what did arrive. */
  waitForEvents(count: number, timeoutMs?: number): Promise<ReceivedEvent[]>;
  /** Waits for the first event received after index `from` that matches. */
  waitFor(match: (event: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent>;
  /** Hangs up (the client going away). */
  close(): void;
}

export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<OpenedStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: abort.signal });
  const events: ReceivedEvent[] = [];
  const retries: number[] = [];
  const parse = eventStreamParser({ onRetry: (ms) => retries.push(ms) });
  let done = false;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const ended = (async (): Promise<{ error?: unknown }> => {
    if (!response.ok || !response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) return {};
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done: finished, value } = await reader.read();
        if (finished) break;
        events.push(...parse(decoder.decode(value, { stream: true })));
        notify();
      }
      return {};
    } catch (error) {
      return { error };
    } finally {
      done = true;
      notify();
    }
  })();

  const waitUntil = <T>(check: () => T | undefined, timeoutMs: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const attempt = () => {
        const value = check();
        if (value !== undefined) {
          finish();
          resolve(value);
        } else if (done) {
          finish();
          reject(new Error(`stream ended before ${what}; events: ${JSON.stringify(events)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(events)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(attempt);
      };
      waiters.add(attempt);
      attempt();
    });

  return {
    response,
    events,
    retries,
    ended,
    isEnded: () => done,
    waitForEvents: (count, timeoutMs = 30_000) => waitUntil(() => (events.length >= count ? events.slice(0, count) : undefined), timeoutMs, `${count} events`),
    waitFor: (match, timeoutMs = 30_000) => waitUntil(() => events.find(match), timeoutMs, "a matching event"),
    close: () => abort.abort(),
  };
}

export const dataOf = (event: ReceivedEvent) => JSON.parse(event.data) as Record<string, unknown>;
