// GET /api/v1/polls/{id}: public metadata of settled polls. Pending and failed polls do not exist
// to the outside world.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { PollOptionRow, PollRow } from "../db/schema";
import type { Store } from "../db/store";
import { createRouter, type AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import { ErrorResponse } from "../http/openapi-shapes";
import type { RouteGuards } from "../http/route-guards";
import { visibleStatus } from "./lifecycle";
import { POLLS_PATH } from "./paths";
import type { RefundLookup } from "./refund-view";
import { findOptions, findPoll } from "./repo";
import { PublicPoll } from "./wire";

export { PublicPoll };

export interface ReadPollDeps {
  store: Store;
  publicBaseUrl: string;
  now: () => Date;
  guards: RouteGuards;
  /** The refund of the poll's unfilled responses, when one is owed (the payouts feature, wired by the composition root). */
  refunds?: RefundLookup;
}

const getPollRoute = (guards: RouteGuards) =>
  createRoute({
    method: "get",
    path: `${POLLS_PATH}/{id}`,
    summary: "Public metadata of a settled poll",
    middleware: [guards.api],
    request: { params: z.object({ id: z.string().openapi({ example: "3f0c…" }) }) },
    responses: {
      200: { description: "The poll", content: { "application/json": { schema: PublicPoll } } },
      404: { description: "Poll not found, not API-created, or not settled", content: { "application/json": { schema: ErrorResponse } } },
    },
  });

/** The public view of a settled poll (GET /api/v1/polls/{id} and the list by payer). */
export function toPublicPoll(poll: PollRow, options: readonly PollOptionRow[], publicBaseUrl: string, now: Date): z.infer<typeof PublicPoll> {
  return {
    id: poll.id,
    url: `${publicBaseUrl}/polls/${poll.id}`,
    status: visibleStatus(poll, now),
    question: poll.question,
    description: poll.description,
    moreInfoUrl: poll.more_info_url,
    mediaUrl: poll.media_url,
    mediaType: poll.media_type,
    layoutType: poll.layout_type,
    options: options.map((o) => ({ id: o.id, text: o.text, mediaUrl: o.media_url })),
    maxResponses: poll.max_responses,
    voteCount: poll.vote_count,
    network: poll.network,
    expiresAt: poll.expires_at,
    createdAt: poll.created_at,
    completedAt: poll.completed_at,
    publicResults: poll.public_results === 1,
    refundPolicy: poll.refund_policy,
  };
}

export function readPollRoutes(deps: ReadPollDeps): OpenAPIHono<AppEnv> {
  const router = createRouter();
  router.openapi(getPollRoute(deps.guards), async (c) => {
    const { id } = c.req.valid("param");
    const poll = await findPoll(deps.store.db, id);
    if (!poll || poll.status === "pending_payment" || poll.status === "payment_failed") {
      throw new ApiError(404, "poll_not_found", "No settled poll has this id.", "id");
    }
    const options = await findOptions(deps.store.db, id);
    const view = toPublicPoll(poll, options, deps.publicBaseUrl, deps.now());
    const refund = await deps.refunds?.(poll, view.status);
    return c.json(refund ? { ...view, refund } : view, 200);
  });
  return router;
}
