// SQL for payment authorizations. Claims are written in the same batch as the poll they pay for.
import { sql, type Kysely } from "kysely";
import type { Database, PaymentAnswer, PaymentRow } from "../db/schema";

export interface NewClaim {
  id: string;
  pollId: string;
  network: string;
  payer: string;
  nonce: string;
  asset: string;
  payTo: string;
  amountAtomic: string;
  validBefore: number;
  createdAt: string;
  /** The x402 payment-identifier the request carried, with the fingerprint of what it was sent with. */
  paymentIdentifier?: { id: string; fingerprint: string };
}

/** The live (not definitively failed) claim on an authorization, if any. */
export function findLiveClaim(
  db: Kysely<Database>,
  key: { network: string; payer: string; nonce: string },
): Promise<PaymentRow | undefined> {
  return db
    .selectFrom("payments")
    .selectAll()
    .where("network", "=", key.network)
    .where("payer", "=", key.payer)
    .where("nonce", "=", key.nonce)
    // A literal, not a parameter: only then can SQLite see that the query matches the partial index
    // payments_authorization (WHERE status <> 'failed'); with `?` it scans the whole table.
    .where("status", "<>", sql.lit("failed"))
    .executeTakeFirst();
}

/** The live claim a payer made under an x402 payment-identifier, if any. */
export function findLiveClaimByIdentifier(db: Kysely<Database>, payer: string, paymentIdentifier: string): Promise<PaymentRow | undefined> {
  return db
    .selectFrom("payments")
    .selectAll()
    .where("payer", "=", payer)
    .where("payment_identifier", "=", paymentIdentifier)
    .where("status", "<>", sql.lit("failed"))
    .executeTakeFirst();
}

export function findPayment(db: Kysely<Database>, paymentId: string): Promise<PaymentRow | undefined> {
  return db.selectFrom("payments").selectAll().where("id", "=", paymentId).executeTakeFirst();
}

export function insertClaim(db: Kysely<Database>, claim: NewClaim) {
  return db.insertInto("payments").values({
    id: claim.id,
    poll_id: claim.pollId,
    network: claim.network,
    payer: claim.payer,
    nonce: claim.nonce,
    asset: claim.asset,
    pay_to: claim.payTo,
    amount_atomic: claim.amountAtomic,
    valid_before: claim.validBefore,
    status: "claimed",
    tx_hash: null,
    failure_reason: null,
    created_at: claim.createdAt,
    settled_at: null,
    payment_identifier: claim.paymentIdentifier?.id ?? null,
    request_fingerprint: claim.paymentIdentifier?.fingerprint ?? null,
  });
}

/** Settled on chain evidence: `txHash` is the mined transaction that moved the money. */
export function markClaimSettled(db: Kysely<Database>, paymentId: string, txHash: string, at: string) {
  return db
    .updateTable("payments")
    .set({ status: "settled", tx_hash: txHash, settled_at: at })
    .where("id", "=", paymentId)
    .where("status", "=", "claimed");
}

export function markClaimFailed(db: Kysely<Database>, paymentId: string, reason: string) {
  return db
    .updateTable("payments")
    .set({ status: "failed", failure_reason: reason.slice(0, 500) })
    .where("id", "=", paymentId)
    .where("status", "=", "claimed");
}

/** Records what the agent was told; 'created' is final, so a 201 is never downgraded to 'pending'. */
export function markAnswered(db: Kysely<Database>, paymentId: string, answer: PaymentAnswer) {
  const query = db.updateTable("payments").set({ answer }).where("id", "=", paymentId);
  return answer === "pending" ? query.where((eb) => eb.or([eb("answer", "is", null), eb("answer", "=", "pending")])) : query;
}

/** Claims whose outcome is not known yet, oldest first: created before the cutoff, or already answered 202. */
export function findOpenClaims(db: Kysely<Database>, createdBefore: string, limit: number): Promise<PaymentRow[]> {
  return db
    .selectFrom("payments")
    .selectAll()
    .where("status", "=", "claimed")
    .where((eb) => eb.or([eb("created_at", "<=", createdBefore), eb("answer", "=", "pending")]))
    .orderBy("created_at")
    .limit(limit)
    .execute();
}
