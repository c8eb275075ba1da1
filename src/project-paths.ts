// Files the Node service reads at run time (public/, the SQL migrations) by their place in the project,
// so the same code finds them whether it runs from src/ (tsx: tests, scripts) or from the bundle
// `npm start` builds (dist/server.mjs): the project root is the nearest folder up with a package.json.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findProjectRoot(from: string): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}: run the service from its project folder`);
    dir = parent;
  }
}

export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

/** An absolute path inside the project, e.g. projectPath("public", "favicon.ico"). */
export function projectPath(...segments: string[]): string {
  return join(PROJECT_ROOT, ...segments);
}
