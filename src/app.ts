// createApp(deps): composes the feature routers. No I/O at import time and no globals: the
// composition root (server.ts, worker.ts, tests) builds every dependency once and passes it in.
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Mode, RefundPolicy } from "./config";
import type { Store } from "./db/store";
import { discoveryRoutes, type DiscoveryAssets } from "./discovery";
import { ApiError, errorBody } from "./http/errors";
import { requestEdge, requestIdOf } from "./http/hardening";
import { accessLogOf, type Logger } from "./http/logger";
import { createReadiness, type ReadinessCheck } from "./http/readiness";
import { createRouter, type AppEnv } from "./http/app-env";
import { valueOf, type Capability } from "./http/capability";
import { methodsByPath } from "./http/allowed-methods";
import { openReads } from "./http/cors";
import type { RateLimiterFactory } from "./http/rate-limit";
import { createRouteGuards, type RateLimitSettings } from "./http/route-guards";
import type { Moderator } from "./moderation";
import { adminRoutes, type AdminSettings } from "./admin";
import { pagesRoutes } from "./pages";
import { quoteRoutes, type ChainReader, type NetworkSpec, type PaymentServer } from "./payment";
import { payoutsRoutes, type PayoutAddressPolicy, type PayoutCrashPoint, type PayoutWorker } from "./payouts";
import { pollsRoutes, type CrashPoint, type EventStreamSettings, type ReadTokens, type RefundLookup, type TransitionListener } from "./polls";
import { votingRoutes, type WorldIdVerifier } from "./voting";
import { deliveriesRoutes, documentWebhooks, type CallbackSecrets, type CallbackUrlOptions } from "./webhook";

export interface AppDeps {
  mode: Mode;
  publicBaseUrl: string;
  store: Store;
  /** What the configuration may leave out: each answers its own 503 when unavailable (src/http/capability.ts). */
  payments: Capability<PaymentServer>;
  moderator: Capability<Moderator>;
  readTokens: Capability<ReadTokens>;
  worldId: Capability<WorldIdVerifier>;
  knownNetworks: readonly NetworkSpec[];
  /** Per-poll webhook secrets (callbackSecret in the 201); derived from the read-token secret. */
  callbackSecrets?: CallbackSecrets;
  /** Per-runtime adjustments of the callbackUrl rule at creation (Workers: refuse IP literals). */
  callbackUrlOptions?: CallbackUrlOptions;
  /** Statements appended to every lifecycle transition's batch (e.g. the webhook outbox). */
  transitionListeners?: readonly TransitionListener[];
  now?: () => Date;
  onSettled?: () => Promise<void>;
  /** Chain readers per network: paid creation decides every payment outcome from them. */
  chains?: ReadonlyMap<string, ChainReader>;
  /** How far ahead a poll's expiresAt may be (Config polls.maxExpiryLeadMs). */
  maxExpiryLeadMs: number;
  /** REFUND_POLICY (Config refunds.policy), recorded on each poll created. */
  refundPolicy?: RefundPolicy;
  /** The refund a poll shows on its read routes (src/payouts refundLookup). */
  refunds?: RefundLookup;
  /** How long paid creation waits for the receipt of a settlement the facilitator reported. */
  settlementConfirmWaitMs?: number;
  startedAt?: Date;
  crashPoint?: (point: CrashPoint) => void;
  log?: Logger;
  /** The client's IP as this runtime sees it (Node: the socket, or X-Forwarded-For behind a trusted proxy). */
  clientIp?: (c: Context<AppEnv>) => string | undefined;
  /** Requests per minute of each rate-limit rule (src/http/route-guards.ts); 0 turns a rule off. */
  rateLimits?: Partial<RateLimitSettings>;
  /** Where rate-limit rules count (default: this process's memory; Workers: the Rate Limiting bindings). */
  rateLimiter?: RateLimiterFactory;
  /** What /readyz probes (database, chain RPC, facilitator, moderation…). */
  readinessChecks?: readonly ReadinessCheck[];
  /** One structured line per request (off in tests that count log lines). */
  accessLog?: boolean;
  /** Favicon and API docs viewer files, read once by the entry point. */
  discoveryAssets?: DiscoveryAssets;
  /** Voter payouts on chain (src/payouts/): POST /api/v1/voter/payouts claims, /healthz reports. */
  payouts?: PayoutWorker;
  payoutCrashPoint?: (point: PayoutCrashPoint) => void;
  /** Payout addresses rewards could never reach, refused when a vote names them. */
  payoutAddresses?: PayoutAddressPolicy;
  /** The human pages' files (public/), served by path (src/pages); Node: nodeStaticFiles(). Absent → no pages. */
  staticFiles?: MiddlewareHandler;
  /** Voters' reports and the operator's admin API (src/admin); absent: admin off, reports with defaults. */
  admin?: AdminSettings;
  /** Live progress streams (GET /api/v1/polls/{id}/events): bounds and how polls are read (src/polls/events.ts). */
  eventStreams?: Partial<EventStreamSettings>;
  /** Aborted when the server begins to shut down: open event streams end so they do not hold it up. */
  shutdown?: AbortSignal;
}

