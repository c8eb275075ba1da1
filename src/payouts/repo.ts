// SQL of voter payouts. Every write that must be atomic is one `store.batch` of guarded statements with
// no branching between them, so it runs unchanged on SQLite and on D1 (no interactive transactions).
//
// Claiming (claimStatements), in one batch:
//   1. INSERT the payout row … SELECT … FROM the address's unpaid ledger entries on that network,
//      GROUP BY … HAVING their sum ≥ the minimum, and only when the address has no open payout there.
//      0 rows → nothing to claim (or a concurrent claim won).
//   2. UPDATE reward_ledger SET payout_id = <id> WHERE address/network match AND payout_id IS NULL,
//      guarded by EXISTS (the payout row): it only takes effect when 1. inserted.
//   3. UPDATE the payout's amount and entry count FROM the entries it now owns (SUM over their amounts).
// An entry leaves `payout_id IS NULL` only through 2., so it can belong to one payout at a time; it
// returns to NULL only when its payout failed (failAndReleaseStatements, or an operator's release of a
// parked payout), i.e. when no money moved.
//
// Parking (parkStatement): a claimed payout the token refuses before anything is signed becomes
// `parked` and KEEPS its entries: still owed to that address, never claimed by another payout. It
// counts as holding the address (HOLDING_STATUSES), so no new payout is claimed behind it.
//
// Refunds (kind 'refund', src/payouts/refunds.ts) are rows of the same table that hold no ledger entries:
// what concerns an address's entries filters kind = 'reward'; the queue itself (in flight, next claimed,
// pending, nonces, parked, retry/release) takes both kinds alike.
import { sql, type Compilable, type Kysely } from "kysely";
import type { Database, PayoutRow, PayoutStatus } from "../db/schema";
import { isUniqueViolation, type Store } from "../db/store";

/** Payouts the job still sends (the payout wallet must cover them). */
export const OPEN_STATUSES: readonly PayoutStatus[] = ["claimed", "signed", "sent"];
export const IN_FLIGHT_STATUSES: readonly PayoutStatus[] = ["signed", "sent"];
/** Payouts holding an address's entries unpaid: at most one per address and network (payouts_one_open). */
export const HOLDING_STATUSES: readonly PayoutStatus[] = [...OPEN_STATUSES, "parked"];

/** SUM of a TEXT column of atomic amounts as a 64-bit integer (amounts are small integers). */
const sumAtomic = (column: string) => sql<number | string | null>`SUM(CAST(${sql.ref(column)} AS INTEGER))`;

export interface ClaimInput {
  id: string;
  address: string;
  network: string;
  trigger: "threshold" | "request";
  /** Claim only when the unpaid entries add up to at least this (1 for "any amount"). */
  minAtomic: bigint;
  at: string;
}

export function claimStatements(db: Kysely<Database>, claim: ClaimInput): Compilable[] {
  const { id, address, network, at } = claim;
  const insert = db
    .insertInto("payouts")
    .columns(["id", "address", "network", "status", "trigger", "created_at", "updated_at"])
    .expression((eb) =>
      eb
        .selectFrom("reward_ledger")
        .select([
          eb.val(id).as("id"),
          eb.val(address).as("address"),
          eb.val(network).as("network"),
          eb.val("claimed").as("status"),
          eb.val(claim.trigger).as("trigger"),
          eb.val(at).as("created_at"),
          eb.val(at).as("updated_at"),
        ])
        .where("reward_ledger.address", "=", address)
        .where("reward_ledger.network", "=", network)
        .where("reward_ledger.payout_id", "is", null)
        .where((w) =>
          w.not(
            w.exists(
              w
                .selectFrom("payouts")
                .select(sql<number>`1`.as("one"))
                .where("payouts.kind", "=", "reward")
                .where("payouts.address", "=", address)
                .where("payouts.network", "=", network)
                .where("payouts.status", "in", HOLDING_STATUSES),
            ),
          ),
        )
        .groupBy(["reward_ledger.address", "reward_ledger.network"])
        .having(sumAtomic("reward_ledger.amount_atomic"), ">=", sql<number>`${Number(claim.minAtomic)}`),
    );
  const claimEntries = db
    .updateTable("reward_ledger")
    .set({ payout_id: id })
    .where("address", "=", address)
    .where("network", "=", network)
    .where("payout_id", "is", null)
    .where((w) => w.exists(w.selectFrom("payouts").select(sql<number>`1`.as("one")).where("payouts.id", "=", id)));
  const setAmount = db
    .updateTable("payouts")
    .set({
      amount_atomic: sql<string>`(SELECT CAST(COALESCE(SUM(CAST(reward_ledger.amount_atomic AS INTEGER)), 0) AS TEXT) FROM reward_ledger WHERE reward_ledger.payout_id = ${id})`,
      entries: sql<number>`(SELECT COUNT(*) FROM reward_ledger WHERE reward_ledger.payout_id = ${id})`,
    })
    .where("id", "=", id);
  return [insert, claimEntries, setAmount];
}

