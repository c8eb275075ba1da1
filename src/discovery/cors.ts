// Who may call what from a browser on another origin. Agents running in a browser must be able to
// quote, pay and read (and to see the x402 headers); the voter-side writes are only ever called by our
// own pages, so they answer no Access-Control-Allow-Origin and other origins' requests fail in the browser.
//
// Rules are tried in order; the first whose method and path match decides. A write that no rule
// names stays same-origin, so a new write endpoint is closed until someone opens it here on purpose.
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { VOTER_WRITE_PATHS } from "../http/request-kinds";
import { addResponseHeaders } from "../http/response-headers";

export type CorsAccess = "open" | "same-origin";

const READS = ["GET", "HEAD"] as const;
const WRITES = ["POST", "PUT", "PATCH", "DELETE"] as const;
const ANY = [...READS, ...WRITES] as const;

interface CorsRule {
  methods: readonly string[];
  path: RegExp;
  access: CorsAccess;
  why: string;
}

export const CORS_RULES: readonly CorsRule[] = [
  // Voters (our own pages only).
  // The paths are the rate limits' voter writes too (src/http/request-kinds.ts).
  { methods: ANY, path: VOTER_WRITE_PATHS.worldIdRequest, access: "same-origin", why: "World ID request for a voter" },
  { methods: WRITES, path: VOTER_WRITE_PATHS.votes, access: "same-origin", why: "casting a vote" },
  { methods: WRITES, path: VOTER_WRITE_PATHS.voterAccount, access: "same-origin", why: "voter account writes" },
  // Agents (any origin).
  { methods: ["POST"], path: /^\/api\/v1\/polls\/?$/, access: "open", why: "the paid endpoint" },
  { methods: ["POST"], path: /^\/api\/v1\/polls\/[^/]+\/read-token\/?$/, access: "open", why: "read-token recovery by the paying wallet" },
  { methods: READS, path: /^\//, access: "open", why: "public reads: quote, polls, results, votes, discovery documents" },
];

/** The access a request with this method (for a preflight: the requested method) and path gets. */
export function corsAccess(method: string, path: string): CorsAccess {
  const upper = method.toUpperCase();
  const rule = CORS_RULES.find((r) => r.methods.includes(upper) && r.path.test(path));
  return rule?.access ?? "same-origin";
}

/** Headers a browser-based agent sends, and the ones it must be able to read. */
export const CORS_ALLOW_HEADERS = ["Content-Type", "PAYMENT-SIGNATURE", "X-PAYMENT", "X-Read-Token", "Authorization"];
export const CORS_EXPOSE_HEADERS = [
  "PAYMENT-REQUIRED",
  "PAYMENT-RESPONSE",
  "X-PAYMENT-RESPONSE",
  "X-RateLimit-Limit",
  "X-RateLimit-Remaining",
  "X-RateLimit-Reset",
  "Retry-After",
];

const openCors = cors({
  origin: "*",
  allowMethods: ["GET", "HEAD", "POST", "OPTIONS"],
  allowHeaders: CORS_ALLOW_HEADERS,
  exposeHeaders: CORS_EXPOSE_HEADERS,
  maxAge: 86_400,
});

const OPEN_RESPONSE_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": CORS_EXPOSE_HEADERS.join(","),
};

/** Mount before every route: answers open preflights itself and adds the CORS headers to open responses. */
export function corsPolicy(): MiddlewareHandler {
  return async (c, next) => {
    const preflight = c.req.method === "OPTIONS";
    const method = preflight ? (c.req.header("access-control-request-method") ?? "GET") : c.req.method;
    if (corsAccess(method, c.req.path) !== "open") return next();
    if (preflight) return openCors(c, next);
    // The headers hono's cors() sets, gathered with the edge's (src/http/response-headers.ts) rather than
    // set on `c.res`: touching c.res before the route runs makes hono copy the route's response into a
    // new one on every request.
    addResponseHeaders(c, OPEN_RESPONSE_HEADERS);
    return next();
  };
}
