// POST /api/v1/polls/{id}/close: the poll's creator ends it early, with the read token (the same access as
// /results). The close is one lifecycle transition (src/polls/lifecycle.ts) in one atomic batch: the
// status UPDATE is guarded by `status = 'active'`, and the vote write inserts only while the poll is active
// (src/voting/record-vote.ts); batches run one at a time, so a vote is either in a batch before the close
// (counted, and in the webhook's voteCount) or after it (refused). The webhook outbox INSERT rides in the
// same batch (poll.completed, status "closed"); the refund of the unfilled responses follows with a payout
// round (src/payouts).
//
// Idempotent: closing a closed poll answers the same 200 and changes nothing. A poll that already ended
// otherwise (completed, expired, removed) answers 409 `poll_already_ended` with its status: the close did
// not happen, and a client must not believe its poll was closed (no refund of a full poll, for one).
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Store } from "../db/store";
import { createRouter, type AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import type { Logger } from "../http/logger";
import { ErrorResponse } from "../http/openapi-shapes";
import type { RouteGuards } from "../http/route-guards";
import { effectiveStatus, transitionStatements, type TransitionListener } from "./lifecycle";
import { POLLS_PATH } from "./paths";
import { PublicPoll, toPublicPoll } from "./read";
import { pollForReader, READ_TOKEN_HEADERS_DESCRIPTION, ReadTokenHeaders, type ReadAuthDeps } from "./read-auth";
import { findOptions, findPoll } from "./repo";

export interface ClosePollDeps extends ReadAuthDeps {
  store: Store;
  publicBaseUrl: string;
  now: () => Date;
  guards: RouteGuards;
  /** Statements appended to the close's batch (the webhook outbox). */
  transitionListeners?: readonly TransitionListener[];
  log?: Logger;
}

const READ_TOKEN_SECURITY: Record<string, string[]>[] = [{ ReadToken: [] }, { ReadTokenBearer: [] }];

const closeRoute = (guards: RouteGuards) =>
  createRoute({
    method: "post",
    path: `${POLLS_PATH}/{id}/close`,
    summary: "Close a poll early",
    description:
      `${READ_TOKEN_HEADERS_DESCRIPTION} The poll stops taking votes at once: status \`closed\`, \`completedAt\` set, ` +
      "the poll.completed webhook is sent (its body's status is `closed`), and the unfilled responses are refunded per the " +
      "poll's refund policy. No request body. Idempotent: closing a closed poll answers the same 200 and changes nothing; " +
      "a poll that already completed, expired or was removed answers 409 `poll_already_ended` (details.status).",
    middleware: [guards.api],
    security: READ_TOKEN_SECURITY,
    request: { params: z.object({ id: z.string() }), headers: ReadTokenHeaders },
    responses: {
      200: { description: "The poll, closed (now or earlier)", content: { "application/json": { schema: PublicPoll } } },
      401: { description: "Missing read token", content: { "application/json": { schema: ErrorResponse } } },
      403: { description: "Read token does not match this poll", content: { "application/json": { schema: ErrorResponse } } },
      404: { description: "Poll not found or not settled", content: { "application/json": { schema: ErrorResponse } } },
      409: { description: "The poll already ended otherwise (`poll_already_ended`, details.status)", content: { "application/json": { schema: ErrorResponse } } },
      503: { description: "Read tokens not configured", content: { "application/json": { schema: ErrorResponse } } },
    },
  });

function alreadyEnded(status: string): ApiError {
  return new ApiError(409, "poll_already_ended", `This poll already ended (status ${status}); it was not closed.`, "id", { status });
}

export function closePollRoutes(deps: ClosePollDeps): OpenAPIHono<AppEnv> {
  const router = createRouter();
  const listeners = deps.transitionListeners ?? [];
  router.openapi(closeRoute(deps.guards), async (c) => {
    const { id } = c.req.valid("param");
    // 404/401/403/503 before anything is written.
    await pollForReader(c, deps, id);
    const now = deps.now();
    const at = now.toISOString();
    const transition = transitionStatements(deps.store.db, { pollId: id, to: "closed", at }, listeners);
    const results = await deps.store.batch(transition.statements);
    const closedNow = (results[transition.updateIndex]?.changes ?? 0) === 1;
    const poll = await findPoll(deps.store.db, id);
    if (!poll) throw new ApiError(404, "poll_not_found", "No settled poll has this id.", "id");
    if (closedNow) deps.log?.("poll closed early", { pollId: id, voteCount: poll.vote_count, maxResponses: poll.max_responses });
    if (poll.status !== "closed") {
      // Past its expiry but not swept yet: it expired (the same transition the sweep and a vote make).
      if (poll.status === "active" && effectiveStatus(poll, now) === "expired") {
        await deps.store.batch(transitionStatements(deps.store.db, { pollId: id, to: "expired", at }, listeners).statements);
        throw alreadyEnded("expired");
      }
      throw alreadyEnded(effectiveStatus(poll, now));
    }
    return c.json(toPublicPoll(poll, await findOptions(deps.store.db, id), deps.publicBaseUrl, now), 200);
  });
  return router;
}
