// The payout shapes shown to voters: each payout (GET and POST /api/v1/voter/rewards, POST
// /api/v1/voter/payouts) and the payout fields of a network's rewards (RewardsResponse in schema.ts).
import { z } from "@hono/zod-openapi";
import type { PayoutRow } from "../db/schema";
import { usdcNumber } from "../payment";

export const PayoutView = z
  .object({
    id: z.string(),
    network: z.string().openapi({ example: "eip155:480" }),
    status: z.enum(["pending", "sent", "confirmed", "failed", "parked"]).openapi({
      description:
        "pending: claimed, the transfer is being prepared or waits for the payout wallet to be funded; sent: broadcast, " +
        "waiting for its block; confirmed: the USDC is in the wallet (txHash); failed: the transfer reverted (or an " +
        "operator released a parked payout) — its votes went back to the unpaid balance and are paid by a later payout; " +
        "parked: the USDC token refuses transfers to this address (see `parked` for the reason) — its votes stay owed " +
        "to it and are paid once the operator retries the payout.",
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

export const ParkedPayoutView = z
  .object({
    id: z.string(),
    amountAtomic: z.string().openapi({ example: "10000" }),
    amountUsdc: z.number().openapi({ example: 0.01 }),
    votes: z.number().int(),
    reason: z.string().openapi({
      description: "What the chain answered when the transfer was estimated.",
      example: "Execution reverted with reason: Blacklistable: account is blacklisted.",
    }),
    parkedAt: z.string(),
  })
  .openapi("VoterParkedPayout");

export type ParkedPayoutViewShape = z.infer<typeof ParkedPayoutView>;

export function parkedPayoutView(row: PayoutRow): ParkedPayoutViewShape {
  const amount = BigInt(row.amount_atomic);
  return {
    id: row.id,
    amountAtomic: amount.toString(),
    amountUsdc: usdcNumber(amount),
    votes: row.entries,
    reason: row.parked_reason ?? "",
    parkedAt: row.parked_at ?? row.updated_at,
  };
}

/** Fields added to each network of GET /api/v1/voter/rewards. */
export const RewardPayoutFields = {
  unpaidAtomic: z.string().openapi({ description: "Accrued and not yet in any payout.", example: "1500" }),
  unpaidUsdc: z.number(),
  pendingAtomic: z.string().openapi({ description: "In payouts on their way (pending or sent) or parked.", example: "10000" }),
  pendingUsdc: z.number(),
  paidAtomic: z.string().openapi({ description: "In confirmed payouts: already in the wallet.", example: "20000" }),
  paidUsdc: z.number(),
  payouts: z.array(PayoutView).openapi({ description: "Recent payouts on this network, newest first (from the address's 20 most recent payouts)." }),
  parked: z.array(ParkedPayoutView).openapi({
    description:
      "Payouts the token refused to transfer to this address (e.g. the address is blacklisted by the USDC issuer), oldest first. " +
      "Their votes stay owed to this address (counted in pending); the operator retries them once the cause is gone.",
  }),
};
