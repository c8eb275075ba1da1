// Workers: the static files of the human pages, for AppDeps.staticFiles. public/ is deployed as Workers
// static assets (wrangler.toml [assets]); a request for an existing file never reaches the Worker. The
// app routes what does reach it — page routes such as /polls/:id — here, mapped through `pageFileFor`
// and fetched from the ASSETS binding. Vendored browser builds from node_modules (no file system on
// Workers) are bundled with the Worker as modules by the entry and served from memory.
import type { Fetcher } from "@cloudflare/workers-types/latest";
import type { MiddlewareHandler } from "hono";
import { pageFileFor, VENDOR_PREFIX } from "./index";

export interface VendoredFile {
  body: string | Uint8Array<ArrayBuffer>;
  contentType: string;
}

/** `vendored`: request path (e.g. /vendor/idkit-core/4.3.0/idkit.global.js) → file. */
export function workersStaticFiles(assets: Fetcher, vendored: ReadonlyMap<string, VendoredFile> = new Map()): MiddlewareHandler {
  return async (c, next) => {
    const path = c.req.path;
    if (path.startsWith(`${VENDOR_PREFIX}/`)) {
      const file = vendored.get(path);
      if (!file) return next();
      c.res = new Response(file.body, { status: 200, headers: { "Content-Type": file.contentType } });
      return c.res;
    }
    const url = new URL(c.req.url);
    url.pathname = pageFileFor(path) ?? path;
    url.search = "";
    const head = c.req.method === "HEAD";
    const fetched = await assets.fetch(url.toString(), { method: head ? "HEAD" : "GET", headers: { accept: c.req.header("accept") ?? "*/*" } });
    if (fetched.status === 404) return next();
    // A fresh Response (the workers-types and web Response types are declared apart): headers of a
    // fetched one are immutable, and the app adds its own. Page files are small: read whole.
    const headers = new Headers();
    fetched.headers.forEach((value, name) => headers.set(name, value));
    const bodyless = head || fetched.status === 204 || fetched.status === 304;
    c.res = new Response(bodyless ? null : await fetched.arrayBuffer(), { status: fetched.status, headers });
    return c.res;
  };
}
