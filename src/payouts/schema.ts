// Request and response shapes of POST /api/v1/voter/payouts, shared by the route and the OpenAPI document.
import { z } from "@hono/zod-openapi";
import { EvmAddress } from "../voting/schema";
import { PayoutView } from "./views";

export const PayoutRequestBody = z
  .strictObject({
    address: EvmAddress,
    network: z.string().max(40).optional().openapi({ description: "Only this network (CAIP-2 id); default: every network with an unpaid balance.", example: "eip155:480" }),
  })
  .openapi("VoterPayoutRequest");

export const PayoutRequestResponse = z
  .object({
    address: z.string(),
    payouts: z.array(PayoutView).openapi({ description: "Payouts created by this request (202), or already on their way (200)." }),
    message: z.string(),
  })
  .openapi("VoterPayoutRequestResult");
