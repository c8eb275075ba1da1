// Workers: the discovery assets are bundled with the Worker as modules (wrangler.toml `[[rules]]`: the
// swagger-ui-dist files as Text, the favicon as Data), so /docs and /favicon.ico need no file system and
// no CDN. Types of these imports: src/worker-modules.d.ts.
import swaggerUiBundleJs from "swagger-ui-dist/swagger-ui-bundle.js";
import swaggerUiCss from "swagger-ui-dist/swagger-ui.css";
import swaggerUiPackage from "swagger-ui-dist/package.json";
import favicon from "../../public/favicon.ico";
import { stripSourceMapComment, type DiscoveryAssets } from "./assets";

let assets: DiscoveryAssets | undefined;

/** Built once per isolate, on first use. */
export function workerDiscoveryAssets(): DiscoveryAssets {
  assets ??= {
    favicon: new Uint8Array(favicon),
    swaggerUiBundleJs: stripSourceMapComment(swaggerUiBundleJs),
    swaggerUiCss: stripSourceMapComment(swaggerUiCss),
    swaggerUiVersion: swaggerUiPackage.version,
  };
  return assets;
}
