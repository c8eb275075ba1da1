// Every poll route, in the order the API documents them: create (paid), read, list by payer, results,
// votes, live progress (events), read-token recovery.
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createRouter, type AppEnv } from "../http/app-env";
import { createPollRoutes, type CreatePollDeps } from "./create";
import { eventsRoutes, type EventsDeps } from "./events";
import { pollListRoutes } from "./list";
import { readPollRoutes } from "./read";
import { readTokenRecoveryRoutes } from "./read-token-recovery";
import { resultsRoutes } from "./results";
import { votesListRoutes } from "./votes";

export type PollsDeps = CreatePollDeps & Pick<EventsDeps, "clientIp" | "eventStreams" | "shutdown">;

export function pollsRoutes(deps: PollsDeps): OpenAPIHono<AppEnv> {
  return createRouter()
    .route("/", createPollRoutes(deps))
    .route("/", readPollRoutes(deps))
    .route("/", pollListRoutes(deps))
    .route("/", resultsRoutes(deps))
    .route("/", votesListRoutes(deps))
    .route("/", eventsRoutes(deps))
    .route("/", readTokenRecoveryRoutes(deps));
}
