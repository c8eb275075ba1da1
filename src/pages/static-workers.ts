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
    const fetched = (await assets.fetch(url.toString(), {
      method: c.req.method === "HEAD" ? "HEAD" : "GET",
      headers: { accept: c.req.header("accept") ?? "*/*" },
    })) as unknown as Response;
    if (fetched.status === 404) return next();
    // A fresh Response: headers of a fetched one are immutable, and the app adds its own.
    c.res = new Response(fetched.body, { status: fetched.status, headers: new Headers(fetched.headers) });
    return c.res;
  };
}
