// GET /api/v1/polls/{id}/events: a poll's progress as Server-Sent Events, for agents (and the results
// page) that have no webhook. Access is decided exactly as for /results (404/401/403 answered as JSON
// before any stream starts), then: `progress` events as votes land, and once the poll is final one event
// named by its status (`completed`, `expired`, …), after which the stream ends. Which events, with which
// ids, is src/polls/progress-stream.ts; how votes are noticed is src/polls/progress-watch.ts.
//
// Open streams are bounded per poll, per client IP and per instance (429 beyond, like the rate limits);
// a stream ends when its client goes away, when the server shuts down, or when a client does not read.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createRouter, type AppEnv } from "../http/app-env";
import { rateLimitKeyOfIp } from "../http/client-ip";
import { ApiError } from "../http/errors";
import type { Logger } from "../http/logger";
import { ErrorResponse } from "../http/openapi-shapes";
import { addResponseHeaders } from "../http/response-headers";
import type { RouteGuards } from "../http/route-guards";
import { effectiveStatus } from "./lifecycle";
import { POLLS_PATH } from "./paths";
import {
  encodeComment,
  encodeEvent,
  encodeRetry,
  eventsAfter,
  isFinal,
  ProgressEventData,
  resumePosition,
  TerminalEventData,
  terminalId,
  type PollProgress,
} from "./progress-stream";
import { createProgressWatch, type ProgressWatch } from "./progress-watch";
import { pollForReader, READ_AUTH_ERROR_RESPONSES, READ_TOKEN_HEADERS_DESCRIPTION, ReadTokenHeaders, type ReadAuthDeps } from "./read-auth";
import { findReadSidePoll, type ReadSidePollRow } from "./repo";

export interface EventStreamSettings {
  /** Open streams at most per poll (per instance). */
  maxPerPoll: number;
  /** Open streams at most per client IP (IPv6: per /64; per instance). */
  maxPerClientIp: number;
  /** How often a watched poll's counters are read. */
  readIntervalMs: number;
  /** A comment line after this long without an event, so proxies keep the connection. */
  heartbeatMs: number;
  /** The reconnection delay suggested to clients (`retry:`). */
  retryMs: number;
  /** One reader per poll for all its streams (Node), or one per stream (Workers): src/polls/progress-watch.ts. */
  sharedReads: boolean;
}

export const DEFAULT_EVENT_STREAM_SETTINGS: EventStreamSettings = {
  maxPerPoll: 100,
  maxPerClientIp: 20,
  readIntervalMs: 1_000,
  heartbeatMs: 15_000,
  retryMs: 3_000,
  sharedReads: false,
};

/** Open streams at most per instance, whatever the per-poll and per-IP bounds allow together. */
const MAX_OPEN_STREAMS = 10_000;
/** Chunks waiting for a client that stopped reading before its stream is cut. */
const MAX_QUEUED_CHUNKS = 32;
/** Retry-After of a refused stream: a slot frees up when one of the open streams ends. */
const REFUSED_RETRY_AFTER_S = 5;

export interface EventsDeps extends ReadAuthDeps {
  now: () => Date;
  guards: RouteGuards;
  log: Logger;
  /** The client's IP as this runtime sees it (the per-IP bound is skipped when unknown). */
  clientIp?: ((c: Context<AppEnv>) => string | undefined) | undefined;
  eventStreams?: Partial<EventStreamSettings> | undefined;
  /** Aborted when the server shuts down: every open stream ends, new ones are refused. */
  shutdown?: AbortSignal | undefined;
}

const EVENTS_DESCRIPTION = [
  `${READ_TOKEN_HEADERS_DESCRIPTION} Exception: a poll created with \`publicResults: true\` streams without a token.`,
  "Access is decided before the stream starts: 404, 401 and 403 are the JSON error envelope, as for /results.",
  "",
  "A `text/event-stream` of the poll's progress, for agents without a webhook (EventSource cannot send headers: use `fetch` and read the body, or an SSE client that can).",
  "- `progress`: data `{pollId, status, voteCount, maxResponses}` (schema PollProgressEvent), sent at once with the current count and again whenever votes land (several votes between two reads arrive as one event).",
  "- A terminal event named by the poll's final status (`completed`, `expired`; more final statuses may be added): the same data plus `completedAt` (schema PollTerminalEvent), sent once, after which the server ends the stream. Treat any event other than `progress` whose `data.status` is not `active` as terminal, and ignore unknown events.",
  "- Ids: a `progress` event's id is its voteCount; the terminal event's id is voteCount + 1. Reconnect with `Last-Event-ID` to get only what you have not seen (no gaps, no repeats); an id this poll never sent is ignored and the stream starts from the current state.",
  "- `retry:` suggests a reconnection delay in ms; comment lines (`: keep-alive`) come every 15 s or so when nothing else does.",
  "Open streams are bounded per poll and per client IP: beyond that, 429 with Retry-After.",
].join("\n");