/** Claims; true when the payout row was created (with ≥ 1 entry). */
export async function claimPayout(store: Store, claim: ClaimInput): Promise<boolean> {
  try {
    const [inserted] = await store.batch(claimStatements(store.db, claim));
    return (inserted?.changes ?? 0) === 1;
  } catch (error) {
    // payouts_one_open: a concurrent claim for the same address and network won (the batch rolled back).
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

export interface SignedRecord {
  id: string;
  fromAddress: string;
  token: string;
  nonce: number;
  signedTx: string;
  txHash: string;
  at: string;
}

/** claimed → signed, with the signed transaction: written BEFORE the transaction is broadcast. */
export function recordSigned(db: Kysely<Database>, record: SignedRecord) {
  return db
    .updateTable("payouts")
    .set({
      status: "signed",
      from_address: record.fromAddress,
      token: record.token,
      nonce: record.nonce,
      signed_tx: record.signedTx,
      tx_hash: record.txHash,
      signed_at: record.at,
      updated_at: record.at,
    })
    .where("id", "=", record.id)
    .where("status", "=", "claimed");
}

/** The node accepted the transaction (first broadcast or a re-broadcast). */
export function markSent(db: Kysely<Database>, id: string, at: string) {
  return db
    .updateTable("payouts")
    .set({
      status: "sent",
      sent_at: sql<string>`COALESCE(sent_at, ${at})`,
      broadcasts: sql<number>`broadcasts + 1`,
      updated_at: at,
    })
    .where("id", "=", id)
    .where("status", "in", IN_FLIGHT_STATUSES);
}

export function markConfirmed(db: Kysely<Database>, id: string, blockNumber: number, at: string) {
  return db
    .updateTable("payouts")
    .set({ status: "confirmed", block_number: blockNumber, confirmed_at: at, updated_at: at })
    .where("id", "=", id)
    .where("status", "in", IN_FLIGHT_STATUSES);
}

/**
 * open → failed, and the entries go back to unpaid, in one batch. Only for payouts that moved no
 * money: a reverted receipt, or a nonce consumed by another transaction while ours has no receipt.
 */
export function failAndReleaseStatements(db: Kysely<Database>, id: string, reason: string, blockNumber: number | null, at: string): Compilable[] {
  return [
    db
      .updateTable("payouts")
      .set({ status: "failed", failure_reason: reason, block_number: blockNumber, updated_at: at })
      .where("id", "=", id)
      .where("status", "in", OPEN_STATUSES),
    db
      .updateTable("reward_ledger")
      .set({ payout_id: null })
      .where("payout_id", "=", id)
      .where((w) =>
        w.exists(w.selectFrom("payouts").select(sql<number>`1`.as("one")).where("payouts.id", "=", id).where("payouts.status", "=", "failed")),
      ),
  ];
}

/** Longest parked reason stored (the chain's revert message, trimmed). */
const MAX_PARKED_REASON = 300;

/** claimed → parked: the token refused the transfer before anything was signed. The entries stay with it. */
export function parkStatement(db: Kysely<Database>, id: string, reason: string, at: string) {
  return db
    .updateTable("payouts")
    .set({ status: "parked", parked_at: at, parked_reason: reason.slice(0, MAX_PARKED_REASON), updated_at: at })
    .where("id", "=", id)
    .where("status", "=", "claimed");
}

/** parked → claimed (operator's retry): the job tries it again in its next round, oldest first. */
export function retryParkedStatement(db: Kysely<Database>, id: string, at: string) {
  return db
    .updateTable("payouts")
    .set({ status: "claimed", parked_at: null, parked_reason: null, updated_at: at })
    .where("id", "=", id)
    .where("status", "=", "parked");
}

/**
 * parked → failed ("released"), and its entries back to unpaid, in one batch (operator's release). A
 * parked payout is one nobody signed, so no money moved: the entries are paid by the address's next payout.
 */
export function releaseParkedStatements(db: Kysely<Database>, id: string, at: string): Compilable[] {
  return [
    db
      .updateTable("payouts")
      .set({ status: "failed", failure_reason: "released", updated_at: at })
      .where("id", "=", id)
      .where("status", "=", "parked"),
    db
      .updateTable("reward_ledger")
      .set({ payout_id: null })
      .where("payout_id", "=", id)
      .where((w) =>
        w.exists(
          w
            .selectFrom("payouts")
            .select(sql<number>`1`.as("one"))
            .where("payouts.id", "=", id)
            .where("payouts.status", "=", "failed")
            .where("payouts.failure_reason", "=", "released"),
        ),
      ),
  ];
}

/** Parked payouts, oldest first (every network, or one). */
export function findParked(db: Kysely<Database>, network?: string): Promise<PayoutRow[]> {
  return db
    .selectFrom("payouts")
    .selectAll()
    .where("status", "=", "parked")
    .$if(network !== undefined, (q) => q.where("network", "=", network!))
    .orderBy("parked_at")
    .orderBy("id")
    .execute();
}

export interface ParkedSummary {
  count: number;
  amountAtomic: bigint;
  oldest: { id: string; parkedAt: string; reason: string } | null;
}

/** What /healthz shows of the parked payouts on one network. */
export async function parkedSummary(db: Kysely<Database>, network: string): Promise<ParkedSummary> {
  const totals = await db
    .selectFrom("payouts")
    .select([sql<number>`COUNT(*)`.as("count"), sumAtomic("amount_atomic").as("total")])
    .where("network", "=", network)
    .where("status", "=", "parked")
    .executeTakeFirst();
  const oldest = await db
    .selectFrom("payouts")
    .select(["id", "parked_at", "parked_reason"])
    .where("network", "=", network)
    .where("status", "=", "parked")
    .orderBy("parked_at")
    .orderBy("id")
    .limit(1)
    .executeTakeFirst();
  return {
    count: Number(totals?.count ?? 0),
    amountAtomic: BigInt(totals?.total ?? 0),
    oldest: oldest ? { id: oldest.id, parkedAt: oldest.parked_at ?? "", reason: oldest.parked_reason ?? "" } : null,
  };
}

export function findPayout(db: Kysely<Database>, id: string): Promise<PayoutRow | undefined> {
  return db.selectFrom("payouts").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Payouts whose transaction is signed and not yet decided, in nonce order. */
export function findInFlight(db: Kysely<Database>, network: string): Promise<PayoutRow[]> {
  return db
    .selectFrom("payouts")
    .selectAll()
    .where("network", "=", network)
    .where("status", "in", IN_FLIGHT_STATUSES)
    .orderBy("nonce")
    .orderBy("created_at")
    .execute();
}

/** The oldest claimed payout (nothing signed yet) on a network. */
export function findNextClaimed(db: Kysely<Database>, network: string): Promise<PayoutRow | undefined> {
  return db
    .selectFrom("payouts")
    .selectAll()
    .where("network", "=", network)
    .where("status", "=", "claimed")
    .orderBy("created_at")
    .orderBy("id")
    .limit(1)
    .executeTakeFirst();
}

/** The highest nonce this wallet ever recorded on the network (-1 if none). */
export async function maxRecordedNonce(db: Kysely<Database>, network: string, fromAddress: string): Promise<number> {
  const row = await db
    .selectFrom("payouts")
    .select(sql<number | null>`MAX(nonce)`.as("nonce"))
    .where("network", "=", network)
    .where("from_address", "=", fromAddress)
    .executeTakeFirst();
  return row?.nonce ?? -1;
}

/** Sum of the open payouts (claimed, signed, sent) on a network: what the wallet must cover. */
export async function pendingAtomic(db: Kysely<Database>, network: string): Promise<bigint> {
  const row = await db
    .selectFrom("payouts")
    .select(sumAtomic("amount_atomic").as("total"))
    .where("network", "=", network)
    .where("status", "in", OPEN_STATUSES)
    .executeTakeFirst();
  return BigInt(row?.total ?? 0);
}

/** Addresses whose unpaid entries on the network add up to ≥ threshold and that have no open or parked payout. */
export async function addressesOverThreshold(
  db: Kysely<Database>,
  network: string,
  threshold: bigint,
  limit: number,
): Promise<{ address: string; unpaid: bigint }[]> {
  const rows = await db
    .selectFrom("reward_ledger")
    .select(["address", sumAtomic("amount_atomic").as("unpaid")])
    .where("network", "=", network)
    .where("payout_id", "is", null)
    .where((w) =>
      w.not(
        w.exists(
          w
            .selectFrom("payouts")
            .select(sql<number>`1`.as("one"))
            .where("payouts.kind", "=", "reward")
            .whereRef("payouts.address", "=", "reward_ledger.address")
            .where("payouts.network", "=", network)
            .where("payouts.status", "in", HOLDING_STATUSES),
        ),
      ),
    )
    .groupBy("address")
    .having(sumAtomic("amount_atomic"), ">=", sql<number>`${Number(threshold)}`)
    .orderBy("address")
    .limit(limit)
    .execute();
  return rows.map((row) => ({ address: row.address, unpaid: BigInt(row.unpaid ?? 0) }));
}

/** Unpaid (not claimed by any payout) totals of one address, per network. */
export async function unpaidByNetwork(db: Kysely<Database>, address: string): Promise<Map<string, bigint>> {
  const rows = await db
    .selectFrom("reward_ledger")
    .select(["network", sumAtomic("amount_atomic").as("unpaid")])
    .where("address", "=", address)
    .where("payout_id", "is", null)
    .groupBy("network")
    .execute();
  return new Map(rows.map((row) => [row.network, BigInt(row.unpaid ?? 0)]));
}

/** The address's reward payouts holding entries (open or parked), oldest first. */
export function findOpenPayouts(db: Kysely<Database>, address: string): Promise<PayoutRow[]> {
  return db
    .selectFrom("payouts")
    .selectAll()
    .where("kind", "=", "reward")
    .where("address", "=", address)
    .where("status", "in", HOLDING_STATUSES)
    .orderBy("created_at")
    .execute();
}

export interface PayoutSummary {
  /** Open and parked payouts: still owed, not yet paid. */
  pendingAtomic: bigint;
  paidAtomic: bigint;
  /** Most recent first. */
  recent: PayoutRow[];
  /** Parked payouts (whatever their age), oldest first. */
  parked: PayoutRow[];
}

/** Per network: pending (open) and paid (confirmed) totals and the most recent reward payouts of an address (refunds are the poll's). */
export async function payoutSummaries(db: Kysely<Database>, address: string, recentLimit = 20): Promise<Map<string, PayoutSummary>> {
  const totals = await db
    .selectFrom("payouts")
    .select(["network", "status", sumAtomic("amount_atomic").as("total")])
    .where("kind", "=", "reward")
    .where("address", "=", address)
    .where("status", "!=", "failed")
    .groupBy(["network", "status"])
    .execute();
  const recent = await db
    .selectFrom("payouts")
    .selectAll()
    .where("kind", "=", "reward")
    .where("address", "=", address)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(recentLimit)
    .execute();
  const parked = await db
    .selectFrom("payouts")
    .selectAll()
    .where("kind", "=", "reward")
    .where("address", "=", address)
    .where("status", "=", "parked")
    .orderBy("parked_at")
    .execute();
  const out = new Map<string, PayoutSummary>();
  const entry = (network: string) => {
    let summary = out.get(network);
    if (!summary) {
      summary = { pendingAtomic: 0n, paidAtomic: 0n, recent: [], parked: [] };
      out.set(network, summary);
    }
    return summary;
  };
  for (const row of totals) {
    const summary = entry(row.network);
    const total = BigInt(row.total ?? 0);
    if (row.status === "confirmed") summary.paidAtomic += total;
    else summary.pendingAtomic += total;
  }
  for (const row of recent) entry(row.network).recent.push(row);
  for (const row of parked) entry(row.network).parked.push(row);
  return out;
}

/** The address's rewarded votes and accrued total per network (reward_balances, kept by the vote write). */
export function findRewardBalances(db: Kysely<Database>, address: string) {
  return db.selectFrom("reward_balances").selectAll().where("address", "=", address).orderBy("network").execute();
}
