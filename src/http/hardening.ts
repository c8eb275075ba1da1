// Cross-cutting HTTP protections every response gets: a request id, security headers, a body size
// limit with a clear 413, and structured access logs (no headers, bodies or secrets).
import { randomUUID } from "node:crypto";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { errorBody } from "./errors";
import type { AppEnv } from "./app-env";
import type { AccessEntry } from "./logger";
import { applyHeaderBag, openHeaderBag } from "./response-headers";

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The security headers of a document (HTML page, script, image): the peers' set (X-Content-Type-Options,
 * X-Frame-Options, X-XSS-Protection, Referrer-Policy, HSTS, Permissions-Policy), hono's browser-isolation
 * defaults, and the pages' Content-Security-Policy.
 */
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

export type AccessLog = (entry: AccessEntry) => void;

const SAFE_REQUEST_ID = /^[\w\-=]{1,128}$/;

/** The client's own X-Request-Id when it is short and safe to log, else a fresh one. */
export function requestIdOrNew(header: string | string[] | undefined, fresh: () => string = randomUUID): string {
  return typeof header === "string" && SAFE_REQUEST_ID.test(header) ? header : fresh();
}

/**
 * The one middleware every request goes through first: a request id (a client's own X-Request-Id is
 * kept when it is short and safe), the peers' security headers, a 64 KB body limit with a clear 413
 * decided before the body is read, and one structured access line per request.
 *
 * One layer instead of five (each is an async hop through hono's compose), and the response headers are
 * gathered in a plain object (src/http/response-headers.ts) rather than set on `c.res` one by one: on a
 * small request the difference is most of the framework's cost (`npm run bench`, docs/performance.md).
 * No AsyncLocalStorage either: it taxes every promise of the process; log lines written while serving
 * a request carry its id explicitly (`requestIdOf(c)`).
 *
 * Body limit: decided from the headers when they say it all (GET/HEAD carry no body; a Content-Length
 * without chunking). hono's bodyLimit reads `c.req.raw.body`, which on @hono/node-server turns the
 * lightweight request into a full web Request with a body stream, so it only runs for chunked bodies,
 * which it counts as they stream.
 */
export function requestEdge(options: { https: boolean; accessLog?: AccessLog }): MiddlewareHandler<AppEnv> {
  const write = options.accessLog;
  let security: SecurityHeaderSets | undefined;
  const securityReady = securityHeaderSets(options).then((sets) => (security = sets));

  return async (c, next) => {
    const started = write ? performance.now() : 0;
    const id = requestIdOrNew(c.req.header("x-request-id"));
    c.set("requestId", id);
    const sets = security ?? (await securityReady);
    const bag = openHeaderBag(c, sets.everyResponse, id, sets.documentOnly);

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
export function requestIdOf(c: Context<AppEnv>): string | undefined {
  return c.get("requestId") as string | undefined;
}

/**
 * A JSON answer is data, never a document: it gets the peers' headers and a CSP that allows nothing
 * (OWASP's REST advice: `default-src 'none'; frame-ancestors 'none'`), which is stricter than the pages'
 * and is what a browser applies if someone opens an API URL directly. The headers that only mean something
 * for a document (the pages' CSP, Cross-Origin-Opener/Resource-Policy, Origin-Agent-Cluster,
 * X-DNS-Prefetch-Control, X-Download-Options, X-Permitted-Cross-Domain-Policies) go on everything else.
 * Leaving them off JSON makes every API response smaller.
 */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";
const PEER_HEADERS = [
  "x-content-type-options",
  "x-frame-options",
  "x-xss-protection",
  "referrer-policy",
  "strict-transport-security",
  "permissions-policy",
];

export interface SecurityHeaderSets {
  /** Every response, JSON or not (lower-case names). */
  everyResponse: Readonly<Record<string, string>>;
  /** Added to (and replacing) those on a response that is not JSON. */
  documentOnly: Readonly<Record<string, string>>;
}

/** Both sets, read once from securityHeaders(options) so the document set never differs from it. */
export async function securityHeaderSets(options: { https: boolean }): Promise<SecurityHeaderSets> {
  // Read off a response of hono's own middleware, so the sets never drift from securityHeaders().
  const probe = new Hono().use(securityHeaders(options)).get("/", (c) => c.body(null, 204));
  const { headers } = await probe.request("/");
  const everyResponse: Record<string, string> = { "content-security-policy": API_CONTENT_SECURITY_POLICY };
  const documentOnly: Record<string, string> = {};
  for (const [name, value] of headers.entries()) {
    if (PEER_HEADERS.includes(name)) everyResponse[name] = value;
    else documentOnly[name] = value;
  }
  return { everyResponse, documentOnly };
}
