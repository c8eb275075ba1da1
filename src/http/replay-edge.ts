// The Node edge's side of replay (src/http/replay.ts): in front of @hono/node-server, a request whose
// answer the app offered before — same method, URL, varying headers and body bytes, still in time — is
// answered here with those bytes, a request id of its own and its access line, without building a web
// Request or running the app. Everything else goes on to the app unchanged (a body the edge read to look
// it up goes with it as `rawBody`, which node-server reads instead of the stream).
//
// Why: the unpaid 402 probe and the quote are asked over and over by crawlers and agents, their bytes are
// fixed by the contract (~12 KB for the 402), and the framework's per-request work was half the cost of
// sending them (docs/performance.md). What a replay skips is only what gives the same answer anyway.
import type { IncomingMessage, ServerResponse } from "node:http";
import { BoundedMap } from "../lib/bounded-map";
import { requestIdOrNew, type AccessLog } from "./hardening";
import { replayOfferOf } from "./replay";

type NodeListener = (incoming: IncomingMessage, outgoing: ServerResponse) => unknown;

/** A body the edge reads to look it up is at most this big (an unpaid poll body is well under it). */
const MAX_KEYED_BODY_BYTES = 8 * 1024;
/** Answers kept per method; a client sending endless distinct bodies or URLs only churns them. */
const MAX_ANSWERS = 256;
/**
 * Paths known to offer answers, per method. The app routes some spellings of one path alike (percent-
 * encoded letters), so a client can make it offer under many paths: they churn too, never grow.
 */
const MAX_ROUTES = 64;

interface Kept {
  /** The route's varying headers this answer was keyed by (the very array the route holds). */
  vary: readonly string[];
  status: number;
  /**
   * The app's headers in its order, and the body's length, as node's flat [name, value, …] list: one per
   * answer, handed to writeHead as it is (node reads a list without walking an object's keys). Node reads
   * it synchronously, so the request id is written into its slot just before.
   */
  headers: string[];
  /** Where the request id's value sits in `headers`. */
  requestIdAt: number;
  /**
   * The body as the app's string: node joins it to the head and writes one chunk, where a Buffer would go
   * out as two through the stream's slower writev path.
   */
  body: string;
  untilMs: number;
}

export interface ReplayEdge {
  /** node:http's request listener: replays a kept answer, or hands the request to `next` (node-server's). */
  listener(next: NodeListener): NodeListener;
  /** After the app answered `incoming`: keeps the answer when the app offered it for replay. */
  keep(incoming: IncomingMessage, response: Response): void;
  /** Answers replayed so far, answers kept now, and paths known to offer them. */
  stats(): ReplayStats;
}

export interface ReplayStats {
  replayed: number;
  kept: number;
  routes: number;
}

type WithRawBody = IncomingMessage & { rawBody?: Buffer };

const pathOf = (url: string) => {
  const queryAt = url.indexOf("?");
  return queryAt === -1 ? url : url.slice(0, queryAt);
};

const withoutBody = (incoming: IncomingMessage) => {
  const length = incoming.headers["content-length"];
  return incoming.headers["transfer-encoding"] === undefined && (length === undefined || length === "0");
};

/**
 * For one method: same key ⇔ same URL, values of the route's varying headers (absent is its own value)
 * and body bytes. A route that varies by nothing and has no body is keyed by its URL as node parsed it:
 * no string is built to look it up.
 */
function keyOf(incoming: IncomingMessage, vary: readonly string[], body: Buffer | undefined): string {
  const url = incoming.url ?? "/";
  if (vary.length === 0 && body === undefined) return url;
  let key = url;
  for (const name of vary) {
    const value = incoming.headers[name];
    key += value === undefined ? "\n-" : `\n+${String(value)}`;
  }
  return body === undefined ? key : `${key}\n\n${body.toString("latin1")}`;
}

