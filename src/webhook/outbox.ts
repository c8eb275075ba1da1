// The webhook outbox: a TransitionListener whose INSERT rides in the same batch as the lifecycle
// transition (the completing vote, or the expiry), guarded by `madeTransition(ctx)`, so the delivery is
// enqueued exactly when — and only when — that batch moved the poll to completed/expired. A crash can
// never lose it, and UNIQUE(poll_id, event) means a double transition can never enqueue twice.
//
// The body is serialised ONCE, here, by SQLite's json_object (the poll's counters are only known inside
// the batch), and stored: every attempt sends the same bytes. Key order is the contract's:
//   {"pollId","status","voteCount","maxResponses","completedAt","resultsUrl","votesUrl","readToken"}
// For poll.expired, status is "expired" and completedAt is the instant of the expiry transition. A poll
// that ended without filling up under the 'unfilled' refund policy adds a last key, `refund` (withRefund). A poll
// closed early or taken down sends poll.completed with status "closed" or "removed".
import { randomUUID } from "node:crypto";
import { sql, type Kysely, type RawBuilder } from "kysely";
import { templatedStatements } from "../db/compiled";
import type { Database, WebhookEvent } from "../db/schema";
import { PRICE_PER_RESPONSE_ATOMIC, USDC_DECIMALS } from "../payment";
import { madeTransition, POLLS_PATH, type ReadTokens, type TransitionContext, type TransitionListener } from "../polls";

export interface OutboxListenerDeps {
  publicBaseUrl: string;
  /** Derives the body's readToken; undefined only when the server is misconfigured (readToken: null). */
  readTokens: ReadTokens | undefined;
  /**
   * Called whenever the listener's statements were built (for every vote and sweep, whether or not the
   * batch ends up making a transition): the Node server uses it to kick the dispatcher early.
   */
  onStatements?: () => void;
}

// A poll closed early or taken down ended without expiring: its creator hears it as the contract's
// poll.completed, with status "closed" or "removed" (the contract's body, one more status value).
export const eventFor = (to: TransitionContext["to"]): WebhookEvent => (to === "expired" ? "poll.expired" : "poll.completed");

/**
 * The outbox INSERT for one transition (exported for tests that drive the lifecycle directly). Its SQL is
 * the same for every transition of a kind, so it is compiled once and re-bound per call (it rides in
 * every vote's batch): the URLs are built by SQLite from polls.id, the values are whole parameters.
 */
export function enqueueDeliveryStatement(db: Kysely<Database>, ctx: TransitionContext, deps: OutboxListenerDeps) {
  const pollsUrl = `${deps.publicBaseUrl}${POLLS_PATH}/`;
  const values = {
    pollId: ctx.pollId,
    at: ctx.at,
    transitionId: ctx.transitionId,
    deliveryId: randomUUID(),
    readToken: deps.readTokens?.tokenFor(ctx.pollId) ?? null,
  };
  const [statement] = templatedStatements(
    db,
    `outbox:${ctx.to}:${pollsUrl}`,
    ["pollId", "at", "transitionId", "deliveryId", "readToken"],
    (d, p) => [buildEnqueue(d, { ...ctx, db: d, pollId: p.pollId!, at: p.at!, transitionId: p.transitionId! }, pollsUrl, p.deliveryId!, p.readToken ?? null)],
    values,
  );
  return statement!;
}

/**
 * The refund a poll that ended without filling up owes, as the body's last key (an addition to the
 * contract's body): known in amount at the transition, not yet sent. Only for a poll sold under the
 * 'unfilled' policy (polls.refund_policy) with responses missing; a completed poll is full.
 */
function withRefund(body: RawBuilder<string>, to: TransitionContext["to"]): RawBuilder<string> {
  if (to === "completed") return body;
  // Integers only: a bound JS number may arrive as a REAL, so the price is cast back.
  const unfilled = sql<number>`(polls.max_responses - polls.vote_count) * CAST(${Number(PRICE_PER_RESPONSE_ATOMIC)} AS INTEGER)`;
  return sql<string>`CASE WHEN polls.refund_policy = 'unfilled' AND polls.vote_count < polls.max_responses
    THEN json_insert(${body}, '$.refund', json_object(
      'status', 'pending',
      'amountAtomic', CAST(${unfilled} AS TEXT),
      'amountUsdc', CAST(${unfilled} AS REAL) / ${10 ** USDC_DECIMALS},
      'txHash', NULL
    ))
    ELSE ${body} END`;
}

function buildEnqueue(db: Kysely<Database>, ctx: TransitionContext, pollsUrl: string, deliveryId: string, readToken: string | null) {
  const { pollId, to, at } = ctx;
  const contractBody = sql<string>`json_object(
    'pollId', polls.id,
    'status', ${to},
    'voteCount', polls.vote_count,
    'maxResponses', polls.max_responses,
    'completedAt', ${at},
    'resultsUrl', ${pollsUrl} || polls.id || '/results',
    'votesUrl', ${pollsUrl} || polls.id || '/votes',
    'readToken', ${readToken}
  )`;
  const body = withRefund(contractBody, to);
  return db
    .insertInto("webhook_deliveries")
    .columns(["id", "poll_id", "event", "url", "body", "state", "attempts", "next_attempt_at", "created_at"])
    .expression((eb) =>
      eb
        .selectFrom("polls")
        .select([
          eb.val(deliveryId).as("id"),
          "polls.id as poll_id",
          eb.val(eventFor(to)).as("event"),
          sql<string>`polls.callback_url`.as("url"),
          body.as("body"),
          eb.val("pending").as("state"),
          eb.val(0).as("attempts"),
          eb.val(at).as("next_attempt_at"),
          eb.val(at).as("created_at"),
        ])
        .where("polls.id", "=", pollId)
        .where("polls.callback_url", "is not", null)
        .where((w) => w.exists(madeTransition(ctx))),
    )
    .onConflict((oc) => oc.columns(["poll_id", "event"]).doNothing());
}

/** The listener to pass to createApp's `transitionListeners` and to the expiry sweep. */
export function webhookOutboxListener(deps: OutboxListenerDeps): TransitionListener {
  return (ctx) => {
    deps.onStatements?.();
    return [enqueueDeliveryStatement(ctx.db, ctx, deps)];
  };
}
