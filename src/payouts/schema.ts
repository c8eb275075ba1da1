// Request and response shapes of POST /api/v1/voter/payouts, shared by the route and the OpenAPI document.
import { z } from "@hono/zod-openapi";
import { EvmAddress } from "../voting/schema";
import { PayoutView } from "./views";

export const PayoutRequestBody = z
  .strictObject({
    address: EvmAddress,
    network: z.string().max(40).optional().openapi({ description: "Only this network (CAIP-2 id); default: every network with an unpaid balance.", example: "eip155:480" }),
    message: z.string().max(500).optional().openapi({
      description:
        "With `signature`, pays any balance above zero (else only balances that reached the threshold). Exactly three lines: " +
        "'Quali payout request', 'Address: <address>', 'Timestamp: <ISO instant within 10 minutes>'.",
      example: "Quali payout request\nAddress: 0x1111111111111111111111111111111111111111\nTimestamp: 2026-11-23T10:00:00.000Z",
    }),
    signature: z
      .string()
      .regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x-hex signature")
      .optional()
      .openapi({ description: "EIP-191 personal_sign of `message` by the payout address.", example: "0x…" }),
  })
  .openapi("VoterPayoutRequest");

export const PayoutRequestResponse = z
  .object({
    address: z.string(),
    payouts: z.array(PayoutView).openapi({ description: "Payouts created by this request (202), or already on their way (200)." }),
    message: z.string(),
  })
  .openapi("VoterPayoutRequestResult");
