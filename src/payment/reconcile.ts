// Crash recovery for payments. A claim (poll `pending_payment`, payment `claimed`) whose settlement
// we never saw finish is decided by the chain: authorization used → the money arrived, activate the
// poll with the transaction; unused and past validBefore → it can never be used, fail the poll and
// release the authorization; unused and still valid → wait.
import type { Store } from "../db/store";
import type { PaymentRow } from "../db/schema";
import { activatePoll, failPoll } from "../polls/repo";
import type { ChainReader } from "./chain-reader";
import { markClaimFailed, markClaimSettled } from "./payments-repo";

export interface ReconcileDeps {
  store: Store;
  /** One reader per network id that has an RPC; claims on other networks are left alone. */
  chains: ReadonlyMap<string, ChainReader>;
  now: () => Date;
  log: (message: string) => void;
}

export type ClaimOutcome = "settled" | "failed" | "pending" | "no_rpc";

/** Margin after validBefore before we call an authorization dead (block time trails wall time). */
const EXPIRY_MARGIN_SECONDS = 60;

export async function reconcileClaim(deps: ReconcileDeps, claim: PaymentRow): Promise<ClaimOutcome> {
  const chain = deps.chains.get(claim.network);
  if (!chain) return "no_rpc";
  const { db } = deps.store;
  const at = deps.now().toISOString();
  if (await chain.authorizationUsed(claim.asset, claim.payer, claim.nonce)) {
    const txHash = (await chain.findAuthorizationTx(claim.asset, claim.payer, claim.nonce)) ?? null;
    await deps.store.batch([activatePoll(db, claim.poll_id, at), markClaimSettled(db, claim.id, txHash, at)]);
    deps.log(`reconcile: payment for poll ${claim.poll_id} is settled on chain (${txHash ?? "tx not found in recent blocks"}); poll activated`);
    return "settled";
  }
  const nowSeconds = Math.floor(deps.now().getTime() / 1000);
  if (nowSeconds > claim.valid_before + EXPIRY_MARGIN_SECONDS) {
    await deps.store.batch([failPoll(db, claim.poll_id), markClaimFailed(db, claim.id, "authorization_expired_unused")]);
    deps.log(`reconcile: payment for poll ${claim.poll_id} was never settled and has expired; poll marked payment_failed`);
    return "failed";
  }
  return "pending";
}

/**
 * Reconciles every claim older than `minAgeMs` (claims younger than that may still be in flight in
 * this process). Returns how many ended in each outcome. Errors on one claim do not stop the others.
 */
export async function reconcilePendingPayments(
  deps: ReconcileDeps,
  minAgeMs: number,
): Promise<Record<ClaimOutcome | "error", number>> {
  const cutoff = new Date(deps.now().getTime() - minAgeMs).toISOString();
  const claims = await deps.store.db
    .selectFrom("payments")
    .selectAll()
    .where("status", "=", "claimed")
    .where("created_at", "<=", cutoff)
    .orderBy("created_at")
    .limit(500)
    .execute();
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

/**
 * A claim left behind by a process that died before settling (its request is gone, nobody will
 * settle it). When the same authorization is presented again: used on chain → activate the poll
 * it paid for (the caller answers 409 naming it); unused → release it so this request can use it.
 */
export async function resolveAbandonedClaim(deps: ReconcileDeps, claim: PaymentRow): Promise<"settled" | "released" | "no_rpc"> {
  const chain = deps.chains.get(claim.network);
  if (!chain) return "no_rpc";
  if (await chain.authorizationUsed(claim.asset, claim.payer, claim.nonce)) {
    await reconcileClaim(deps, claim);
    return "settled";
  }
  const { db } = deps.store;
  await deps.store.batch([failPoll(db, claim.poll_id), markClaimFailed(db, claim.id, "abandoned_before_settlement")]);
  deps.log(`reconcile: released the unsettled authorization of abandoned poll ${claim.poll_id}`);
  return "released";
}
