// What the database says about voter rewards on one network: the payouts, the reward ledger summed per
// payout, per address and per poll, and the running balances. Sums are computed by SQLite as 64-bit
// integers and read back as decimal TEXT, so no amount ever passes through a JavaScript number.
import { sql, type Kysely } from "kysely";
import type { Database, PayoutStatus } from "../db/schema";

export interface PayoutRecord {
  id: string;
  address: string;
  status: PayoutStatus;
  amountAtomic: string;
  entries: number;
  fromAddress: string | null;
  txHash: string | null;
}

export interface LedgerSum {
  totalAtomic: string;
  entries: number;
}

export interface RewardsLedger {
  payouts: PayoutRecord[];
  /** Ledger entries per payout_id (every payout_id that entries point at, existing or not). */
  byPayout: Map<string, LedgerSum>;
  accrued: LedgerSum;
  /** Entries no payout has claimed. */
  unpaid: LedgerSum;
  /** Per address: the ledger, and the running balance the vote path keeps beside it. */
  byAddress: Map<string, { ledger: LedgerSum | undefined; balance: LedgerSum | undefined }>;
  /** Per poll: what its votes earned, against its reward pool. */
  byPoll: { pollId: string; earnedAtomic: string; rewardPoolAtomic: string }[];
}

const total = (column: string) => sql<string>`CAST(COALESCE(SUM(CAST(${sql.ref(column)} AS INTEGER)), 0) AS TEXT)`;
const count = sql<number>`COUNT(*)`;

export async function readRewardsLedger(db: Kysely<Database>, network: string): Promise<RewardsLedger> {
  const payouts = await db
    .selectFrom("payouts")
    .select(["id", "address", "status", "amount_atomic", "entries", "from_address", "tx_hash"])
    .where("network", "=", network)
    .where("kind", "=", "reward")
    .orderBy("created_at")
    .orderBy("id")
    .execute();

  const perPayout = await db
    .selectFrom("reward_ledger")
    .select(["payout_id", total("amount_atomic").as("total"), count.as("entries")])
    .where("network", "=", network)
    .where("payout_id", "is not", null)
    .groupBy("payout_id")
    .execute();

  const [accrued, unpaid] = await Promise.all(
    [false, true].map((unpaidOnly) =>
      db
        .selectFrom("reward_ledger")
        .select([total("amount_atomic").as("total"), count.as("entries")])
        .where("network", "=", network)
        .$if(unpaidOnly, (q) => q.where("payout_id", "is", null))
        .executeTakeFirstOrThrow(),
    ),
  );

  const perAddress = await db
    .selectFrom("reward_ledger")
    .select(["address", total("amount_atomic").as("total"), count.as("entries")])
    .where("network", "=", network)
    .groupBy("address")
    .execute();
  const balances = await db
    .selectFrom("reward_balances")
    .select(["address", sql<string>`CAST(accrued_atomic AS TEXT)`.as("total"), "votes"])
    .where("network", "=", network)
    .execute();
  const byAddress = new Map<string, { ledger: LedgerSum | undefined; balance: LedgerSum | undefined }>();
  for (const row of perAddress) byAddress.set(row.address, { ledger: { totalAtomic: row.total, entries: Number(row.entries) }, balance: undefined });
  for (const row of balances) {
    const entry = byAddress.get(row.address) ?? { ledger: undefined, balance: undefined };
    entry.balance = { totalAtomic: row.total, entries: row.votes };
    byAddress.set(row.address, entry);
  }

  const perPoll = await db
    .selectFrom("reward_ledger")
    .innerJoin("votes", "votes.id", "reward_ledger.vote_id")
    .innerJoin("polls", "polls.id", "votes.poll_id")
    .select(["votes.poll_id as poll_id", "polls.reward_pool_atomic as reward_pool_atomic", total("reward_ledger.amount_atomic").as("earned")])
    .where("reward_ledger.network", "=", network)
    .groupBy(["votes.poll_id", "polls.reward_pool_atomic"])
    .execute();

  return {
    payouts: payouts.map((row) => ({
      id: row.id,
      address: row.address.toLowerCase(),
      status: row.status,
      amountAtomic: row.amount_atomic,
      entries: row.entries,
      fromAddress: row.from_address?.toLowerCase() ?? null,
      txHash: row.tx_hash?.toLowerCase() ?? null,
    })),
    byPayout: new Map(perPayout.map((row) => [row.payout_id!, { totalAtomic: row.total, entries: Number(row.entries) }])),
    accrued: { totalAtomic: accrued!.total, entries: Number(accrued!.entries) },
    unpaid: { totalAtomic: unpaid!.total, entries: Number(unpaid!.entries) },
    byAddress,
    byPoll: perPoll.map((row) => ({ pollId: row.poll_id, earnedAtomic: row.earned, rewardPoolAtomic: row.reward_pool_atomic })),
  };
}