export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? ((message: string) => console.log(message));
  const app = createRouter();

  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json(error.toBody(), error.status);
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      const code = status === 413 ? "payload_too_large" : status >= 500 ? "internal_error" : "validation_error";
      return c.json(errorBody(code, error.message || "Request rejected."), status);
    }
    log(`unhandled error on ${c.req.method} ${c.req.path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, {
      level: "error",
      requestId: requestIdOf(c),
    });
    return c.json(errorBody("internal_error", "Something went wrong on our side."), 500);
  });
  const allowedMethods = methodsByPath(() => app.routes);
  app.notFound((c) => {
    const allow = c.req.method === "OPTIONS" ? undefined : allowedMethods(c.req.path);
    if (allow) {
      return c.json(errorBody("method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allow}.`, undefined, { allow: allow.split(", ") }), 405, {
        Allow: allow,
      });
    }
    return c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}.`), 404);
  });

  // Every response: request id (also on log lines), security headers, a body size limit, an access line.
  app.use(
    "*",
    requestEdge({
      https: deps.publicBaseUrl.startsWith("https://"),
      ...(deps.accessLog !== false ? { accessLog: accessLogOf(log) } : {}),
    }),
  );

  // Reads are open to every origin; a write opens itself on its route (src/http/cors.ts).
  app.use("*", openReads);
  const guards = createRouteGuards({
    clientIp: deps.clientIp ?? (() => undefined),
    ...(deps.rateLimits ? { rateLimits: deps.rateLimits } : {}),
    ...(deps.rateLimiter ? { rateLimiter: deps.rateLimiter } : {}),
  });
  // /openapi.json is generated lazily from every route mounted by then.
  app.route(
    "/",
    discoveryRoutes(
      {
        mode: deps.mode,
        publicBaseUrl: deps.publicBaseUrl,
        payments: valueOf(deps.payments),
        assets: deps.discoveryAssets,
        maxExpiryLeadMs: deps.maxExpiryLeadMs,
        refundPolicy: deps.refundPolicy,
        log,
      },
      () => app,
    ),
  );
  const { store, mode, publicBaseUrl, knownNetworks, payments, readTokens } = deps;
  app.route("/", quoteRoutes({ payments, knownNetworks, guards }));
  app.route(
    "/",
    pollsRoutes({
      store,
      mode,
      publicBaseUrl,
      payments,
      moderator: deps.moderator,
      readTokens,
      callbackSecrets: deps.callbackSecrets,
      callbackUrlOptions: deps.callbackUrlOptions,
      now,
      log,
      onSettled: deps.onSettled,
      chains: deps.chains,
      maxExpiryLeadMs: deps.maxExpiryLeadMs,
      refundPolicy: deps.refundPolicy,
      refunds: deps.refunds,
      transitionListeners: deps.transitionListeners ?? [],
      confirmWaitMs: deps.settlementConfirmWaitMs,
      startedAt: deps.startedAt,
      crashPoint: deps.crashPoint,
      guards,
      clientIp: deps.clientIp,
      eventStreams: deps.eventStreams,
      shutdown: deps.shutdown,
    }),
  );
  app.route("/", deliveriesRoutes({ store, readTokens, guards, publicBaseUrl, now, payments }));
  documentWebhooks(app.openAPIRegistry);
  const transitionListeners = deps.transitionListeners ?? [];
  app.route("/", votingRoutes({ store, mode, publicBaseUrl, knownNetworks, worldId: deps.worldId, transitionListeners, guards, now, log, payoutAddresses: deps.payoutAddresses }));
  app.route("/", payoutsRoutes({ store, worker: deps.payouts, knownNetworks, guards, now, crashPoint: deps.payoutCrashPoint }));
  app.route(
    "/",
    adminRoutes({
      store,
      guards,
      clientIp: deps.clientIp ?? (() => undefined),
      settings: deps.admin ?? { token: undefined, reportsPerIpPerMinute: 10, reporterKeySecret: undefined },
      transitionListeners,
      now,
      log,
    }),
  );
  app.route("/", pagesRoutes({ staticFiles: deps.staticFiles }));

  app.get("/healthz", async (c) => c.json({ status: "ok", mode: deps.mode, ...(deps.payouts ? { payouts: await deps.payouts.health() } : {}) }));
  const readiness = createReadiness(deps.readinessChecks ?? []);
  app.get("/readyz", readiness.handler);
  return app;
}
