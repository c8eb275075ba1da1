// npm run openapi: writes ./openapi.json, the OpenAPI document the service serves at /openapi.json
// minus the deployment's `servers` entry. It starts the real service in local mode on a loopback port
// (every feature registers its routes exactly as in production) and saves what /openapi.json answers.
// test/openapi-not-stale.test.ts fails when the committed file differs from what the routes generate.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config";
import { committedOpenApiText } from "../src/discovery/openapi";
import { startServer } from "../src/server";

export const OPENAPI_FILE = fileURLToPath(new URL("../openapi.json", import.meta.url));

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "quali-openapi-"));
  const running = await startServer(loadConfig({ MODE: "local", PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir }), {
    log: () => {},
  });
  try {
    const response = await fetch(`${running.url}/openapi.json`);
    if (!response.ok) throw new Error(`/openapi.json answered ${response.status}`);
    const text = committedOpenApiText((await response.json()) as Record<string, unknown>);
    writeFileSync(OPENAPI_FILE, text);
    console.log(`wrote ${OPENAPI_FILE} (${text.length} bytes)`);
  } finally {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
