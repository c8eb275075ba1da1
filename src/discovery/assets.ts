// Static bytes the discovery routes serve: the favicon and the Swagger UI browser bundle. They are
// loaded once by the composition root and passed in, so this feature does no I/O of its own:
// Node reads them from disk at startup (assets-node.ts); a Workers entry would import them as
// Text/Data modules (wrangler `rules`) or serve them as static assets.
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
