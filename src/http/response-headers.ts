// The headers the edge middlewares give every response (request id, security headers, CORS, rate-limit
// counters), gathered per request in ONE plain object instead of being set one by one on `c.res`.
//
// Why: on @hono/node-server a Response built with a plain header record is written straight to the
// socket, while touching `response.headers` turns it into a WHATWG Headers object that validates, copies
// and sorts every name and value in JavaScript — for a 402 that includes the large PAYMENT-REQUIRED, and
// it was the largest single cost of answering a challenge. Hot routes answer through
// `respond()`, which builds the response once with every header; any other response gets the gathered
// headers set by requestEdge after the route ran, as before.
//
// Writers add their headers BEFORE calling next(): once a route has answered through respond(), later
// additions could not reach the response.
//
// Two sets of security headers: every response gets the API set; a response that is not JSON (an HTML
// page, a script, an image) also gets the document set on top (its full Content-Security-Policy replaces
// the API's `default-src 'none'`). See securityHeaderSets in src/http/hardening.ts.
import type { Context, TypedResponse } from "hono";
import type { JSONParsed } from "hono/utils/types";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "./app-env";
import { attachReplayOffer, type ReplayTerms } from "./replay";

export interface HeaderBag {
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Added (and winning) when the response is not JSON. */
  documentOnly: Readonly<Record<string, string>>;
  /** The response respond() built with these headers (a middleware may still replace it). */
  builtInto: Response | undefined;
  /** Set by offerReplay(): respond() lets the Node edge send this answer again (src/http/replay.ts). */
  replay?: ReplayTerms;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** application/json, or a structured +json type (problem+json…): what the API answers with. */
export function isJsonContentType(contentType: string | null | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(";", 1)[0]!.trim().toLowerCase();
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

// Header records are built by copying into a fresh object literal: adding keys to an object made by
// spread syntax was far slower (docs/performance.md).
function copyInto(target: Record<string, string>, source: Readonly<Record<string, string>>): Record<string, string> {
  for (const name in source) target[name] = source[name]!;
  return target;
}

/**
 * Starts the request's header bag (requestEdge) with the headers every response gets, and those only a
 * non-JSON response gets.
 */
export function openHeaderBag(
  c: Context<AppEnv>,
  initial: Readonly<Record<string, string>>,
  requestId: string,
  documentOnly: Readonly<Record<string, string>> = NO_HEADERS,
): HeaderBag {
  const headers = copyInto({}, initial);
  headers["x-request-id"] = requestId;
  const bag: HeaderBag = { headers, documentOnly, builtInto: undefined };
  c.set("responseHeaders", bag);
  return bag;
}

/** Adds headers (lower-case names) for this request's response, whatever route answers it. */
export function addResponseHeaders(c: Context<AppEnv>, headers: Record<string, string>): void {
  const bag = c.get("responseHeaders") as HeaderBag | undefined;
  if (bag) {
    copyInto(bag.headers, headers);
    // Added after respond() answered: requestEdge sets them all on the response the usual way.
    bag.builtInto = undefined;
    return;
  }
  // No edge middleware (a router mounted on its own, in a test): hono's own prepared headers.
  for (const name in headers) c.header(name, headers[name]);
}

/**
 * The response of a hot route: status, a string body and its own headers (lower-case names), with the
 * request's gathered headers, built in one go. Same bytes on the wire as c.body(...) plus requestEdge.
 */
export function respond(c: Context<AppEnv>, status: ContentfulStatusCode, body: string, headers: Record<string, string>): Response {
  const bag = c.get("responseHeaders") as HeaderBag | undefined;
  if (!bag) return c.body(body, status, headers);
  // The edge's headers win, as they do when requestEdge sets them after the route.
  const all = copyInto(copyInto({}, headers), bag.headers);
  if (!isJsonContentType(headers["content-type"])) copyInto(all, bag.documentOnly);
  const response = new Response(body, { status, headers: all });
  bag.builtInto = response;
  // A rate limit that counted this request put its headers here: such an answer is never replayed.
  if (bag.replay && all["x-ratelimit-limit"] === undefined) attachReplayOffer(response, { ...bag.replay, status, headers: all, body });
  return response;
}

/** requestEdge, after the route: puts the gathered headers on the response unless respond() built it. */
export function applyHeaderBag(c: Context<AppEnv>, bag: HeaderBag): void {
  if (c.res === bag.builtInto) return;
  const headers = c.res.headers;
  for (const name in bag.headers) headers.set(name, bag.headers[name]!);
  if (!isJsonContentType(headers.get("content-type"))) {
    for (const name in bag.documentOnly) headers.set(name, bag.documentOnly[name]!);
  }
  headers.delete("x-powered-by");
}

/** JSON text known to be the serialisation of a T (made only by `serializeJson`), so it can be kept and sent again. */
declare const jsonOf: unique symbol;
export type JsonText<T> = string & { readonly [jsonOf]: T };

export function serializeJson<T>(value: T): JsonText<T> {
  return JSON.stringify(value) as JsonText<T>;
}

const JSON_CONTENT = { "content-type": "application/json" };

/**
 * A route's typed JSON answer from text serialised once (a cache hit sends the same bytes without
 * serialising again), built with the request's gathered headers in one go (respond()).
 */
export function respondJson<T, S extends ContentfulStatusCode>(c: Context<AppEnv>, status: S, json: JsonText<T>): Response & TypedResponse<JSONParsed<T>, S, "json"> {
  // The one place the typed-response brand is asserted: `json` is T's serialisation by construction.
  return respond(c, status, json, JSON_CONTENT) as Response & TypedResponse<JSONParsed<T>, S, "json">;
}
