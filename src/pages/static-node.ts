// Node: the static files of the human pages, for AppDeps.staticFiles. public/ by request path (page
// routes mapped to their HTML file), and the vendored browser builds (VENDORED) straight from
// node_modules under /vendor/<name>/<installed version>/, so nothing generated is committed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import type { MiddlewareHandler } from "hono";
import { projectPath } from "../project-paths";
import { pageFileFor, VENDOR_PREFIX, VENDORED } from "./index";

export const PUBLIC_DIR = `${projectPath("public")}/`;

/** The installed root directory and version of an npm package (whatever its `exports` allow). */
export function installedPackage(packageName: string): { root: string; version: string } {
  const require = createRequire(import.meta.url);
  // Exports maps rarely include package.json: resolve the entry, then walk up to the package root.
  let dir = dirname(require.resolve(packageName));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version: string };
      if (manifest.name === packageName) return { root: dir, version: manifest.version };
    } catch {
      /* keep walking up */
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package.json of ${packageName}`);
    dir = parent;
  }
}

/** URL path prefix → handler for each vendored package, at its installed version. */
export function vendoredRoutes(): { prefix: string; files: readonly string[]; serve: MiddlewareHandler }[] {
  return VENDORED.map((vendored) => {
    const { root, version } = installedPackage(vendored.packageName);
    const prefix = `${VENDOR_PREFIX}/${vendored.name}/${version}/`;
    return {
      prefix,
      files: vendored.files,
      serve: serveStatic({ root: join(root, vendored.dir), rewriteRequestPath: (path) => path.slice(prefix.length - 1) }),
    };
  });
}

export function nodeStaticFiles(): MiddlewareHandler {
  const publicFiles = serveStatic({ root: PUBLIC_DIR, rewriteRequestPath: (path) => pageFileFor(path) ?? path });
  const vendored = vendoredRoutes();
  return async (c, next) => {
    const path = c.req.path;
    if (path.startsWith(`${VENDOR_PREFIX}/`)) {
      // Only the listed files of the installed version; the rest of node_modules stays out of reach.
      const route = vendored.find((v) => path.startsWith(v.prefix) && v.files.includes(path.slice(v.prefix.length)));
      return route ? route.serve(c, next) : next();
    }
    return publicFiles(c, next);
  };
}
