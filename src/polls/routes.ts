// Every poll route, in the order the API documents them: create (paid), read, list by payer, results,
// votes, live progress (events), read-token recovery, close early.
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createRouter, type AppEnv } from "../http/app-env";
import { closePollRoutes } from "./close";
import { createPollRoutes, type CreatePollDeps } from "./create";
import { eventsRoutes, type EventsDeps } from "./events";
import { pollListRoutes } from "./list";
import { readPollRoutes } from "./read";
import type { RefundLookup } from "./refund-view";
import { readTokenRecoveryRoutes } from "./read-token-recovery";
import { resultsRoutes } from "./results";
import type { TransitionListener } from "./lifecycle";
import { votesListRoutes } from "./votes";

export type PollsDeps = CreatePollDeps &
  Pick<EventsDeps, "clientIp" | "eventStreams" | "shutdown"> & {
    /** The refund a poll shows on GET /api/v1/polls/{id} and /results (the payouts feature's, wired by the composition root). */
    refunds?: RefundLookup;
    /** Statements appended to a close's batch (the webhook outbox), as to every lifecycle transition. */
    transitionListeners?: readonly TransitionListener[];
  };

export function pollsRoutes(deps: PollsDeps): OpenAPIHono<AppEnv> {
  return createRouter()
    .route("/", createPollRoutes(deps))
    .route("/", readPollRoutes(deps))
    .route("/", pollListRoutes(deps))
    .route("/", resultsRoutes(deps))
    .route("/", votesListRoutes(deps))
    .route("/", eventsRoutes(deps))
    .route("/", readTokenRecoveryRoutes(deps))
    .route("/", closePollRoutes(deps));
}
