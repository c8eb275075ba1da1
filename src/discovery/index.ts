// Discovery: how agents and crawlers find, understand and pay this service with no human in
// between: /openapi.json (generated once, on first request, from every route of the whole app),
// /agents.md, /llms.txt, /docs and /favicon.ico.
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createRouter, type AppEnv } from "../http/app-env";
import type { Mode, RefundPolicy } from "../config";
import type { PaymentServer } from "../payment";
import { renderAgentsMarkdown, renderLlmsTxt } from "./agent-docs";
import type { DiscoveryAssets } from "./assets";
import { DOCS_ASSET_PREFIX, DOCS_INIT_JS, docsHtml } from "./docs-page";
import { buildOpenApiDocument, undocumentedApiRoutes } from "./openapi";

export interface DiscoveryDeps {
  mode: Mode;
  publicBaseUrl: string;
  payments: PaymentServer | undefined;
  /** Favicon and docs viewer files; without them /favicon.ico and /docs answer 404. */
  assets: DiscoveryAssets | undefined;
  /** config.polls.maxExpiryLeadMs, stated by /agents.md; default 365 days. */
  maxExpiryLeadMs?: number;
  /** config.refunds.policy, stated by /agents.md. */
  refundPolicy?: RefundPolicy;
  log?: (message: string) => void;
}

const LONG_CACHE = "public, max-age=31536000, immutable";
const SHORT_CACHE = "public, max-age=300";

/** `documented` is the whole app, read when /openapi.json is first asked for (every route is mounted by then). */
export function discoveryRoutes(deps: DiscoveryDeps, documented: () => OpenAPIHono<AppEnv>): OpenAPIHono<AppEnv> {
  const app = createRouter();
  let openApiJson: string | undefined;
  app.get("/openapi.json", (c) => {
    // Built on first request, when every feature has registered its routes; then served from memory.
    if (openApiJson === undefined) {
      const whole = documented();
      const document = buildOpenApiDocument(whole, { publicBaseUrl: deps.publicBaseUrl });
      const missing = undocumentedApiRoutes(whole.routes, document);
      if (missing.length) {
        deps.log?.(`openapi: routes missing from /openapi.json (declare them with createRoute + app.openapi): ${missing.join(", ")}`);
      }
      openApiJson = JSON.stringify(document);
    }
    return c.body(openApiJson, 200, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": SHORT_CACHE });
  });

  const docOptions = {
    publicBaseUrl: deps.publicBaseUrl,
    networks: deps.payments?.networks ?? [],
    mode: deps.mode,
    maxExpiryLeadMs: deps.maxExpiryLeadMs,
    refundPolicy: deps.refundPolicy,
  };
  const agentsMd = renderAgentsMarkdown(docOptions);
  const llmsTxt = renderLlmsTxt(docOptions);
  app.get("/agents.md", (c) =>
    c.body(agentsMd, 200, { "Content-Type": "text/markdown; charset=utf-8", "Cache-Control": SHORT_CACHE }),
  );
  app.get("/llms.txt", (c) =>
    c.body(llmsTxt, 200, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": SHORT_CACHE }),
  );

  const assets = deps.assets;
  if (!assets) return app;
  const html = docsHtml(assets.swaggerUiVersion);
  const versioned = `${DOCS_ASSET_PREFIX}/${assets.swaggerUiVersion}`;
  app.get("/docs", (c) => c.html(html, 200, { "Cache-Control": SHORT_CACHE }));
  app.get("/docs/", (c) => c.redirect("/docs", 301));
  app.get(`${versioned}/swagger-ui-bundle.js`, (c) =>
    c.body(assets.swaggerUiBundleJs, 200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": LONG_CACHE }),
  );
  app.get(`${versioned}/swagger-ui.css`, (c) =>
    c.body(assets.swaggerUiCss, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": LONG_CACHE }),
  );
  app.get(`${DOCS_ASSET_PREFIX}/init.js`, (c) =>
    c.body(DOCS_INIT_JS, 200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": SHORT_CACHE }),
  );
  app.get("/favicon.ico", (c) =>
    c.body(assets.favicon, 200, { "Content-Type": "image/x-icon", "Cache-Control": "public, max-age=86400" }),
  );
  return app;
}

export type { DiscoveryAssets } from "./assets";
export { discoveryMetadata } from "./declaration";
