// An anchor of `npm run bench`: what anyone would build for this job with the stock x402 kit — a Hono app
// with @x402/hono's `paymentMiddleware` on POST /api/v1/polls, priced from the body (maxResponses × the
// per-response price, src/payment/pricing.ts), on the network, asset and payTo the service offers, with the
// same service metadata (resource description, serviceName, tags) and extensions (the bazaar declaration
// built by declareDiscoveryExtension from the same example and schemas, the payment-identifier
// declaration), against the devnet's facilitator over HTTP. And a quote route built the stock way: the
// same resource server asked for the challenge on every request. In its own process, like the service.
//
// argv[2] (JSON): StockServerInput. Everything the configuration needs is taken from the running service:
// its 402 (network, asset, payTo, token domain, timeout, resource metadata) and the bazaar parts it declares.
import { Hono } from "hono";
import { paymentMiddleware, x402HTTPResourceServer, x402ResourceServer } from "@x402/hono";
import { HTTPFacilitatorClient, type HTTPAdapter, type RouteConfig } from "@x402/core/server";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import type { Network, PaymentRequired } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import { bazaarResourceServerExtension, declareDiscoveryExtension } from "@x402/extensions/bazaar";
import {
  declarePaymentIdentifierExtension,
  PAYMENT_IDENTIFIER,
  paymentIdentifierResourceServerExtension,
} from "@x402/extensions/payment-identifier";
import { pollPrice, usdcNumber } from "../src/payment/pricing";
import type { NetworkId } from "../src/payment/networks";
import { spendCapNotice } from "../src/payment/spend-caps";
import { serveBenchChild } from "./lib/serve-child";

export interface StockServerInput {
  facilitatorUrl: string;
  /** The service's own 402 for POST /api/v1/polls (its body). */
  serviceChallenge: PaymentRequired;
  /** The bazaar parts the service declares (ServiceMetadata.bazaar). */
  bazaar: {
    exampleBody: Record<string, unknown>;
    bodySchema: Record<string, unknown>;
    outputExample: unknown;
    outputSchema?: Record<string, unknown>;
  };
}

const POLLS_PATH = "/api/v1/polls";
const input = JSON.parse(process.argv[2] ?? "{}") as StockServerInput;
const { serviceChallenge, bazaar } = input;

/** maxResponses from the body, as the service prices it (100 to 1,000,000; anything else: the minimum). */
function maxResponsesOf(body: unknown): number {
  const value = (body as { maxResponses?: unknown } | undefined)?.maxResponses;
  return typeof value === "number" && Number.isInteger(value) && value >= 100 && value <= 1_000_000 ? value : 100;
}

const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: input.facilitatorUrl }));
for (const accept of serviceChallenge.accepts) resourceServer.register(accept.network as Network, new ExactEvmScheme());
resourceServer.registerExtension(bazaarResourceServerExtension);
resourceServer.registerExtension(paymentIdentifierResourceServerExtension);

const resource = serviceChallenge.resource;
const routeConfig: RouteConfig = {
  resource: resource.url,
  description: resource.description,
  mimeType: resource.mimeType,
  ...(resource.serviceName !== undefined ? { serviceName: resource.serviceName } : {}),
  ...(resource.tags !== undefined ? { tags: resource.tags } : {}),
  ...(resource.iconUrl !== undefined ? { iconUrl: resource.iconUrl } : {}),
  accepts: serviceChallenge.accepts.map((accept) => ({
    scheme: "exact",
    network: accept.network as Network,
    payTo: accept.payTo,
    maxTimeoutSeconds: accept.maxTimeoutSeconds,
    price: async (context) => ({
      asset: accept.asset,
      amount: pollPrice(maxResponsesOf(await context.adapter.getBody?.())).costAtomic.toString(),
      extra: accept.extra,
    }),
  })),
  extensions: {
    [PAYMENT_IDENTIFIER]: declarePaymentIdentifierExtension(false),
    ...declareDiscoveryExtension({
      bodyType: "json",
      input: bazaar.exampleBody,
      inputSchema: bazaar.bodySchema,
      output: { example: bazaar.outputExample, ...(bazaar.outputSchema ? { schema: bazaar.outputSchema } : {}) },
    }),
  },
};
const routes = { [`POST ${POLLS_PATH}`]: routeConfig };

// The quote asks the same resource server, through the kit's HTTP layer, for the challenge a POST of
// that size gets: on every request, as nothing in the kit keeps it.
const quoteServer = new x402HTTPResourceServer(resourceServer, routes);
function pollRequestOf(maxResponses: number): HTTPAdapter {
  return {
    getHeader: () => undefined,
    getMethod: () => "POST",
    getPath: () => POLLS_PATH,
    getUrl: () => resource.url,
    getAcceptHeader: () => "application/json",
    getUserAgent: () => "",
    getQueryParams: () => ({}),
    getQueryParam: () => undefined,
    getBody: async () => ({ maxResponses }),
  };
}

const app = new Hono();
app.use(paymentMiddleware(routes, resourceServer));
// Reached only once paid: never in the bench, which sends the unpaid POST.
app.post(POLLS_PATH, (c) => c.json({ error: "the stock anchor creates no polls" }, 501));
app.get("/api/v1/quote", async (c) => {
  const raw = c.req.query("maxResponses") ?? "";
  if (!/^\d{1,7}$/.test(raw) || Number(raw) < 100 || Number(raw) > 1_000_000) {
    return c.json({ error: { code: "validation_error", message: "maxResponses must be an integer from 100 to 1,000,000." } }, 400);
  }
  const maxResponses = Number(raw);
  const result = await quoteServer.processHTTPRequest({ adapter: pollRequestOf(maxResponses), path: POLLS_PATH, method: "POST" });
  const header = result.type === "payment-error" ? result.response.headers["PAYMENT-REQUIRED"] : undefined;
  if (!header) return c.json({ error: { code: "internal_error", message: `no challenge (${result.type})` } }, 500);
  const price = pollPrice(maxResponses);
  // Above a stock client's $1 cap the job's quote says which setting lifts it (issue 20): so does this one.
  const notice = spendCapNotice(price.costAtomic, serviceChallenge.accepts.map((accept) => ({
    network: accept.network as NetworkId,
    usdc: { address: accept.asset as `0x${string}`, name: String(accept.extra?.name), version: String(accept.extra?.version), decimals: 6 as const },
  })));
  const paymentRequired = decodePaymentRequiredHeader(header);
  return c.json({
    maxResponses,
    costUsdc: usdcNumber(price.costAtomic),
    costAtomic: price.costAtomic.toString(),
    rewardPoolUsdc: usdcNumber(price.rewardPoolAtomic),
    qualiFeeUsdc: usdcNumber(price.feeAtomic),
    x402Version: 2,
    paymentRequired: notice === undefined ? paymentRequired : { ...paymentRequired, error: notice },
  });
});

async function main(): Promise<void> {
  // The facilitator's /supported, before the first request (the middleware also syncs on its own).
  await quoteServer.initialize();
  serveBenchChild(app.fetch);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