const EventsHeaders = ReadTokenHeaders.extend({
  "last-event-id": z.string().optional().openapi({ description: "The id of the last event you received, to resume after it." }),
});

const eventsRoute = (guards: RouteGuards) =>
  createRoute({
    method: "get",
    path: `${POLLS_PATH}/{id}/events`,
    summary: "Live progress of a poll (Server-Sent Events)",
    middleware: [guards.api],
    description: EVENTS_DESCRIPTION,
    request: { params: z.object({ id: z.string() }), headers: EventsHeaders },
    responses: {
      200: {
        description:
          "The event stream. Each event is `event: <name>`, `id: <number>`, `data: <one line of JSON>`: `progress` (PollProgressEvent) and one terminal event (PollTerminalEvent) before the stream ends.",
        content: {
          "text/event-stream": {
            schema: z.string().openapi({
              example:
                'retry: 3000\n\nevent: progress\nid: 41\ndata: {"pollId":"3f0c…","status":"active","voteCount":41,"maxResponses":100}\n\n' +
                ': keep-alive\n\n' +
                'event: progress\nid: 100\ndata: {"pollId":"3f0c…","status":"completed","voteCount":100,"maxResponses":100}\n\n' +
                'event: completed\nid: 101\ndata: {"pollId":"3f0c…","status":"completed","voteCount":100,"maxResponses":100,"completedAt":"2026-12-05T07:00:00.000Z"}\n\n',
            }),
          },
        },
      },
      204: { description: "Last-Event-ID is the poll's terminal event: there is nothing more to send (EventSource stops reconnecting)." },
      ...READ_AUTH_ERROR_RESPONSES,
      404: { description: "Poll not found or not settled", content: { "application/json": { schema: ErrorResponse } } },
      429: { description: "Too many open streams for this poll or from this client (or too many requests)", content: { "application/json": { schema: ErrorResponse } } },
      503: { description: "Read tokens not configured, or the service is shutting down", content: { "application/json": { schema: ErrorResponse } } },
    },
  });

/** What the stream reports of a poll row now: its effective status (an expiry that passed counts). */
export function progressOf(poll: ReadSidePollRow, now: Date): PollProgress {
  const status = effectiveStatus(poll, now);
  return {
    pollId: poll.id,
    status,
    voteCount: poll.vote_count,
    maxResponses: poll.max_responses,
    completedAt: poll.completed_at ?? (status === "expired" ? poll.expires_at : null),
  };
}

type Refusal = { rule: "event-streams-per-poll" | "event-streams-per-ip" | "event-streams-per-instance"; limit: number; what: string };

/** Counts of open streams per poll and per client, taken before a stream starts and given back once when it ends. */
function streamSlots(settings: EventStreamSettings) {
  const perPoll = new Map<string, number>();
  const perClient = new Map<string, number>();
  let open = 0;
  const add = (map: Map<string, number>, key: string, delta: number) => {
    const next = (map.get(key) ?? 0) + delta;
    if (next > 0) map.set(key, next);
    else map.delete(key);
  };
  return {
    acquire(pollId: string, clientKey: string | undefined): { release: () => void } | { refused: Refusal } {
      if (open >= MAX_OPEN_STREAMS) return { refused: { rule: "event-streams-per-instance", limit: MAX_OPEN_STREAMS, what: "on this server" } };
      if ((perPoll.get(pollId) ?? 0) >= settings.maxPerPoll) {
        return { refused: { rule: "event-streams-per-poll", limit: settings.maxPerPoll, what: "for this poll" } };
      }
      if (clientKey !== undefined && (perClient.get(clientKey) ?? 0) >= settings.maxPerClientIp) {
        return { refused: { rule: "event-streams-per-ip", limit: settings.maxPerClientIp, what: "from your address" } };
      }
      open += 1;
      add(perPoll, pollId, 1);
      if (clientKey !== undefined) add(perClient, clientKey, 1);
      let released = false;
      return {
        release: () => {
          if (released) return;
          released = true;
          open -= 1;
          add(perPoll, pollId, -1);
          if (clientKey !== undefined) add(perClient, clientKey, -1);
        },
      };
    },
  };
}

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  // no-transform: a proxy must not compress or rewrite (and so buffer) the stream.
  "cache-control": "no-cache, no-transform",
  // nginx and some other reverse proxies buffer responses unless told not to.
  "x-accel-buffering": "no",
};

interface StreamArgs {
  pollId: string;
  first: PollProgress;
  seen: number | undefined;
  settings: EventStreamSettings;
  watch: ProgressWatch;
  now: () => Date;
  /** Either ends the stream (the client went away; the server shuts down). */
  endSignals: readonly (AbortSignal | undefined)[];
  release: () => void;
}

/**
 * The stream's bytes: the retry hint and the events the client has not seen, then the events of each
 * reading of the poll (or a heartbeat when there is nothing to say for a while), until the terminal event.
 * Every way it can end (terminal event, client gone, shutdown, a client that stopped reading) runs `end`
 * once: it stops watching, removes its listeners and gives its slot back, so nothing outlives it.
 */
