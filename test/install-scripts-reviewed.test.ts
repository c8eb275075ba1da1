// Installs that keep working: npm blocks the install scripts of dependencies that package.json's
// `allowScripts` does not cover (npm 11 still runs them with a warning; it documents blocking as the
// default), and a blocked better-sqlite3 is never built, so `npm start` fails. Every dependency in the
// lockfile that has an install script must therefore be approved (true) or deliberately denied (false):
// a new one fails here until someone decides (`npm install-scripts approve|deny <pkg>`).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = process.cwd();
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { allowScripts?: Record<string, boolean> };
const lockfile = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
  packages: Record<string, { name?: string; version?: string; hasInstallScript?: boolean }>;
};
const allowScripts = manifest.allowScripts ?? {};

/** The scripts the project cannot do without, and why. */
const NEEDED: Record<string, string> = {
  "better-sqlite3": "compiles the SQLite binding (node-gyp): without it the service cannot open its database",
  esbuild: "checks its platform binary (and fetches it when the optional package is missing): builds and tsx use it",
  "@foundry-rs/anvil": "puts the anvil binary in place when its platform package is missing: local mode's chain",
  workerd: "checks its platform binary (fetches it when missing): the Workers tests and `wrangler` run it",
};

interface ScriptedPackage {
  name: string;
  version: string;
  where: string;
}

const scripted: ScriptedPackage[] = Object.entries(lockfile.packages)
  .filter(([where, entry]) => where !== "" && entry.hasInstallScript === true)
  .map(([where, entry]) => ({
    name: entry.name ?? where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length),
    version: entry.version ?? "",
    where,
  }));

/** An allowScripts key is a bare name or `name@1.2.3 || 1.2.4` (npm allows no ranges there). */
function parseKey(key: string): { name: string; versions?: string[] } {
  const at = key.indexOf("@", 1);
  if (at === -1) return { name: key };
  const versions = key
    .slice(at + 1)
    .split("||")
    .map((version) => version.trim());
  return versions.every((version) => version === "" || version === "*") ? { name: key.slice(0, at) } : { name: key.slice(0, at), versions };
}

function decisionFor(pkg: ScriptedPackage): boolean | undefined {
  for (const [key, allowed] of Object.entries(allowScripts)) {
    const { name, versions } = parseKey(key);
    if (name === pkg.name && (versions === undefined || versions.includes(pkg.version))) return allowed;
  }
  return undefined;
}

describe("dependency install scripts are all reviewed in package.json's allowScripts", () => {
  it("the lockfile lists the packages with install scripts (the check below has something to check)", () => {
    expect(scripted.map((pkg) => pkg.name)).toContain("better-sqlite3");
  });

  it("every dependency with an install script is approved or denied, none would be skipped silently", () => {
    const unreviewed = scripted.filter((pkg) => decisionFor(pkg) === undefined).map((pkg) => `${pkg.name}@${pkg.version} (${pkg.where})`);
    expect(
      unreviewed,
      "Review these install scripts, then `npm install-scripts approve <pkg>` or `npm install-scripts deny <pkg>`",
    ).toEqual([]);
  });

  it("the scripts the project needs are approved", () => {
    for (const [name, why] of Object.entries(NEEDED)) {
      const installed = scripted.filter((pkg) => pkg.name === name);
      expect(installed.length, `${name} should be in the lockfile with its install script`).toBeGreaterThan(0);
      for (const pkg of installed) expect(decisionFor(pkg), `${pkg.name}@${pkg.version} must be approved: it ${why}`).toBe(true);
    }
  });

  it("no entry is stale: each names a dependency that has an install script", () => {
    const stale = Object.keys(allowScripts).filter((key) => !scripted.some((pkg) => pkg.name === parseKey(key).name));
    expect(stale, "remove them with `npm install-scripts prune`").toEqual([]);
  });
});
