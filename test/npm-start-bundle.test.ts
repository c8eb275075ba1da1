// `npm start` runs a bundle (dist/server.mjs, built by `npm run build`) with plain node, not the sources
// through tsx: a third less memory (issue 8). The promise guarded here: the bundle is the whole service —
// it finds the files it reads at run time from dist/ (the SQL migrations, public/, the vendored browser
// builds, the API docs viewer), and it has exactly one entry point (the World ID stand-in's CLI is a file
// of its own, so bundling never runs it).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installedPackage } from "../src/pages/static-node";
import { projectPath } from "../src/project-paths";
import { startServerProcess, type ServerProcess } from "./support/server-process";

let server: ServerProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "quali-bundle-"));
  server = await startServerProcess({ DATA_DIR: dataDir });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the bundle npm start runs", () => {
  it("is ready: migrations applied, chain, facilitator and moderation answering", async () => {
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ready" });
  });

  it("serves the files of public/ from the project folder", async () => {
    const favicon = await fetch(`${server.url}/favicon.ico`);
    expect(favicon.status).toBe(200);
    expect(Buffer.from(await favicon.arrayBuffer()).equals(readFileSync(projectPath("public", "favicon.ico")))).toBe(true);
    const home = await fetch(`${server.url}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get("content-type")).toContain("text/html");
  });

  it("serves the API docs viewer and the vendored browser builds from node_modules", async () => {
    const docs = await fetch(`${server.url}/docs`);
    expect(docs.status).toBe(200);
    const html = await docs.text();
    const script = /src="([^"]*swagger-ui-bundle\.js[^"]*)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(new URL(script!, server.url))).status).toBe(200);
    const idkit = installedPackage("@worldcoin/idkit-core");
    const vendored = await fetch(`${server.url}/vendor/idkit-core/${idkit.version}/idkit.global.js`);
    expect(vendored.status).toBe(200);
    expect(Buffer.from(await vendored.arrayBuffer()).equals(readFileSync(join(idkit.root, "dist", "idkit.global.js")))).toBe(true);
  });

  it("answers the paid endpoint's challenge", async () => {
    const response = await fetch(`${server.url}/api/v1/polls`, { method: "POST" });
    expect(response.status).toBe(402);
    expect(response.headers.get("payment-required")).toBeTruthy();
  });

  it("prints its start-up log lines before the banner, in the order they happened", () => {
    const output = server.output();
    const worldIdLine = output.indexOf('"msg":"world id: SIMULATED');
    expect(worldIdLine).toBeGreaterThanOrEqual(0);
    expect(worldIdLine).toBeLessThan(output.indexOf("listening on"));
  });

  it("never started the World ID stand-in's command line (one entry point)", () => {
    expect(server.output()).not.toContain("usage: world-id-standin");
    expect(server.child.exitCode).toBeNull();
  });
});
