// GET /api/v1/quote: the price of a poll and the exact challenge POST /api/v1/polls would answer.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { ConfigProblem } from "../config";
import { ApiError, errorResponse } from "../http/errors";
import { respond } from "../http/response-headers";
import { ErrorResponse, PaymentRequiredResponse } from "../http/openapi-shapes";
import { resolveNetworkAlias, type NetworkSpec } from "./networks";
import type { PaymentServer } from "./payment-server";
import { pollPrice, usdcNumber } from "./pricing";

export interface QuoteDeps {
  payments: PaymentServer | undefined;
  /** Every network this build knows, to tell "unknown" from "not enabled here". */
  knownNetworks: readonly NetworkSpec[];
  problems: readonly ConfigProblem[];
}

const QuoteQuery = z.object({
  maxResponses: z.string().optional().openapi({ example: "100", description: "Integer from 100 to 1,000,000." }),
  network: z
    .string()
    .optional()
    .openapi({ example: "worldchain", description: "base, eip155:8453, worldchain, world-chain, world, eip155:480, …" }),
});

export const QuoteResponse = z
  .object({
    maxResponses: z.number().int(),
    costUsdc: z.number(),
    costAtomic: z.string(),
    rewardPoolUsdc: z.number(),
    qualiFeeUsdc: z.number(),
    x402Version: z.literal(2),
    paymentRequired: PaymentRequiredResponse,
  })
  .openapi("Quote");

export const quoteRoute = createRoute({
  method: "get",
  path: "/api/v1/quote",
  summary: "Price a poll and get its x402 payment challenge",
  request: { query: QuoteQuery },
  responses: {
    200: { description: "Quote with the PaymentRequired object", content: { "application/json": { schema: QuoteResponse } } },
    400: { description: "Invalid maxResponses or network", content: { "application/json": { schema: ErrorResponse } } },
    503: { description: "Payments not configured or facilitator unreachable", content: { "application/json": { schema: ErrorResponse } } },
  },
});

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

const QUOTE_CACHE_LIMIT = 2_000;
const JSON_HEADERS = { "content-type": "application/json" };

/** One query parameter given at most once (hono's validator answered 400 to a repeated one too). */
function single(params: URLSearchParams, name: keyof z.infer<typeof QuoteQuery>): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw new ApiError(400, "validation_error", `${name}: give it once.`, name);
  return values[0];
}

export function registerQuote(app: OpenAPIHono, deps: QuoteDeps): void {
  // A quote depends only on its query string: the answer to each one is serialised once and then served
  // as is, before any parsing (the challenge inside is itself built once per maxResponses). The route is
  // documented in /openapi.json as declared above and validated here by hand: the generic validator
  // re-parsed the query on every request for nothing (issue 8).
  const served = new Map<string, string>();
  app.openAPIRegistry.registerPath(quoteRoute);
  app.get(quoteRoute.path, async (c) => {
    const url = c.req.url;
    const queryAt = url.indexOf("?");
    const search = queryAt === -1 ? "" : url.slice(queryAt + 1);
    const hit = served.get(search);
    if (hit !== undefined) return respond(c, 200, hit, JSON_HEADERS);
    try {
      const params = new URLSearchParams(search);
      const maxResponses = parseMaxResponses(single(params, "maxResponses"));
      const problem = deps.problems.find((p) => p.area === "payment");
      if (problem || !deps.payments) {
        throw new ApiError(503, "payment_not_configured", problem ? `${problem.message} (missing ${problem.variable})` : "Payments are not configured.");
      }
      const payments = deps.payments;
      let network: string | undefined;
      const filter = single(params, "network");
      if (filter !== undefined) {
        const spec = resolveNetworkAlias(filter, deps.knownNetworks);
        const enabledNames = payments.networks.map((n) => n.spec.key).join(", ");
        if (!spec) throw new ApiError(400, "unsupported_network", `Unknown network "${filter}". Enabled: ${enabledNames}.`, "network");
        if (!payments.networks.some((n) => n.spec.network === spec.network)) {
          throw new ApiError(400, "unsupported_network", `Network "${filter}" is not enabled here. Enabled: ${enabledNames}.`, "network");
        }
        network = spec.network;
      }
      if (!payments.isReady() && !(await payments.initialize())) {
        throw new ApiError(503, "facilitator_unavailable", "The payment facilitator cannot be reached; try again shortly.");
      }
      const price = pollPrice(maxResponses);
      const challenge = await payments.challenge(maxResponses, network);
      const json = JSON.stringify({
        maxResponses,
        costUsdc: usdcNumber(price.costAtomic),
        costAtomic: price.costAtomic.toString(),
        rewardPoolUsdc: usdcNumber(price.rewardPoolAtomic),
        qualiFeeUsdc: usdcNumber(price.feeAtomic),
        x402Version: 2 as const,
        paymentRequired: challenge.paymentRequired,
      });
      // Bounded: a client sending endless distinct query strings only churns it.
      if (served.size >= QUOTE_CACHE_LIMIT) served.delete(served.keys().next().value as string);
      served.set(search, json);
      return respond(c, 200, json, JSON_HEADERS);
    } catch (error) {
      if (error instanceof ApiError) return errorResponse(c, error);
      throw error;
    }
  });
}
