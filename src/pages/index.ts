// The human pages: the voter feed, a poll's voting page, the owner's results page and the
// rewards page. They are static files in public/ (plain HTML, CSS and ES modules, no build step) that
// call the JSON API under /api/v1; this module only routes to them and sets their cache headers.
//
// The files themselves come from `staticFiles`, a platform handler that serves a file by request path
// after mapping page routes through `pageFileFor` (Node: serveStatic in ./static-node.ts; Workers: the
// ASSETS binding). The app never touches the file system itself. Without it the pages answer 404.
import { Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/app-env";

/**
 * Browser builds served straight from installed npm packages at /vendor/<name>/<version>/<file> (no
 * copy in the repository, no CDN). Only the files listed here are reachable.
 */
export const VENDOR_PREFIX = "/vendor";
export interface VendoredPackage {
  /** URL segment. */
  name: string;
  /** npm package. */
  packageName: string;
  /** Files under the package directory `dir`. */
  dir: string;
  files: readonly string[];
}
export const VENDORED: readonly VendoredPackage[] = [
  // IDKit's script-tag build (window.IDKit) and the wasm it fetches from beside itself.
  { name: "idkit-core", packageName: "@worldcoin/idkit-core", dir: "dist", files: ["idkit.global.js", "idkit_wasm_bg.wasm"] },
  // QR codes of the World App link for desktop visitors (ES module, no dependencies).
  { name: "uqr", packageName: "uqr", dir: "dist", files: ["index.mjs"] },
];

/**
 * What the production World ID path (IDKit in the browser) needs from the Content-Security-Policy beyond
 * `script-src 'self'` and `connect-src 'self'`: compiling IDKit's WebAssembly ('wasm-unsafe-eval' allows
 * WebAssembly only, never JS eval) and talking to the Wallet Bridge that relays the request to World App.
 * Without them the poll page says World ID cannot start; local mode (simulated World ID) needs neither.
 */
export const PAGES_CSP_NEEDS = {
  scriptSrc: ["'wasm-unsafe-eval'"],
  connectSrc: ["https://bridge.worldcoin.org"],
} as const;

const HTML_CACHE = "no-cache";
/** Page scripts and styles are not content-hashed: short-lived, so a deploy is picked up within minutes. */
const ASSET_CACHE = "public, max-age=300";
/** Vendored builds live under their package version: immutable. */
const VENDOR_CACHE = "public, max-age=31536000, immutable";

/** Page routes and their HTML file in public/. */
export const PAGE_ROUTES = [
  { route: "/", file: "/index.html", what: "open polls (the voter feed)" },
  { route: "/polls/:id", file: "/poll.html", what: "one poll: choose, verify with World ID, vote" },
  { route: "/polls/:id/results", file: "/results.html", what: "results for the poll's owner (read token) or public results" },
  { route: "/rewards", file: "/rewards.html", what: "rewards accrued by a payout address" },
] as const;

/** The file in public/ that a page route is served from; undefined for any other path. */
export function pageFileFor(path: string): string | undefined {
  if (path === "/") return "/index.html";
  if (path === "/rewards") return "/rewards.html";
  if (/^\/polls\/[^/]+\/results$/.test(path)) return "/results.html";
  if (/^\/polls\/[^/]+$/.test(path)) return "/poll.html";
  return undefined;
}

export interface PagesDeps {
  staticFiles: MiddlewareHandler | undefined;
}

function withCache(cacheControl: string, serve: MiddlewareHandler): MiddlewareHandler {
  return async (c, next) => {
    const served = await serve(c, next);
    // A file: its Response. No such file: the handler called next() (→ the JSON 404) and returned no Response.
    if (!(served instanceof Response)) return;
    if (served.status === 200 || served.status === 206 || served.status === 304) served.headers.set("Cache-Control", cacheControl);
    return served;
  };
}

export function pagesRoutes(deps: PagesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const files = deps.staticFiles;
  if (!files) return app;
  const page = withCache(HTML_CACHE, files);
  for (const { route } of PAGE_ROUTES) app.get(route, page);
  app.get("/polls", (c) => c.redirect("/", 302));
  app.get("/assets/*", withCache(ASSET_CACHE, files));
  app.get(`${VENDOR_PREFIX}/*`, withCache(VENDOR_CACHE, files));
  return app;
}
