// What a decided payment claim does to its poll: a transfer found on chain activates the poll, a claim
// that can no longer move money fails it (src/payment/settlement.ts decides; this writes). Also the
// reconciliation of claims whose outcome was not known when they were answered: at start-up and
// periodically (Node timer, Workers cron), an unused authorization is released once past validBefore and
// anything else waits.
import type { PaymentRow } from "../db/schema";
import { decideClaim, findOpenClaims, markClaimFailed, markClaimSettled, type ClaimDecision, type SettlementDeps } from "../payment";
import { activatePoll, failPoll } from "./repo";

/**
 * The statements that record a decision (none for an open claim). Guarded: they change only a claim
 * that is still open, so a decision taken twice (request and reconciler) is written once.
 */
export function decisionStatements(deps: Pick<SettlementDeps, "store" | "now">, claim: PaymentRow, decision: ClaimDecision) {
  const { db } = deps.store;
  const at = deps.now().toISOString();
  switch (decision.state) {
    case "active":
      return [activatePoll(db, claim.poll_id, at), markClaimSettled(db, claim.id, decision.txHash, at)];
    case "failed":
      return [failPoll(db, claim.poll_id), markClaimFailed(db, claim.id, decision.reason)];
    case "open":
      return [];
  }
}

/** Records a decision and says so in the log. */
export async function applyDecision(deps: SettlementDeps, claim: PaymentRow, decision: ClaimDecision): Promise<void> {
  const statements = decisionStatements(deps, claim, decision);
  if (statements.length > 0) await deps.store.batch(statements);
  if (decision.state === "failed") deps.log(`payment: poll ${claim.poll_id} failed (${decision.reason}); nothing was charged`);
}

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
export async function reconcilePendingPayments(deps: ReconcileDeps, minAgeMs: number): Promise<Record<ClaimOutcome | "error", number>> {
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
