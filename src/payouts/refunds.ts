// Refunds of unfilled responses: a poll sold under the 'unfilled' policy that ends without filling up
// (expired, closed early, taken down) owes its payer (maxResponses − voteCount) × the price per response,
// on the network it paid on. The refund is a row of the one queue of outgoing transfers (`payouts`, kind
// 'refund'): the payout job signs, records, broadcasts and confirms it exactly as a voter's payout, from
// the same wallet, with the same crash reconciliation and the same pause.
//
// Queuing (queueRefundsStatements) is one INSERT … SELECT … ON CONFLICT DO NOTHING per poll that ended
// with no refund yet, run by every payout round and by the lifecycle sweep (also on Workers, where no
// transfer is sent yet): whoever changed the poll's status (the sweep, a close, a takedown) needs to
// know nothing about refunds. "Exactly once" is the database's: the partial UNIQUE index
// payouts_one_refund_per_poll allows one refund per poll that is not 'failed' (a failed one moved no
// money, so a new one is queued, as a failed reward payout's entries go into a new payout).
import { randomUUID } from "node:crypto";
import { sql, type Kysely } from "kysely";
import type { Database, PayoutRow, PollRow, PollStatus } from "../db/schema";
import type { Store } from "../db/store";
import { PRICE_PER_RESPONSE_ATOMIC, usdcNumber } from "../payment";
import type { PollRefundShape, RefundLookup } from "../polls";

/** Statuses of a poll that ended without (necessarily) filling up; `completed` means it filled. */
export const REFUNDABLE_STATUSES: readonly PollStatus[] = ["expired", "closed", "removed"];

/** What a poll with `voteCount` of `maxResponses` answers owes back under the 'unfilled' policy. */
export function unfilledRefundAtomic(maxResponses: number, voteCount: number): bigint {
  return voteCount >= maxResponses ? 0n : BigInt(maxResponses - voteCount) * PRICE_PER_RESPONSE_ATOMIC;
}

/** Polls whose refunds are queued per call at most (the next round takes the rest). */
const QUEUE_LIMIT = 200;

/**
 * The polls-side terms of "a refund is owed": policy, ended, not full. The round reads the ended polls of
 * its network (polls_by_status_expiry) and looks each up in payouts_one_refund_per_poll.
 */
function refundable(db: Kysely<Database>) {
  return db
    .selectFrom("polls")
    .where("polls.refund_policy", "=", "unfilled")
    .where("polls.status", "in", REFUNDABLE_STATUSES)
    .where("polls.vote_count", "<", sql<number>`polls.max_responses`);
}

/** Ended polls owed a refund that has none (none but failed ones), oldest first. */
export async function pollsAwaitingRefund(db: Kysely<Database>, network: string | undefined, limit = QUEUE_LIMIT) {
  return refundable(db)
    .select(["polls.id", "polls.network", "polls.max_responses", "polls.vote_count"])
    .$if(network !== undefined, (q) => q.where("polls.network", "=", network!))
    .where((w) =>
      w.not(
        w.exists(
          w
            .selectFrom("payouts")
            .select(sql<number>`1`.as("one"))
            .whereRef("payouts.poll_id", "=", "polls.id")
            .where("payouts.kind", "=", "refund")
            .where("payouts.status", "<>", "failed"),
        ),
      ),
    )
    .orderBy("polls.created_at")
    .orderBy("polls.id")
    .limit(limit)
    .execute();
}

/**
 * Queues the refunds owed by ended polls (on one network, or every one). One batch of guarded inserts:
 * each re-checks, when it runs, that the poll is still owed exactly the amount computed here, and the
 * UNIQUE index turns a concurrent duplicate into nothing. Returns how many were queued.
 */
export async function queueOwedRefunds(store: Store, now: Date, network?: string): Promise<number> {
  const { db } = store;
  const due = await pollsAwaitingRefund(db, network);
  if (due.length === 0) return 0;
  const at = now.toISOString();
  const statements = due.map((poll) =>
    db
      .insertInto("payouts")
      .columns(["id", "kind", "poll_id", "address", "network", "status", "trigger", "amount_atomic", "entries", "created_at", "updated_at"])
      .expression((eb) =>
        refundable(db)
          .select([
            eb.val(randomUUID()).as("id"),
            eb.val("refund").as("kind"),
            "polls.id as poll_id",
            sql<string>`lower(polls.payer)`.as("address"),
            "polls.network as network",
            eb.val("claimed").as("status"),
            eb.val("poll_ended").as("trigger"),
            eb.val(unfilledRefundAtomic(poll.max_responses, poll.vote_count).toString()).as("amount_atomic"),
            eb.val(0).as("entries"),
            eb.val(at).as("created_at"),
            eb.val(at).as("updated_at"),
          ])
          .where("polls.id", "=", poll.id)
          .where("polls.vote_count", "=", poll.vote_count)
          .where("polls.max_responses", "=", poll.max_responses),
      )
      .onConflict((oc) => oc.doNothing()),
  );
  const results = await store.batch(statements);
  return results.reduce((sum, result) => sum + result.changes, 0);
}

/** The poll's refunds, the one that is not failed first, then the newest. */
function refundsOfPoll(db: Kysely<Database>, pollId: string): Promise<PayoutRow[]> {
  return db
    .selectFrom("payouts")
    .selectAll()
    .where("poll_id", "=", pollId)
    .where("kind", "=", "refund")
    .orderBy(sql`CASE WHEN status = 'failed' THEN 1 ELSE 0 END`)
    .orderBy("created_at", "desc")
    .limit(1)
    .execute();
}

/** How a refund row's status reads on the poll: a failed refund is followed by a new one, so it is still pending. */
function refundStatus(row: PayoutRow | undefined): PollRefundShape["status"] {
  if (!row || row.status === "claimed" || row.status === "signed" || row.status === "failed") return "pending";
  return row.status;
}

/**
 * The refund a poll shows (GET /api/v1/polls/{id}, /results): only when one is owed — policy 'unfilled',
 * ended (`status` as the API shows it: an active poll past its expiry already reads expired) without
 * filling up. Otherwise undefined, without reading anything.
 */
export function refundLookup(db: Kysely<Database>): RefundLookup {
  return async (poll: Pick<PollRow, "id" | "refund_policy" | "max_responses" | "vote_count">, status: PollStatus) => {
    if (poll.refund_policy !== "unfilled" || !REFUNDABLE_STATUSES.includes(status)) return undefined;
    const owed = unfilledRefundAtomic(poll.max_responses, poll.vote_count);
    if (owed === 0n) return undefined;
    const [row] = await refundsOfPoll(db, poll.id);
    const current = row && row.status !== "failed" ? row : undefined;
    const amount = current ? BigInt(current.amount_atomic) : owed;
    return {
      status: refundStatus(row),
      amountAtomic: amount.toString(),
      amountUsdc: usdcNumber(amount),
      txHash: current?.tx_hash ?? null,
    };
  };
}
