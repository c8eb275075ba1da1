// SQL for payment authorizations. Claims are written in the same batch as the poll they pay for.
import { sql, type Kysely } from "kysely";
import type { Database, PaymentRow } from "../db/schema";

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
  });
}

export function markClaimSettled(db: Kysely<Database>, paymentId: string, txHash: string | null, at: string) {
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
