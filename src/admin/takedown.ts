// Taking a poll down (POST /admin/api/v1/polls/{id}/takedown): its status becomes `removed` — it leaves
// the feed, refuses votes, its public results need the read token again — and the action is recorded in
// admin_actions in the same atomic batch, so no takedown is ever unlogged.
//
// - An active poll makes the lifecycle transition active → removed (src/polls/lifecycle.ts) with its
//   listeners: the webhook outbox enqueues poll.completed with status "removed", and the payout round
//   refunds the unfilled responses per the poll's refund policy.
// - A poll that already ended (completed, expired, closed) is marked removed too, to take its content out
//   of public view; its creator already had its final webhook, so none is sent again.
// - A removed poll: nothing changes; the repeat is still recorded (outcome 'unchanged').
// The batch cannot branch (D1), so both UPDATEs are guarded by status and share one transition id, and the
// two admin_actions INSERTs are guarded by whether the poll carries that transition id afterwards.
import { randomUUID } from "node:crypto";
import { sql, type Compilable, type Kysely } from "kysely";
import type { AdminActionRow, Database, PollStatus } from "../db/schema";
import type { Store } from "../db/store";
import { ApiError } from "../http/errors";
import { findPoll, transitionStatements, type TransitionListener } from "../polls";

export interface TakedownRequest {
  pollId: string;
  reason: string;
  actor: string;
  at: Date;
}

export interface TakedownOutcome {
  action: AdminActionRow;
  previousStatus: PollStatus;
  /** The poll was active: the webhook and the refund follow. */
  endedNow: boolean;
}

const ENDED: PollStatus[] = ["completed", "expired", "closed"];

function actionInsert(db: Kysely<Database>, request: TakedownRequest, id: string, transitionId: string, outcome: "applied" | "unchanged"): Compilable {
  const made = db.selectFrom("polls").select(sql<number>`1`.as("one")).where("id", "=", request.pollId).where("transition_id", "=", transitionId);
  return db
    .insertInto("admin_actions")
    .columns(["id", "action", "poll_id", "actor", "reason", "outcome", "created_at"])
    .expression((eb) =>
      eb
        .selectFrom("polls")
        .select([
          eb.val(id).as("id"),
          eb.val("takedown").as("action"),
          "polls.id as poll_id",
          eb.val(request.actor).as("actor"),
          eb.val(request.reason).as("reason"),
          eb.val(outcome).as("outcome"),
          eb.val(request.at.toISOString()).as("created_at"),
        ])
        .where("polls.id", "=", request.pollId)
        .where((w) => (outcome === "applied" ? w.exists(made) : w.not(w.exists(made)))),
    );
}

export async function takeDown(store: Store, request: TakedownRequest, listeners: readonly TransitionListener[]): Promise<TakedownOutcome> {
  const before = await findPoll(store.db, request.pollId);
  if (!before || before.status === "pending_payment" || before.status === "payment_failed") {
    throw new ApiError(404, "poll_not_found", "No settled poll has this id.", "id");
  }
  const at = request.at.toISOString();
  const transition = transitionStatements(store.db, { pollId: request.pollId, to: "removed", at }, listeners);
  const actionId = randomUUID();
  const statements: Compilable[] = [
    ...transition.statements,
    store.db
      .updateTable("polls")
      .set({ status: "removed", transition_id: transition.transitionId })
      .where("id", "=", request.pollId)
      .where("status", "in", ENDED),
    actionInsert(store.db, request, actionId, transition.transitionId, "applied"),
    actionInsert(store.db, request, actionId, transition.transitionId, "unchanged"),
  ];
  const results = await store.batch(statements);
  const endedNow = (results[transition.updateIndex]?.changes ?? 0) === 1;
  const hidden = (results[transition.statements.length]?.changes ?? 0) === 1;
  const action = await store.db.selectFrom("admin_actions").selectAll().where("id", "=", actionId).executeTakeFirstOrThrow();
  return { action, previousStatus: endedNow ? "active" : hidden ? before.status : "removed", endedNow };
}

export async function listAdminActions(db: Kysely<Database>, options: { pollId?: string; limit: number }): Promise<AdminActionRow[]> {
  let query = db.selectFrom("admin_actions").selectAll().orderBy("created_at", "desc").orderBy("id").limit(options.limit);
  if (options.pollId !== undefined) query = query.where("poll_id", "=", options.pollId);
  return query.execute();
}
