// createApp(deps): composes the feature routers. No I/O at import time and no globals: the
// composition root (server.ts, worker.ts, tests) builds every dependency once and passes it in.
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ConfigProblem, Mode } from "./config";
import type { Store } from "./db/store";
import { registerDiscovery } from "./discovery";
import type { DiscoveryAssets } from "./discovery/assets";
import { ApiError, errorBody } from "./http/errors";
import { validationError } from "./http/validation";
import type { Moderator } from "./moderation/moderator";
import type { NetworkSpec } from "./payment/networks";
import type { PaymentServer } from "./payment/payment-server";
import { registerQuote } from "./payment/quote";
import { registerCreatePoll, type CrashPoint } from "./polls/create";
import type { ChainReader } from "./payment/chain-reader";
import { registerReadPoll } from "./polls/read";
import type { ReadTokens } from "./polls/read-token";
import type { TransitionListener } from "./polls/lifecycle";
import { registerPollList } from "./polls/list";
import { registerReadTokenRecovery } from "./polls/read-token-recovery";
import { registerResults } from "./polls/results";
import { registerVotesList } from "./polls/votes";
import { registerVoting } from "./voting/routes";
import type { WorldIdVerifier } from "./voting/world-id";
import { registerDeliveries } from "./webhook/routes";
import type { CallbackSecrets } from "./webhook/signing";

export interface AppDeps {
  mode: Mode;
  publicBaseUrl: string;
  problems: readonly ConfigProblem[];
  store: Store;
  payments: PaymentServer | undefined;
  knownNetworks: readonly NetworkSpec[];
  moderator: Moderator | undefined;
  readTokens: ReadTokens | undefined;
  /** Per-poll webhook secrets (callbackSecret in the 201); derived from the read-token secret. */
  callbackSecrets?: CallbackSecrets;
  /** World ID verification for votes; undefined → the voting endpoints answer 503. */
  worldId?: WorldIdVerifier;
  /** Statements appended to every lifecycle transition's batch (e.g. the webhook outbox). */
  transitionListeners?: readonly TransitionListener[];
  now?: () => Date;
  onSettled?: () => Promise<void>;
  /** Chain readers per network (reconciling claims abandoned by a crash). */
  chains?: ReadonlyMap<string, ChainReader>;
  startedAt?: Date;
  crashPoint?: (point: CrashPoint) => void;
  log?: (message: string) => void;
  /** Favicon and API docs viewer files, read once by the entry point (server.ts). */
  discoveryAssets?: DiscoveryAssets;
}

export function createApp(deps: AppDeps): OpenAPIHono {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? ((message: string) => console.log(message));
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return c.json(validationError(result.error).toBody(), 400);
      return undefined;
    },
  });

  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json(error.toBody(), error.status);
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      const code = status === 413 ? "payload_too_large" : status >= 500 ? "internal_error" : "validation_error";
      return c.json(errorBody(code, error.message || "Request rejected."), status);
    }
    log(`unhandled error on ${c.req.method} ${c.req.path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return c.json(errorBody("internal_error", "Something went wrong on our side."), 500);
  });
  app.notFound((c) => c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}.`), 404));

  // First: its CORS policy must wrap every route; /openapi.json is generated lazily from all of them.
  registerDiscovery(app, { mode: deps.mode, publicBaseUrl: deps.publicBaseUrl, payments: deps.payments, assets: deps.discoveryAssets, log });
  registerQuote(app, { payments: deps.payments, knownNetworks: deps.knownNetworks, problems: deps.problems });
  registerCreatePoll(app, {
    store: deps.store,
    mode: deps.mode,
    publicBaseUrl: deps.publicBaseUrl,
    payments: deps.payments,
    moderator: deps.moderator,
    readTokens: deps.readTokens,
    ...(deps.callbackSecrets ? { callbackSecrets: deps.callbackSecrets } : {}),
    problems: deps.problems,
    now,
    log,
    ...(deps.onSettled ? { onSettled: deps.onSettled } : {}),
    ...(deps.chains ? { chains: deps.chains } : {}),
    ...(deps.startedAt ? { startedAt: deps.startedAt } : {}),
    ...(deps.crashPoint ? { crashPoint: deps.crashPoint } : {}),
  });
  registerReadPoll(app, { store: deps.store, publicBaseUrl: deps.publicBaseUrl, now });
  const readSide = { store: deps.store, readTokens: deps.readTokens, problems: deps.problems, publicBaseUrl: deps.publicBaseUrl, now };
  registerPollList(app, readSide);
  registerResults(app, readSide);
  registerVotesList(app, readSide);
  registerReadTokenRecovery(app, readSide);
  registerDeliveries(app, readSide);
  registerVoting(app, {
    store: deps.store,
    mode: deps.mode,
    publicBaseUrl: deps.publicBaseUrl,
    problems: deps.problems,
    knownNetworks: deps.knownNetworks,
    worldId: deps.worldId,
    transitionListeners: deps.transitionListeners ?? [],
    now,
    log,
  });

  app.get("/healthz", (c) => c.json({ status: "ok", mode: deps.mode }));
  return app;
}
