// How an events stream notices a vote: the poll's row (its counters and status) is read on an interval
// while anyone listens, and every listener gets each reading. Works the same on SQLite and D1.
//
// Shared (Node): one timer and one query per poll per interval, however many streams watch it. Not
// shared (Workers): each stream reads for itself, because a Worker may not hand what one request read
// (an I/O result) to another request's stream, and a request's timers stop with it.
import type { ReadSidePollRow } from "./repo";

export type Reading = { kind: "poll"; poll: ReadSidePollRow } | { kind: "gone" } | { kind: "failed" };
export type ReadingListener = (reading: Reading) => void;

export interface ProgressWatch {
  /** Calls `listener` with each reading of the poll until the returned function is called. */
  watch(pollId: string, listener: ReadingListener): () => void;
  /** Readers running now (one per watched poll when shared). */
  readers(): number;
}

export interface ProgressWatchOptions {
  read: (pollId: string) => Promise<ReadSidePollRow | undefined>;
  intervalMs: number;
  shared: boolean;
  log: (line: string, fields?: Record<string, unknown>) => void;
}

interface Reader {
  pollId: string;
  listeners: Set<ReadingListener>;
  timer: ReturnType<typeof setInterval> | undefined;
  busy: boolean;
}

export function createProgressWatch(options: ProgressWatchOptions): ProgressWatch {
  const { read, intervalMs, shared, log } = options;
  // As many readers as watched polls (or open streams when not shared): bounded by the streams'
  // own limits (src/polls/events.ts), never evicted, since a forgotten reader would keep its timer.
  const readers = new Map<string, Reader>();
  let privateKeys = 0;

  const tick = async (reader: Reader) => {
    // A slow database: skip this interval rather than pile up queries.
    if (reader.busy) return;
    reader.busy = true;
    let reading: Reading;
    try {
      const poll = await read(reader.pollId);
      reading = poll ? { kind: "poll", poll } : { kind: "gone" };
    } catch (error) {
      log(`events: reading poll ${reader.pollId} failed: ${error instanceof Error ? error.message : String(error)}`, { level: "warn" });
      reading = { kind: "failed" };
    } finally {
      reader.busy = false;
    }
    for (const listener of [...reader.listeners]) {
      try {
        listener(reading);
      } catch (error) {
        log(`events: a stream failed on a reading: ${error instanceof Error ? error.message : String(error)}`, { level: "error" });
      }
    }
  };

  return {
    watch(pollId, listener) {
      const key = shared ? pollId : `${pollId}#${++privateKeys}`;
      let reader = readers.get(key);
      if (!reader) {
        const created: Reader = { pollId, listeners: new Set(), timer: undefined, busy: false };
        created.timer = setInterval(() => void tick(created), intervalMs);
        // Node: an open stream keeps its socket, never the process (Workers timers have no unref).
        if (typeof created.timer === "object" && "unref" in created.timer) created.timer.unref();
        readers.set(key, created);
        reader = created;
      }
      const watched = reader;
      watched.listeners.add(listener);
      return () => {
        watched.listeners.delete(listener);
        if (watched.listeners.size > 0) return;
        clearInterval(watched.timer);
        if (readers.get(key) === watched) readers.delete(key);
      };
    },
    readers: () => readers.size,
  };
}
