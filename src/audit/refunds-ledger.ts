// What the database says about refunds of unfilled responses on one network: the refund rows of the
// outgoing-transfer queue (payouts, kind 'refund'), what each paid-for poll owes back under the policy it
// was sold under, and how each paid-for poll's price splits into rewards, fees kept, refunds and what is
// still held for polls that take votes. Sums are SQLite's 64-bit integers read back as decimal TEXT.
import { sql, type Kysely } from "kysely";
import type { Database, PayoutStatus, PollStatus, RefundPolicy } from "../db/schema";

export interface RefundRecord {
  id: string;
  pollId: string | null;
  address: string;
  status: PayoutStatus;
  amountAtomic: string;
  fromAddress: string | null;
  txHash: string | null;
}

/** A poll paid for by a settled payment on this network, with what its votes earned. */
export interface PaidPoll {
  pollId: string;
  status: PollStatus;
  refundPolicy: RefundPolicy;
  payer: string;
  maxResponses: number;
  voteCount: number;
  costAtomic: string;
  /** Sum of the reward ledger entries of its votes. */
  earnedAtomic: string;
}

export interface RefundsLedger {
  refunds: RefundRecord[];
  polls: PaidPoll[];
}

const total = (column: string) => sql<string>`CAST(COALESCE(SUM(CAST(${sql.ref(column)} AS INTEGER)), 0) AS TEXT)`;

export async function readRefundsLedger(db: Kysely<Database>, network: string): Promise<RefundsLedger> {
  const refunds = await db
    .selectFrom("payouts")
    .select(["id", "poll_id", "address", "status", "amount_atomic", "from_address", "tx_hash"])
    .where("network", "=", network)
    .where("kind", "=", "refund")
    .orderBy("created_at")
    .orderBy("id")
    .execute();

  const earned = db
    .selectFrom("reward_ledger")
    .innerJoin("votes", "votes.id", "reward_ledger.vote_id")
    .select(["votes.poll_id as poll_id", total("reward_ledger.amount_atomic").as("earned")])
    .where("reward_ledger.network", "=", network)
    .groupBy("votes.poll_id")
    .as("earned");
  const polls = await db
    .selectFrom("polls")
    .leftJoin(earned, "earned.poll_id", "polls.id")
    .select([
      "polls.id as id",
      "polls.status as status",
      "polls.refund_policy as refund_policy",
      "polls.payer as payer",
      "polls.max_responses as max_responses",
      "polls.vote_count as vote_count",
      "polls.cost_atomic as cost_atomic",
      sql<string>`COALESCE(earned.earned, '0')`.as("earned"),
    ])
    .where("polls.network", "=", network)
    .where((w) =>
      w.exists(
        w
          .selectFrom("payments")
          .select(sql<number>`1`.as("one"))
          .whereRef("payments.poll_id", "=", "polls.id")
          .where("payments.status", "=", "settled"),
      ),
    )
    .orderBy("polls.created_at")
    .orderBy("polls.id")
    .execute();

  return {
    refunds: refunds.map((row) => ({
      id: row.id,
      pollId: row.poll_id,
      address: row.address.toLowerCase(),
      status: row.status,
      amountAtomic: row.amount_atomic,
      fromAddress: row.from_address?.toLowerCase() ?? null,
      txHash: row.tx_hash?.toLowerCase() ?? null,
    })),
    polls: polls.map((row) => ({
      pollId: row.id,
      status: row.status,
      refundPolicy: row.refund_policy,
      payer: row.payer.toLowerCase(),
      maxResponses: row.max_responses,
      voteCount: row.vote_count,
      costAtomic: row.cost_atomic,
      earnedAtomic: row.earned,
    })),
  };
}
