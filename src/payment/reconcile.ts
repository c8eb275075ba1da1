// Reconciliation: every claim whose outcome is not final is decided from the chain (src/payment/settlement.ts),
// at start-up and periodically (Node timer, Workers cron). A transfer found activates the poll; a cancelled
// authorization fails it; an unused one is released once past validBefore; anything else waits.
import type { PaymentRow } from "../db/schema";
import { findOpenClaims } from "./payments-repo";
import { applyDecision, decideClaim, type SettlementDeps } from "./settlement";

export type ReconcileDeps = SettlementDeps;

export type ClaimOutcome = "settled" | "failed" | "pending" | "no_rpc";

export async function reconcileClaim(deps: ReconcileDeps, claim: PaymentRow): Promise<ClaimOutcome> {
  if (!deps.chains.has(claim.network)) return "no_rpc";
  const decision = await decideClaim(deps, claim);
  await applyDecision(deps, claim, decision);
  if (decision.state === "active") deps.log(`reconcile: payment for poll ${claim.poll_id} is settled on chain (${decision.txHash}); poll activated`);
  return decision.state === "active" ? "settled" : decision.state === "failed" ? "failed" : "pending";
}

/**
 * Reconciles every open claim older than `minAgeMs` (younger ones may still be in flight in this
 * process), and every claim the agent was already told is being confirmed, whatever its age.
 * Returns how many ended in each outcome. An error on one claim does not stop the others.
 */
export async function reconcilePendingPayments(
  deps: ReconcileDeps,
  minAgeMs: number,
): Promise<Record<ClaimOutcome | "error", number>> {
  const cutoff = new Date(deps.now().getTime() - minAgeMs).toISOString();
  const claims = await findOpenClaims(deps.store.db, cutoff, 500);
  const counts = { settled: 0, failed: 0, pending: 0, no_rpc: 0, error: 0 };
  for (const claim of claims) {
    try {
      counts[await reconcileClaim(deps, claim)] += 1;
    } catch (error) {
      counts.error += 1;
      deps.log(`reconcile: could not check poll ${claim.poll_id} on ${claim.network}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return counts;
}
