// The payout shapes shown to voters (GET /api/v1/voter/rewards and POST /api/v1/voter/payouts). No
// import from src/voting: the voting schema imports these.
import { z } from "@hono/zod-openapi";
import type { PayoutRow } from "../db/schema";
import { usdcNumber } from "../payment/pricing";

export const PayoutView = z
  .object({
    id: z.string(),
    network: z.string().openapi({ example: "eip155:480" }),
    status: z.enum(["pending", "sent", "confirmed", "failed"]).openapi({
      description:
        "pending: claimed, the transfer is being prepared or waits for the payout wallet to be funded; sent: broadcast, " +
        "waiting for its block; confirmed: the USDC is in the wallet (txHash); failed: the transfer reverted — its votes " +
        "went back to the unpaid balance and are paid by a later payout.",
    }),
    amountAtomic: z.string().openapi({ example: "10000" }),
    amountUsdc: z.number().openapi({ example: 0.01 }),
    votes: z.number().int().openapi({ description: "Rewarded votes this payout covers." }),
    txHash: z.string().nullable().openapi({ description: "The transfer's transaction hash once signed (it never changes afterwards)." }),
    createdAt: z.string(),
    confirmedAt: z.string().nullable(),
  })
  .openapi("VoterPayout");

export type PayoutViewShape = z.infer<typeof PayoutView>;

export function payoutView(row: PayoutRow): PayoutViewShape {
  const amount = BigInt(row.amount_atomic);
  const status = row.status === "claimed" || row.status === "signed" ? "pending" : row.status;
  return {
    id: row.id,
    network: row.network,
    status,
    amountAtomic: amount.toString(),
    amountUsdc: usdcNumber(amount),
    votes: row.entries,
    txHash: row.tx_hash,
    createdAt: row.created_at,
    confirmedAt: row.confirmed_at,
  };
}

/** Fields added to each network of GET /api/v1/voter/rewards. */
export const RewardPayoutFields = {
  unpaidAtomic: z.string().openapi({ description: "Accrued and not yet in any payout.", example: "1500" }),
  unpaidUsdc: z.number(),
  pendingAtomic: z.string().openapi({ description: "In payouts on their way (pending or sent).", example: "10000" }),
  pendingUsdc: z.number(),
  paidAtomic: z.string().openapi({ description: "In confirmed payouts: already in the wallet.", example: "20000" }),
  paidUsdc: z.number(),
  payouts: z.array(PayoutView).openapi({ description: "Recent payouts on this network, newest first (from the address's 20 most recent payouts)." }),
};
