// The refund a poll shows (GET /api/v1/polls/{id} and /results): its shape here, its facts from the
// payouts feature, which sends refunds and is above polls — so the read routes receive a RefundLookup
// from the composition root (src/compose.ts) instead of importing it.
import { z } from "@hono/zod-openapi";
import type { PollRow, PollStatus } from "../db/schema";
import { formatUsdc, PRICE_PER_RESPONSE_ATOMIC } from "../payment";

const PER_RESPONSE = `${PRICE_PER_RESPONSE_ATOMIC} atomic USDC (${formatUsdc(PRICE_PER_RESPONSE_ATOMIC)} USDC)`;

export const PollRefund = z
  .object({
    status: z.enum(["pending", "sent", "confirmed", "parked"]).openapi({
      description:
        "pending: owed and queued (or waiting for the payout wallet to be funded); sent: broadcast, waiting for its block; " +
        "confirmed: the USDC is back in the paying wallet (txHash); parked: the USDC token refuses transfers to that address " +
        "(the operator retries it once the cause is gone).",
    }),
    amountAtomic: z.string().openapi({ description: `(maxResponses − voteCount) × ${PER_RESPONSE}, the price of each unfilled response.`, example: "485000" }),
    amountUsdc: z.number().openapi({ example: 0.485 }),
    txHash: z.string().nullable().openapi({ description: "The refund's transaction once signed (it never changes afterwards)." }),
  })
  .openapi("PollRefund", {
    description:
      "On GET /api/v1/polls/{id} and /results, present when the poll ended (expired, closed, removed) without filling up and " +
      "was created under the refund policy 'unfilled': the unfilled responses go back to the address that paid, on the network " +
      "it paid on, once.",
  });

export type PollRefundShape = z.infer<typeof PollRefund>;
export type PollRefund = PollRefundShape;

/** The poll's refund, or undefined when none is owed (`status`: as the API shows it). */
export type RefundLookup = (
  poll: Pick<PollRow, "id" | "refund_policy" | "max_responses" | "vote_count">,
  status: PollStatus,
) => Promise<PollRefundShape | undefined>;

export const RefundPolicyField = z.enum(["unfilled", "none"]).openapi({
  description:
    `The refund policy this poll was created under (it never changes): 'unfilled' refunds (maxResponses − voteCount) × ${PER_RESPONSE} ` +
    "to the paying address when the poll ends without filling up; 'none' refunds nothing.",
});