function eventStream(args: StreamArgs): ReadableStream<Uint8Array> {
  const { settings } = args;
  const encoder = new TextEncoder();
  let end: ((how: "close" | "error" | "cancelled") => void) | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let seen = args.seen;
      let lastWriteAt = Date.now();
      let ended = false;
      let unwatch: (() => void) | undefined;
      const onAbort = () => end?.("close");
      const write = (text: string) => {
        controller.enqueue(encoder.encode(text));
        lastWriteAt = Date.now();
      };
      end = (how) => {
        if (ended) return;
        ended = true;
        unwatch?.();
        for (const signal of args.endSignals) signal?.removeEventListener("abort", onAbort);
        args.release();
        try {
          if (how === "close") controller.close();
          // Cuts the connection instead of waiting for a client that does not read.
          else if (how === "error") controller.error(new Error("event stream client stopped reading"));
        } catch {
          // Already closed or cancelled.
        }
      };
      /** The text of the events this reading brings, and whether the stream is over. */
      const eventsFor = (progress: PollProgress): { text: string; ended: boolean } => {
        const next = eventsAfter(seen, progress);
        seen = next.seen;
        return { text: next.events.map(encodeEvent).join(""), ended: next.ended };
      };

      const first = eventsFor(args.first);
      write(encodeRetry(settings.retryMs) + first.text);
      if (first.ended) return end("close");
      unwatch = args.watch.watch(args.pollId, (reading) => {
        if (ended) return;
        if (controller.desiredSize !== null && controller.desiredSize < -MAX_QUEUED_CHUNKS) return end?.("error");
        if (reading.kind === "gone") return end?.("close");
        if (reading.kind === "poll") {
          const next = eventsFor(progressOf(reading.poll, args.now()));
          if (next.text) write(next.text);
          if (next.ended) return end?.("close");
          if (next.text) return;
        }
        // Nothing new (or the read failed): a comment now and then. Never piled up behind unread ones.
        if (Date.now() - lastWriteAt >= settings.heartbeatMs && (controller.desiredSize ?? 1) > 0) write(encodeComment("keep-alive"));
      });
      for (const signal of args.endSignals) {
        if (signal?.aborted) return end("close");
        signal?.addEventListener("abort", onAbort, { once: true });
      }
    },
    cancel() {
      end?.("cancelled");
    },
  });
}

export function eventsRoutes(deps: EventsDeps): OpenAPIHono<AppEnv> {
  const router = createRouter();
  // The event data travel inside the stream: declared as components so clients can generate their types.
  router.openAPIRegistry.register("PollProgressEvent", ProgressEventData);
  router.openAPIRegistry.register("PollTerminalEvent", TerminalEventData);
  const settings: EventStreamSettings = { ...DEFAULT_EVENT_STREAM_SETTINGS, ...deps.eventStreams };
  const slots = streamSlots(settings);
  const watch = createProgressWatch({
    read: (pollId) => findReadSidePoll(deps.store.db, pollId),
    intervalMs: settings.readIntervalMs,
    shared: settings.sharedReads,
    log: deps.log,
  });
  const clientKey = (c: Context<AppEnv>) => {
    const ip = deps.clientIp?.(c);
    return ip === undefined ? undefined : rateLimitKeyOfIp(ip);
  };

  router.openapi(eventsRoute(deps.guards), async (c) => {
    const { id } = c.req.valid("param");
    const poll = await pollForReader(c, deps, id, { allowPublic: true });
    if (deps.shutdown?.aborted) {
      addResponseHeaders(c, { "retry-after": String(REFUSED_RETRY_AFTER_S) });
      throw new ApiError(503, "internal_error", "The service is shutting down: reconnect in a moment.");
    }
    const first = progressOf(poll, deps.now());
    const seen = resumePosition(c.req.header("last-event-id"), first);
    if (isFinal(first.status) && seen !== undefined && seen >= terminalId(first)) return c.body(null, 204);
    // HEAD runs this handler and drops the body unread: open no stream it would never cancel.
    if (c.req.raw.method === "HEAD") return c.body(null, 200, SSE_HEADERS);

    const slot = slots.acquire(id, clientKey(c));
    if ("refused" in slot) {
      const { rule, limit, what } = slot.refused;
      // The rate limits' headers and envelope; these count open streams, not requests per window.
      addResponseHeaders(c, { "x-ratelimit-limit": String(limit), "x-ratelimit-remaining": "0", "retry-after": String(REFUSED_RETRY_AFTER_S) });
      throw new ApiError(429, "rate_limited", `Too many open event streams ${what}: at most ${limit}. Close one, or retry after ${REFUSED_RETRY_AFTER_S} s.`, undefined, {
        limit,
        rule,
      });
    }
    const body = eventStream({
      pollId: id,
      first,
      seen,
      settings,
      watch,
      now: deps.now,
      endSignals: [c.req.raw.signal, deps.shutdown],
      release: slot.release,
    });
    return c.body(body, 200, SSE_HEADERS);
  });
  return router;
}
