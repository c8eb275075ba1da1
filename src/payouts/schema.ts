// Request and response shapes of the payout routes (POST /api/v1/voter/payouts, GET and POST
// /api/v1/voter/rewards), shared by the routes and the OpenAPI document.
import { z } from "@hono/zod-openapi";
import { EvmAddress, WalletSignature } from "../lib/address";
import { RewardPayoutFields, PayoutView } from "./views";

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
    signature: WalletSignature.optional().openapi({ description: "EIP-191 personal_sign of `message` by the payout address.", example: "0x…" }),
  })
  .openapi("VoterPayoutRequest");

export const PayoutRequestResponse = z
  .object({
    address: z.string(),
    payouts: z.array(PayoutView).openapi({ description: "Payouts created by this request (202), or already on their way (200)." }),
    message: z.string(),
  })
  .openapi("VoterPayoutRequestResult");

export const RewardsQuery = z.object({ address: z.string().optional().openapi({ example: "0x1111111111111111111111111111111111111111" }) });

/** An address's rewards in full: what its owner sees (POST, signed); the public GET shows a cut of it. */
export const RewardsResponse = z
  .object({
    address: z.string(),
    totalVotes: z.number().int(),
    rewards: z.array(
      z.object({
        network: z.string(),
        networkLabel: z.string(),
        votes: z.number().int(),
        accruedAtomic: z.string(),
        accruedUsdc: z.number(),
        // accrued = unpaid + pending + paid.
        ...RewardPayoutFields,
      }),
    ),
  })
  .openapi("VoterRewards");

export type Rewards = z.infer<typeof RewardsResponse>;
