// The Workers bundle, as `wrangler deploy` would upload it (--dry-run, offline): nothing Node-only is
// reachable from src/worker.ts, and it fits Cloudflare's size limit. Prints the sizes.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runWrangler } from "./support/wrangler";

interface Metafile {
  inputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
}

let dir: string;
let output: string;
let metafile: Metafile;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "quali-worker-bundle-"));
  output = await runWrangler(["deploy", "--dry-run", "--outdir", join(dir, "out"), "--metafile", join(dir, "meta.json")], dir, 90_000);
  metafile = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as Metafile;
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the Workers bundle", () => {
  it("reaches no Node-only module from src/worker.ts", () => {
    const inputs = Object.keys(metafile.inputs);
    const imports = Object.values(metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
    // Node-only code of ours that must stay out: the Node entry, SQLite, the devnet, the stand-ins, DNS/pinning.
    const ours = [
      "src/server.ts",
      "src/main.ts",
      "src/db/sqlite.ts",
      "src/db/migrate.ts",
      "src/devnet/",
      "src/webhook/callback-url.ts",
      "src/webhook/transport.ts",
      "src/webhook/dispatcher-node.ts",
      "src/discovery/assets-node.ts",
      "src/pages/static-node.ts",
      "src/project-paths.ts",
    ];
    for (const path of ours) expect(inputs.filter((input) => input.startsWith(path)), path).toEqual([]);
    for (const pkg of ["better-sqlite3", "@hono/node-server", "obscenity", "@foundry-rs/anvil"]) {
      expect(inputs.filter((input) => input.includes(`node_modules/${pkg}/`)), pkg).toEqual([]);
    }
    const nodeOnly = /^(node:)?(fs|fs\/promises|net|dns|dns\/promises|http|https|child_process|worker_threads|module|os|tls|dgram|cluster)$/;
    expect(imports.filter((path) => nodeOnly.test(path))).toEqual([]);
    // What nodejs_compat provides and we use.
    expect(new Set(imports.filter((path) => path.startsWith("node:")))).toEqual(new Set(["node:crypto", "node:async_hooks"]));
  });

  it("fits Cloudflare's 3 MiB (gzip) limit of the free plan", () => {
    const files = readdirSync(join(dir, "out")).filter((name) => !name.endsWith(".map") && name !== "README.md");
    let raw = 0;
    let gzip = 0;
    for (const name of files) {
      const bytes = readFileSync(join(dir, "out", name));
      raw += statSync(join(dir, "out", name)).size;
      gzip += gzipSync(bytes, { level: 9 }).length;
    }
    const main = readFileSync(join(dir, "out", "worker.js"));
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    console.log(
      `worker bundle: worker.js ${kib(main.length)} (gzip ${kib(gzipSync(main, { level: 9 }).length)}); ` +
        `all ${files.length} modules ${kib(raw)} (gzip ${kib(gzip)}); wrangler: ${/Total Upload: [^\n]*/.exec(output)?.[0] ?? "?"}`,
    );
    expect(gzip).toBeLessThan(3 * 1024 * 1024);
  });
});
