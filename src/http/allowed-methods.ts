// The methods a known path answers, for the 405's Allow header: read off the app's own routes (not a
// list kept by hand), once, on the first request that needs it.
import type { RouterRoute } from "hono/types";
import { TrieRouter } from "hono/router/trie-router";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** `allowed(path)`: "GET, HEAD, POST"-style list of the methods routes declare for `path`; undefined when none. */
export function methodsByPath(routes: () => readonly RouterRoute[]): (path: string) => string | undefined {
  let router: TrieRouter<string> | undefined;
  const build = () => {
    const built = new TrieRouter<string>();
    // Middleware ("ALL") and wildcard routes answer any path: they say nothing about what a path supports.
    for (const route of routes()) {
      if (route.method === "ALL" || route.path.includes("*")) continue;
      built.add(route.method, route.path, route.method);
    }
    return built;
  };
  return (path) => {
    router ??= build();
    const found = new Set<string>();
    for (const method of METHODS) if (router.match(method, path)[0].length > 0) found.add(method);
    if (found.size === 0) return undefined;
    if (found.has("GET")) found.add("HEAD");
    return [...found].join(", ");
  };
}
