// Who may call what from a browser on another origin. Agents running in a browser must be able to
// quote, pay and read (and to see the x402 headers): every read is open, and a write is open only when
// its route says so (RouteGuards.openToBrowsers plus an OPTIONS route with RouteGuards.preflight). The
// voter-side writes are only ever called by our own pages: they answer no Access-Control-Allow-Origin, so
// other origins' requests fail in the browser, and a new write endpoint is closed until opened on purpose.
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "./app-env";
import { addResponseHeaders } from "./response-headers";

/** Headers a browser-based agent sends, and the ones it must be able to read. */
// @x402/fetch sends an Access-Control-Expose-Headers *request* header with the paid retry: without it in
// the list, the preflight of a stock browser agent's payment fails.
export const CORS_ALLOW_HEADERS = [
  "Content-Type",
  "PAYMENT-SIGNATURE",
  "X-PAYMENT",
  "X-Read-Token",
  "Authorization",
  "SIGN-IN-WITH-X",
  "Last-Event-ID",
  "Access-Control-Expose-Headers",
];
export const CORS_EXPOSE_HEADERS = [
  "PAYMENT-REQUIRED",
  "PAYMENT-RESPONSE",
  "X-PAYMENT-RESPONSE",
  "X-RateLimit-Limit",
  "X-RateLimit-Remaining",
  "X-RateLimit-Reset",
  "Retry-After",
];

const openPreflight = cors({
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

const isRead = (method: string) => method === "GET" || method === "HEAD";

// The headers hono's cors() sets, gathered with the edge's (src/http/response-headers.ts) rather than set
// on `c.res`: touching c.res before the route runs makes hono copy the route's response into a new one.
export const openWriteCors: MiddlewareHandler<AppEnv> = (c, next) => {
  addResponseHeaders(c, OPEN_RESPONSE_HEADERS);
  return next();
};

/** The OPTIONS route of an open write. */
export const openWritePreflight: MiddlewareHandler<AppEnv> = (c, next) => openPreflight(c, next);

/** Mounted before every route: reads (and their preflights) are open to every origin. */
export const openReads: MiddlewareHandler<AppEnv> = (c, next) => {
  if (isRead(c.req.method)) return openWriteCors(c, next);
  if (c.req.method === "OPTIONS" && isRead((c.req.header("access-control-request-method") ?? "GET").toUpperCase())) {
    return openPreflight(c, next);
  }
  return next();
};