export function createReplayEdge(options: { accessLog?: AccessLog; now?: () => number } = {}): ReplayEdge {
  const now = options.now ?? Date.now;
  const write = options.accessLog;
  /** Path → the headers its answers vary by, per method: only paths that offered an answer are looked up. */
  const routes = { GET: new BoundedMap<string, readonly string[]>(MAX_ROUTES), POST: new BoundedMap<string, readonly string[]>(MAX_ROUTES) };
  const answers = { GET: new BoundedMap<string, Kept>(MAX_ANSWERS), POST: new BoundedMap<string, Kept>(MAX_ANSWERS) };
  /** The body read for a request handed on to the app, to key what the app offers for it. */
  const readBodies = new WeakMap<IncomingMessage, Buffer>();
  let replayed = 0;

  const replay = (incoming: IncomingMessage, outgoing: ServerResponse, answer: Kept, path: string, started: number) => {
    const requestId = requestIdOrNew(incoming.headers["x-request-id"]);
    answer.headers[answer.requestIdAt] = requestId;
    outgoing.writeHead(answer.status, answer.headers);
    outgoing.end(answer.body);
    replayed += 1;
    write?.({ requestId, method: incoming.method ?? "", path, status: answer.status, ms: Math.round((performance.now() - started) * 10) / 10 });
  };

  const answerOrPass = (
    incoming: IncomingMessage,
    outgoing: ServerResponse,
    next: NodeListener,
    kept: BoundedMap<string, Kept>,
    vary: readonly string[],
    path: string,
    body: Buffer | undefined,
    started: number,
  ) => {
    const key = keyOf(incoming, vary, body);
    const answer = kept.get(key);
    // Kept under other varying headers (the route changed them since): the key means something else now.
    // An answer that holds for good does not ask the app's clock (which may build a Date to answer).
    if (answer !== undefined && answer.vary === vary && (answer.untilMs === Number.POSITIVE_INFINITY || answer.untilMs > now())) {
      return replay(incoming, outgoing, answer, path, started);
    }
    if (answer !== undefined) kept.delete(key);
    if (body !== undefined) {
      (incoming as WithRawBody).rawBody = body;
      readBodies.set(incoming, body);
    }
    return next(incoming, outgoing);
  };

  return {
    listener: (next) => (incoming, outgoing) => {
      const method = incoming.method;
      if (method !== "GET" && method !== "POST") return next(incoming, outgoing);
      const byPath = routes[method];
      if (byPath.size === 0) return next(incoming, outgoing);
      const path = pathOf(incoming.url ?? "/");
      const vary = byPath.get(path);
      if (vary === undefined) return next(incoming, outgoing);
      const kept = answers[method];
      const started = write ? performance.now() : 0;
      if (method === "GET") {
        // A GET with a body is not what was offered: the app decides.
        if (!withoutBody(incoming)) return next(incoming, outgoing);
        return answerOrPass(incoming, outgoing, next, kept, vary, path, undefined, started);
      }
      const chunked = incoming.headers["transfer-encoding"] !== undefined;
      const length = incoming.headers["content-length"];
      const size = length === undefined ? Number.NaN : Number(length);
      if (chunked || !(size >= 0 && size <= MAX_KEYED_BODY_BYTES)) return next(incoming, outgoing);
      if (size === 0) return answerOrPass(incoming, outgoing, next, kept, vary, path, Buffer.alloc(0), started);
      // Done as soon as Content-Length bytes are in (node's parser holds a body to its length), not a tick later at "end".
      const chunks: Buffer[] = [];
      let received = 0;
      const aborted = () => outgoing.destroy();
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.byteLength;
        if (received < size) return;
        incoming.off("data", onData);
        incoming.off("error", aborted);
        answerOrPass(incoming, outgoing, next, kept, vary, path, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), started);
      };
      incoming.on("data", onData);
      // An aborted upload leaves nothing to answer; node's request timeout ends a stalled one.
      incoming.on("error", aborted);
    },

    keep(incoming, response) {
      const offer = replayOfferOf(response);
      if (offer === undefined) return;
      const method = incoming.method;
      if (method !== "GET" && method !== "POST") return;
      const byPath = routes[method];
      const path = pathOf(incoming.url ?? "/");
      let vary = byPath.get(path);
      if (vary === undefined || vary.join("\n") !== offer.vary.join("\n")) {
        vary = [...offer.vary];
        byPath.set(path, vary);
      }
      const body = readBodies.get(incoming);
      // A POST the edge did not read (the route's first offer) cannot be keyed: the next one will be. A GET
      // that came with a body is never looked up, so it is not kept either.
      if (method === "POST" && body === undefined) return;
      if (method === "GET" && !withoutBody(incoming)) return;
      const headers: string[] = [];
      // The offer carries the id of the request it answered (src/http/replay.ts): each replay puts its own there.
      let requestIdAt = -1;
      for (const name in offer.headers) {
        if (name === "content-length") continue;
        if (name === "x-request-id") requestIdAt = headers.length + 1;
        headers.push(name, offer.headers[name]!);
      }
      if (requestIdAt === -1) return;
      headers.push("content-length", String(Buffer.byteLength(offer.body, "utf8")));
      answers[method].set(keyOf(incoming, vary, body), { vary, status: offer.status, headers, requestIdAt, body: offer.body, untilMs: offer.untilMs ?? Number.POSITIVE_INFINITY });
    },

    stats: () => ({ replayed, kept: answers.GET.size + answers.POST.size, routes: routes.GET.size + routes.POST.size }),
  };
}
