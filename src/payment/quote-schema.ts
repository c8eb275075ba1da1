// The quote's response shape (GET /api/v1/quote): a leaf with no server code, shared by the route,
// openapi.json and the typed client (src/client).
import { z } from "@hono/zod-openapi";
import { PaymentRequiredResponse } from "../http/openapi-shapes";

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
