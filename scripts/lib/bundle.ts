// Bundles a Node entry point exactly as `npm run build` bundles the service (the package.json "build"
// command, with another entry and output file): the tests that start the service as a process and the
// bench run what `npm start` runs, and the flags live in one place.
import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { delimiter, join, relative } from "node:path";
import { PROJECT_ROOT } from "../../src/project-paths";

const NPM_ENTRY = "src/main.ts";
const NPM_OUTFILE = "--outfile=dist/server.mjs";

/** Writes the bundle of `entry` (default: the service) to `outfile`, which must lie inside the project. */
export function bundleLikeNpmBuild(outfile: string, entry = NPM_ENTRY): void {
  const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const command = manifest.scripts.build;
  if (!command?.includes(` ${NPM_ENTRY} `) || !command.includes(NPM_OUTFILE)) {
    throw new Error(`package.json "build" no longer bundles ${NPM_ENTRY} to ${NPM_OUTFILE}: update scripts/lib/bundle.ts`);
  }
  // Inside the project, so that the bundle finds public/ and the migrations (src/project-paths.ts).
  if (relative(PROJECT_ROOT, outfile).startsWith("..")) throw new Error(`${outfile} is outside the project`);
  execSync(command.replace(` ${NPM_ENTRY} `, ` ${JSON.stringify(entry)} `).replace(NPM_OUTFILE, `--outfile=${JSON.stringify(outfile)}`), {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PATH: `${join(PROJECT_ROOT, "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}` },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

/** The node flags package.json "start" runs the bundle with. */
export const START_NODE_FLAGS = ["--enable-source-maps"];
