// Node: reads the discovery assets once, at startup. swagger-ui-dist is a runtime dependency whose
// files are located through Node's resolver, so this works from any working directory.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { projectPath } from "../project-paths";
import { stripSourceMapComment, type DiscoveryAssets } from "./assets";

export const FAVICON_PATH = projectPath("public", "favicon.ico");

export function loadDiscoveryAssets(): DiscoveryAssets {
  const require = createRequire(import.meta.url);
  const swaggerDir = dirname(require.resolve("swagger-ui-dist/package.json"));
  const { version } = JSON.parse(readFileSync(join(swaggerDir, "package.json"), "utf8")) as { version: string };
  // The bundle ends with a sourceMappingURL comment for a map we do not serve: drop it.
  const stripSourceMap = stripSourceMapComment;
  return {
    favicon: new Uint8Array(readFileSync(FAVICON_PATH)),
    swaggerUiBundleJs: stripSourceMap(readFileSync(join(swaggerDir, "swagger-ui-bundle.js"), "utf8")),
    swaggerUiCss: stripSourceMap(readFileSync(join(swaggerDir, "swagger-ui.css"), "utf8")),
    swaggerUiVersion: version,
  };
}
