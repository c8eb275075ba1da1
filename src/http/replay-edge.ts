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
/** Answers kept; a client sending endless distinct bodies only churns them. */
const MAX_ENTRIES = 256;

interface Kept {
  status: number;
  /**
   * The app's headers in its order, and the body's length. One record per answer, handed to writeHead
   * as it is: node reads it synchronously, so the request id is written into it just before.
   */
  headers: Record<string, string>;
  body: Buffer;
  untilMs: number;
}

export interface ReplayEdge {
  /** node:http's request listener: replays a kept answer, or hands the request to `next` (node-server's). */
  listener(next: NodeListener): NodeListener;
  /** After the app answered `incoming`: keeps the answer when the app offered it for replay. */
  keep(incoming: IncomingMessage, response: Response): void;
  stats(): { replayed: number; kept: number };
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

/** Same key ⇔ same method, URL, values of the varying headers (absent is its own value) and body bytes. */
function keyOf(incoming: IncomingMessage, vary: readonly string[], body: Buffer | undefined): string {
  let key = `${incoming.method} ${incoming.url}`;
  for (const name of vary) {
    const value = incoming.headers[name];
    key += value === undefined ? "\n-" : `\n+${String(value)}`;
  }
  return body === undefined ? key : `${key}\n\n${body.toString("latin1")}`;
}

export function createReplayEdge(options: { accessLog?: AccessLog; now?: () => number } = {}): ReplayEdge {
  const now = options.now ?? Date.now;
  const write = options.accessLog;
  /** "METHOD path" → the headers its offered answers vary by: only such routes are looked up. */
  const varyByRoute = new Map<string, readonly string[]>();
  const kept = new BoundedMap<string, Kept>(MAX_ENTRIES);
  /** The body read for a request handed on to the app, to key what the app offers for it. */
  const readBodies = new WeakMap<IncomingMessage, Buffer>();
  let replayed = 0;

  const replay = (incoming: IncomingMessage, outgoing: ServerResponse, answer: Kept, started: number) => {
    const requestId = requestIdOrNew(incoming.headers["x-request-id"]);
    answer.headers["x-request-id"] = requestId;
    outgoing.writeHead(answer.status, answer.headers);
    outgoing.end(answer.body);
    replayed += 1;
    write?.({ requestId, method: incoming.method, path: pathOf(incoming.url ?? "/"), status: answer.status, ms: Math.round((performance.now() - started) * 10) / 10 });
  };

  const answerOrPass = (incoming: IncomingMessage, outgoing: ServerResponse, next: NodeListener, vary: readonly string[], body: Buffer | undefined, started: number) => {
    const key = keyOf(incoming, vary, body);
    const answer = kept.get(key);
    if (answer !== undefined && answer.untilMs > now()) return replay(incoming, outgoing, answer, started);
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
      const vary = varyByRoute.get(`${method} ${pathOf(incoming.url ?? "/")}`);
      if (vary === undefined) return next(incoming, outgoing);
      const started = write ? performance.now() : 0;
      if (method === "GET") {
        // A GET with a body is not what was offered: the app decides.
        if (!withoutBody(incoming)) return next(incoming, outgoing);
        return answerOrPass(incoming, outgoing, next, vary, undefined, started);
      }
      const chunked = incoming.headers["transfer-encoding"] !== undefined;
      const length = incoming.headers["content-length"];
      const size = length === undefined ? Number.NaN : Number(length);
      if (chunked || !(size >= 0 && size <= MAX_KEYED_BODY_BYTES)) return next(incoming, outgoing);
      if (size === 0) return answerOrPass(incoming, outgoing, next, vary, Buffer.alloc(0), started);
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
        answerOrPass(incoming, outgoing, next, vary, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), started);
      };
      incoming.on("data", onData);
      // An aborted upload leaves nothing to answer; node's request timeout ends a stalled one.
      incoming.on("error", aborted);
    },

    keep(incoming, response) {
      const offer = replayOfferOf(response);
      if (offer === undefined) return;
      const method = incoming.method;
      const route = `${method} ${pathOf(incoming.url ?? "/")}`;
      const known = varyByRoute.get(route);
      if (known === undefined || known.join("\n") !== offer.vary.join("\n")) varyByRoute.set(route, offer.vary);
      const body = readBodies.get(incoming);
      // A POST the edge did not read (the route's first offer) cannot be keyed: the next one will be. A GET
      // that came with a body is never looked up, so it is not kept either.
      if (method === "POST" && body === undefined) return;
      if (method === "GET" && !withoutBody(incoming)) return;
      if (method !== "GET" && method !== "POST") return;
      const bytes = Buffer.from(offer.body, "utf8");
      const headers: Record<string, string> = {};
      for (const name in offer.headers) headers[name] = offer.headers[name]!;
      headers["content-length"] = String(bytes.byteLength);
      kept.set(keyOf(incoming, offer.vary, body), { status: offer.status, headers, body: bytes, untilMs: offer.untilMs ?? Number.POSITIVE_INFINITY });
    },

    stats: () => ({ replayed, kept: kept.size }),
  };
}
