// Static bytes the discovery routes serve: the favicon and the Swagger UI browser bundle. They are
// loaded once by the composition root and passed in, so this feature does no I/O of its own:
// Node reads them from disk at startup (assets-node.ts); the Workers entry imports them as Text/Data
// modules bundled with the Worker (wrangler.toml `[[rules]]`, assets-worker.ts).
export interface DiscoveryAssets {
  /** public/favicon.ico */
  favicon: Uint8Array<ArrayBuffer>;
  /** swagger-ui-dist/swagger-ui-bundle.js (self-contained: no CDN, no other script). */
  swaggerUiBundleJs: string;
  /** swagger-ui-dist/swagger-ui.css */
  swaggerUiCss: string;
  /** swagger-ui-dist version, for cache-busting asset URLs. */
  swaggerUiVersion: string;
}

/** The swagger-ui-dist files end with a sourceMappingURL comment for a map we do not serve: drop it. */
export function stripSourceMapComment(text: string): string {
  return text.replace(/\n\/[/*][#@] sourceMappingURL=\S+(\s*\*\/)?\s*$/, "\n");
}
