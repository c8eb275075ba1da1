// What the database says about payments in, on one network: every payment row (any status) with the
// poll it paid for, and the live polls that no settled payment paid for. Only the columns the audit
// needs are selected, so columns added to these tables later change nothing here.
import { sql, type Kysely } from "kysely";
import type { Database, PaymentStatus, PollStatus } from "../db/schema";

/**
 * The parts a poll's cost is split into: they must add up to cost_atomic exactly. A new part (a refund
 * column) joins the audit by being added here.
 */
export const POLL_COST_PARTS = ["reward_pool_atomic", "fee_atomic"] as const;
export type PollCostPart = (typeof POLL_COST_PARTS)[number];

/** Polls that exist for voters (they were paid for). */
export const LIVE_POLL_STATUSES: readonly PollStatus[] = ["active", "completed", "expired", "closed", "removed"];

export interface PaymentRecord {
  id: string;
  pollId: string;
  payer: string;
  nonce: string;
  asset: string;
  payTo: string;
  amountAtomic: string;
  status: PaymentStatus;
  txHash: string | null;
  createdAt: string;
  /** The poll it paid for; null when no such poll exists. */
  poll: { status: PollStatus; costAtomic: string; parts: Record<PollCostPart, string> } | null;
}

export interface PaymentsLedger {
  payments: PaymentRecord[];
  livePollsWithoutSettledPayment: { pollId: string; status: PollStatus }[];
}

export async function readPaymentsLedger(db: Kysely<Database>, network: string): Promise<PaymentsLedger> {
  const rows = await db
    .selectFrom("payments")
    .leftJoin("polls", "polls.id", "payments.poll_id")
    .select([
      "payments.id as id",
      "payments.poll_id as poll_id",
      "payments.payer as payer",
      "payments.nonce as nonce",
      "payments.asset as asset",
      "payments.pay_to as pay_to",
      "payments.amount_atomic as amount_atomic",
      "payments.status as status",
      "payments.tx_hash as tx_hash",
      "payments.created_at as created_at",
      "polls.id as poll_row_id",
      "polls.status as poll_status",
      "polls.cost_atomic as poll_cost_atomic",
      ...POLL_COST_PARTS.map((part) => sql<string | null>`${sql.ref(`polls.${part}`)}`.as(`part_${part}`)),
    ])
    .where("payments.network", "=", network)
    .orderBy("payments.created_at")
    .orderBy("payments.id")
    .execute();

  const payments = rows.map((row): PaymentRecord => {
    const record = row as typeof row & Record<`part_${PollCostPart}`, string | null>;
    return {
      id: row.id,
      pollId: row.poll_id,
      payer: row.payer.toLowerCase(),
      nonce: row.nonce.toLowerCase(),
      asset: row.asset.toLowerCase(),
      payTo: row.pay_to.toLowerCase(),
      amountAtomic: row.amount_atomic,
      status: row.status,
      txHash: row.tx_hash?.toLowerCase() ?? null,
      createdAt: row.created_at,
      poll:
        row.poll_row_id === null || row.poll_status === null || row.poll_cost_atomic === null
          ? null
          : {
              status: row.poll_status,
              costAtomic: row.poll_cost_atomic,
              parts: Object.fromEntries(POLL_COST_PARTS.map((part) => [part, record[`part_${part}`] ?? ""])) as Record<PollCostPart, string>,
            },
    };
  });

  const livePollsWithoutSettledPayment = await db
    .selectFrom("polls")
    .select(["id", "status"])
    .where("network", "=", network)
    .where("status", "in", LIVE_POLL_STATUSES)
    .where((w) =>
      w.not(
        w.exists(
          w
            .selectFrom("payments")
            .select(sql<number>`1`.as("one"))
            .whereRef("payments.poll_id", "=", "polls.id")
            .where("payments.status", "=", "settled"),
        ),
      ),
    )
    .orderBy("created_at")
    .execute();

  return {
    payments,
    livePollsWithoutSettledPayment: livePollsWithoutSettledPayment.map((row) => ({ pollId: row.id, status: row.status })),
  };
}
