// Once per test run: the bundle `npm start` runs (scripts/lib/bundle.ts), for the tests that start the
// service as its own process (test/support/server-process.ts). Its folder is removed when the run ends.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { PROJECT_ROOT } from "../../src/project-paths";
import { bundleLikeNpmBuild } from "../../scripts/lib/bundle";

export default function setup(project: TestProject): () => void {
  mkdirSync(join(PROJECT_ROOT, "dist"), { recursive: true });
  const dir = mkdtempSync(join(PROJECT_ROOT, "dist", "test-"));
  const bundle = join(dir, "server.mjs");
  bundleLikeNpmBuild(bundle);
  project.provide("serverBundle", bundle);
  return () => rmSync(dir, { recursive: true, force: true });
}
