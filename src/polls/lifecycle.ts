// The poll lifecycle after payment: active → completed (maxResponses reached, decided inside the vote
// write), active → expired (expiresAt passed), active → closed (its creator ended it early) and
// active → removed (the operator took it down). All four are final. Every such transition is built by ONE function,
// `transitionStatements`, as statements for a `store.batch`: the same code runs on SQLite and on D1,
// where a batch is atomic but cannot branch.
//
// The status UPDATE is the same SQL for every transition of a kind: it is compiled once and re-bound
// (src/db/compiled.ts), since the completion rides in every vote's batch.
//
// Each transition stamps the poll with a fresh `transition_id`. Statements appended to the same batch
// by a TransitionListener (e.g. the webhook outbox INSERT of a later issue) guard themselves with
// `madeTransition(ctx)`, so they take effect exactly when this batch made the transition and never when
// the poll had already completed or expired.
import { randomUUID } from "node:crypto";
import { sql, type Compilable, type Kysely } from "kysely";
import { templatedStatements } from "../db/compiled";
import type { Database, PollRow, PollStatus } from "../db/schema";
import type { Store } from "../db/store";

/** The final statuses a transition can reach. */
export type ClosedStatus = "completed" | "expired" | "closed" | "removed";

import { VISIBLE_STATUSES, type VisibleStatus } from "./wire";

export { VISIBLE_STATUSES, type VisibleStatus };

/** Statuses after which a poll never takes a vote again. */
export const FINAL_STATUSES: readonly ClosedStatus[] = ["completed", "expired", "closed", "removed"];

export interface TransitionContext {
  db: Kysely<Database>;
  pollId: string;
  to: ClosedStatus;
  /** ISO timestamp of the batch; for completed, closed and removed it is also the poll's completed_at. */
  at: string;
  /** Unique to this transition attempt; stored in polls.transition_id only if the transition happened. */
  transitionId: string;
}

/**
 * Extra statements for the transition's batch. They MUST be guarded by `madeTransition(ctx)` (e.g.
 * `INSERT INTO outbox (...) SELECT ... FROM polls WHERE id = ? AND transition_id = ?`), because the
 * batch runs them whether or not the poll actually changed state.
 */
export type TransitionListener = (ctx: TransitionContext) => Compilable[];

export interface Transition {
  transitionId: string;
  statements: Compilable[];
  /** Index in `statements` of the status UPDATE: its `changes` is 1 iff the transition happened. */
  updateIndex: number;
}

/**
 * The statements that move one poll to `to` if, and only if, its guard holds when the batch runs:
 * - completed: status is active and vote_count has reached max_responses (records completed_at);
 * - expired: status is active, expires_at <= at, and the poll is not full;
 * - closed: status is active, expires_at > at, and the poll is not full (records completed_at): a vote in
 *   a batch before it is counted, a vote in a batch after it finds the poll not active and inserts nothing;
 * - removed: status is active (records completed_at), whatever its counters and expiry.
 * Followed by each listener's statements.
 */
export function transitionStatements(
  db: Kysely<Database>,
  target: { pollId: string; to: ClosedStatus; at: string },
  listeners: readonly TransitionListener[] = [],
): Transition {
  const transitionId = randomUUID();
  const { pollId, to, at } = target;
  // The same SQL for every transition of a kind: compiled once, re-bound per call (src/db/compiled.ts).
  const [update] = templatedStatements(
    db,
    `transition:${to}`,
    ["pollId", "at", "transitionId"],
    (d, p) => {
      const active = d.updateTable("polls").where("id", "=", p.pollId!).where("status", "=", "active");
      switch (to) {
        case "completed":
          return [
            active
              .set({ status: "completed", completed_at: p.at!, transition_id: p.transitionId! })
              .where("vote_count", ">=", sql<number>`max_responses`),
          ];
        case "expired":
          return [
            active
              .set({ status: "expired", transition_id: p.transitionId! })
              .where("expires_at", "<=", p.at!)
              .where("vote_count", "<", sql<number>`max_responses`),
          ];
        case "closed":
          return [
            active
              .set({ status: "closed", completed_at: p.at!, transition_id: p.transitionId! })
              .where("expires_at", ">", p.at!)
              .where("vote_count", "<", sql<number>`max_responses`),
          ];
        case "removed":
          return [active.set({ status: "removed", completed_at: p.at!, transition_id: p.transitionId! })];
      }
    },
    { pollId, at, transitionId },
  );
  const ctx: TransitionContext = { db, pollId, to, at, transitionId };
  return { transitionId, updateIndex: 0, statements: [update!, ...listeners.flatMap((listener) => listener(ctx))] };
}

/** A subquery that has a row iff the transition `ctx` happened: use it in `WHERE EXISTS (...)`. */
export function madeTransition(ctx: TransitionContext) {
  return ctx.db
    .selectFrom("polls")
    .select(sql<number>`1`.as("one"))
    .where("id", "=", ctx.pollId)
    .where("transition_id", "=", ctx.transitionId);
}

/** The status the outside world sees: an active poll past its expiry reads as expired before the sweep ran. */
export function effectiveStatus(poll: Pick<PollRow, "status" | "expires_at">, now: Date): PollStatus {
  if (poll.status === "active" && Date.parse(poll.expires_at) <= now.getTime()) return "expired";
  return poll.status;
}

/** The status of a settled poll as the API shows it. */
export function visibleStatus(poll: Pick<PollRow, "status" | "expires_at">, now: Date): VisibleStatus {
  const status = effectiveStatus(poll, now);
  return isFinalStatus(status) ? status : "active";
}

/** True for a status after which the poll never takes a vote again. */
export function isFinalStatus(status: PollStatus): status is ClosedStatus {
  return (FINAL_STATUSES as readonly PollStatus[]).includes(status);
}

/**
 * The expiry sweep: moves every active poll whose expiry has passed to `expired`, in batches of
 * `limit` polls per call. The Node server runs it periodically; a Workers cron can call it as is.
 * Returns the ids of the polls this call expired.
 */
export async function expireDuePolls(
  store: Store,
  now: Date,
  listeners: readonly TransitionListener[] = [],
  limit = 200,
): Promise<string[]> {
  const at = now.toISOString();
  const due = await store.db
    .selectFrom("polls")
    .select("id")
    .where("status", "=", "active")
    .where("expires_at", "<=", at)
    .orderBy("expires_at")
    .limit(limit)
    .execute();
  if (due.length === 0) return [];
  const transitions = due.map((row) => ({ id: row.id, ...transitionStatements(store.db, { pollId: row.id, to: "expired", at }, listeners) }));
  const results = await store.batch(transitions.flatMap((t) => t.statements));
  const expired: string[] = [];
  let offset = 0;
  for (const t of transitions) {
    if ((results[offset + t.updateIndex]?.changes ?? 0) === 1) expired.push(t.id);
    offset += t.statements.length;
  }
  return expired;
}
