// Cross-cutting HTTP protections every response gets: a request id, security headers, a body size
// limit with a clear 413, and structured access logs (no headers, bodies or secrets).
import { randomUUID } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { errorBody } from "./errors";
import { applyHeaderBag, openHeaderBag } from "./response-headers";

export const MAX_BODY_BYTES = 64 * 1024;

/** The peers' security headers on every response, plus a strict CSP for HTML pages. */
export function securityHeaders(options: { https: boolean }): MiddlewareHandler {
  return secureHeaders({
    xContentTypeOptions: "nosniff",
    xFrameOptions: "DENY",
    xXssProtection: "1; mode=block",
    referrerPolicy: "strict-origin-when-cross-origin",
    strictTransportSecurity: options.https ? "max-age=31536000; includeSubDomains" : false,
    permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
    // Agents' UIs (x402scan, bazaar) show our icon cross-origin: resources may be embedded anywhere.
    crossOriginResourcePolicy: "cross-origin",
    crossOriginOpenerPolicy: "same-origin",
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      imgSrc: ["'self'", "https:", "data:"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      // IDKit (World ID on the poll page) compiles WebAssembly ('wasm-unsafe-eval' allows that, never
      // JS eval) and reaches World App through Worldcoin's bridge.
      scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
      connectSrc: ["'self'", "https://bridge.worldcoin.org"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      objectSrc: ["'none'"],
    },
  });
}

const tooLarge = (c: Context) =>
  c.json(errorBody("payload_too_large", `The request body is larger than ${MAX_BODY_BYTES / 1024} KB.`), 413);
const streamingBodyLimit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge });

export type AccessLog = (entry: Record<string, unknown>) => void;

const SAFE_REQUEST_ID = /^[\w\-=]{1,128}$/;

/**
 * The one middleware every request goes through first: a request id (a client's own X-Request-Id is
 * kept when it is short and safe), the peers' security headers, a 64 KB body limit with a clear 413
 * decided before the body is read, and one structured access line per request.
 *
 * One layer instead of five (each is an async hop through hono's compose), and the response headers are
 * gathered in a plain object (src/http/response-headers.ts) rather than set on `c.res` one by one: on a
 * small request the difference is most of the framework's cost (issue 8, measured by `npm run bench`).
 * No AsyncLocalStorage either: it taxes every promise of the process; log lines written while serving
 * a request carry its id explicitly (`requestIdOf(c)`).
 *
 * Body limit: decided from the headers when they say it all (GET/HEAD carry no body; a Content-Length
 * without chunking). hono's bodyLimit reads `c.req.raw.body`, which on @hono/node-server turns the
 * lightweight request into a full web Request with a body stream, so it only runs for chunked bodies,
 * which it counts as they stream.
 */
export function requestEdge(options: { https: boolean; accessLog?: AccessLog }): MiddlewareHandler {
  const write = options.accessLog;
  let security: Record<string, string> | undefined;
  const securityReady = securityHeaderRecord(options).then((record) => (security = record));

  return async (c, next) => {
    const started = write ? performance.now() : 0;
    let id = c.req.header("x-request-id");
    if (id === undefined || !SAFE_REQUEST_ID.test(id)) id = randomUUID();
    c.set("requestId" as never, id as never);
    const bag = openHeaderBag(c, security ?? (await securityReady), id);

    const method = c.req.method;
    if (method !== "GET" && method !== "HEAD") {
      const length = c.req.header("content-length");
      if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
        if (Number.parseInt(length, 10) > MAX_BODY_BYTES) c.res = tooLarge(c);
        else await next();
      } else {
        const res = await streamingBodyLimit(c, next);
        if (res instanceof Response) c.res = res;
      }
    } else {
      await next();
    }

    applyHeaderBag(c, bag);
    write?.({ requestId: id, method, path: c.req.path, status: c.res.status, ms: Math.round((performance.now() - started) * 10) / 10 });
  };
}

/** The request id requestEdge gave this request (for log lines written while serving it). */
export function requestIdOf(c: Context): string | undefined {
  return c.get("requestId" as never) as string | undefined;
}

/** The headers securityHeaders(options) sets (lower-case names), read once from it so the two never differ. */
async function securityHeaderRecord(options: { https: boolean }): Promise<Record<string, string>> {
  const headers = new Headers();
  await securityHeaders(options)({ res: { headers } } as never, async () => {});
  return Object.fromEntries(headers.entries());
}
