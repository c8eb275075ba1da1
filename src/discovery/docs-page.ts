// GET /docs: the human API reference, Swagger UI rendering /openapi.json. Everything is served by
// this app from the swagger-ui-dist package (no CDN); the validator badge (which would call
// validator.swagger.io) is switched off.
export const DOCS_ASSET_PREFIX = "/docs/assets";

export function docsHtml(swaggerUiVersion: string): string {
  const assets = `${DOCS_ASSET_PREFIX}/${swaggerUiVersion}`;
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Quali API reference</title>
    <link rel="icon" href="/favicon.ico" />
    <link rel="stylesheet" href="${assets}/swagger-ui.css" />
    <style>body { margin: 0; } .quali-note { font: 14px/1.5 system-ui, sans-serif; margin: 16px auto 0; max-width: 1420px; padding: 0 20px; }</style>
  </head>
  <body>
    <p class="quali-note">Agents: read <a href="/agents.md">/agents.md</a> (or <a href="/llms.txt">/llms.txt</a>) and
      <a href="/openapi.json">/openapi.json</a>. <code>POST /api/v1/polls</code> is paid with x402 V2.</p>
    <div id="swagger-ui"></div>
    <script src="${assets}/swagger-ui-bundle.js"></script>
    <script src="${DOCS_ASSET_PREFIX}/init.js"></script>
  </body>
</html>
`;
}

export const DOCS_INIT_JS = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
`;
