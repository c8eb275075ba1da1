// GET /api/v1/quote: the price of a poll and the exact challenge POST /api/v1/polls would answer.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { PaymentRequired } from "@x402/core/types";
import type { MiddlewareHandler } from "hono";
import { createRouter, type AppEnv } from "../http/app-env";
import { need, type Capability } from "../http/capability";
import { ApiError } from "../http/errors";
import { ErrorResponse, PaymentRequiredResponse } from "../http/openapi-shapes";
import { offerReplay } from "../http/replay";
import { respond, respondJson, serializeJson, type JsonText } from "../http/response-headers";
import type { RouteGuards } from "../http/route-guards";
import { BoundedMap } from "../lib/bounded-map";
import { resolveNetworkAlias, type NetworkSpec } from "./networks";
import type { PaymentServer } from "./payment-server";
import { pollPrice, usdcNumber } from "./pricing";
import { QuoteResponse } from "./quote-schema";

export { QuoteResponse };

export interface QuoteDeps {
  payments: Capability<PaymentServer>;
  /** Every network this build knows, to tell "unknown" from "not enabled here". */
  knownNetworks: readonly NetworkSpec[];
  guards: RouteGuards;
}

/** A query parameter given twice arrives as a list: refused with this message. */
const GIVE_IT_ONCE = { error: "give it once" };

const QuoteQuery = z.object({
  maxResponses: z
    .string(GIVE_IT_ONCE)
    .optional()
    .openapi({ example: "100", description: "Integer from 100 to 1,000,000." }),
  network: z
    .string(GIVE_IT_ONCE)
    .optional()
    .openapi({ example: "worldchain", description: "base, eip155:8453, worldchain, world-chain, world, eip155:480, …" }),
});

function quoteRoute(answerKnownQuery: MiddlewareHandler<AppEnv>, guards: RouteGuards) {
  return createRoute({
    method: "get",
    path: "/api/v1/quote",
    summary: "Price a poll and get its x402 payment challenge",
    middleware: [guards.api, answerKnownQuery],
    request: { query: QuoteQuery },
    responses: {
      200: { description: "Quote with the PaymentRequired object", content: { "application/json": { schema: QuoteResponse } } },
      400: { description: "Invalid maxResponses or network", content: { "application/json": { schema: ErrorResponse } } },
      503: { description: "Payments not configured or facilitator unreachable", content: { "application/json": { schema: ErrorResponse } } },
    },
  });
}

function parseMaxResponses(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") {
    throw new ApiError(400, "validation_error", "maxResponses is required (an integer from 100 to 1,000,000).", "maxResponses");
  }
  if (!/^\d{1,7}$/.test(raw.trim())) {
    throw new ApiError(400, "validation_error", "maxResponses must be an integer from 100 to 1,000,000.", "maxResponses");
  }
  const value = Number(raw.trim());
  if (value < 100 || value > 1_000_000) {
    throw new ApiError(400, "validation_error", "maxResponses must be an integer from 100 to 1,000,000.", "maxResponses");
  }
  return value;
}

/** The challenge as the API documents it (x402 version 2, exact payments): checked, not assumed. */
function isDocumentedChallenge(challenge: PaymentRequired): challenge is PaymentRequired & z.infer<typeof PaymentRequiredResponse> {
  return PaymentRequiredResponse.safeParse(challenge).success;
}

/** Distinct query strings whose answer is kept; a client sending endless new ones only churns it. */
const QUOTE_CACHE_LIMIT = 2_000;
const JSON_HEADERS = { "content-type": "application/json" };
/** A quote depends on its query string alone (the edge may replay it, unless a rate limit counted it). */
const QUOTE_REPLAY = { vary: [] };

const searchOf = (url: string) => {
  const queryAt = url.indexOf("?");
  return queryAt === -1 ? "" : url.slice(queryAt + 1);
};

export function quoteRoutes(deps: QuoteDeps): OpenAPIHono<AppEnv> {
  const router = createRouter();
  // A quote depends only on its query string, and the payment configuration is fixed for the process:
  // a query string answered before gets the same bytes again without being parsed (errors are never kept).
  const answered = new BoundedMap<string, JsonText<z.infer<typeof QuoteResponse>>>(QUOTE_CACHE_LIMIT);
  const answerKnownQuery: MiddlewareHandler<AppEnv> = async (c, next) => {
    const known = answered.get(searchOf(c.req.url));
    if (known !== undefined) {
      offerReplay(c, QUOTE_REPLAY);
      return respond(c, 200, known, JSON_HEADERS);
    }
    await next();
  };

  router.openapi(quoteRoute(answerKnownQuery, deps.guards), async (c) => {
    const query = c.req.valid("query");
    const maxResponses = parseMaxResponses(query.maxResponses);
    const payments = need(deps.payments);
    let network: string | undefined;
    if (query.network !== undefined) {
      const spec = resolveNetworkAlias(query.network, deps.knownNetworks);
      const enabledNames = payments.networks.map((n) => n.spec.key).join(", ");
      if (!spec) throw new ApiError(400, "unsupported_network", `Unknown network "${query.network}". Enabled: ${enabledNames}.`, "network");
      if (!payments.networks.some((n) => n.spec.network === spec.network)) {
        throw new ApiError(400, "unsupported_network", `Network "${query.network}" is not enabled here. Enabled: ${enabledNames}.`, "network");
      }
      network = spec.network;
    }
    if (!payments.isReady() && !(await payments.initialize())) {
      throw new ApiError(503, "facilitator_unavailable", "The payment facilitator cannot be reached; try again shortly.");
    }
    const price = pollPrice(maxResponses);
    const { paymentRequired } = await payments.challenge(maxResponses, network);
    if (!isDocumentedChallenge(paymentRequired)) throw new Error("the x402 challenge does not have the documented PaymentRequired shape");
    const quote = {
      maxResponses,
      costUsdc: usdcNumber(price.costAtomic),
      costAtomic: price.costAtomic.toString(),
      rewardPoolUsdc: usdcNumber(price.rewardPoolAtomic),
      qualiFeeUsdc: usdcNumber(price.feeAtomic),
      x402Version: 2 as const,
      paymentRequired,
    };
    const json = serializeJson(quote);
    answered.set(searchOf(c.req.url), json);
    offerReplay(c, QUOTE_REPLAY);
    return respondJson(c, 200, json);
  });
  return router;
}
