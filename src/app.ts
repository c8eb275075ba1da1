// createApp(deps): composes the feature routers. No I/O at import time and no globals: the
// composition root (server.ts, worker.ts, tests) builds every dependency once and passes it in.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ConfigProblem, Mode } from "./config";
import type { Store } from "./db/store";
import { registerDiscovery } from "./discovery";
import type { DiscoveryAssets } from "./discovery/assets";
import { ApiError, errorBody } from "./http/errors";
import { requestEdge, requestIdOf } from "./http/hardening";
import type { Logger } from "./http/logger";
import { createReadiness, type ReadinessCheck } from "./http/readiness";
import { rateLimitKeyOfIp } from "./http/client-ip";
import { createRateLimiter } from "./http/rate-limit";
import { isDiscoveryProbe, isVoterWrite } from "./http/request-kinds";
import { validationError } from "./http/validation";
import type { Moderator } from "./moderation/moderator";
import type { NetworkSpec } from "./payment/networks";
import type { PaymentServer } from "./payment/payment-server";
import { registerQuote } from "./payment/quote";
import { registerCreatePoll, type CrashPoint } from "./polls/create";
import type { ChainReader } from "./payment/chain-reader";
import { registerPages } from "./pages";
import { registerReadPoll } from "./polls/read";
import type { ReadTokens } from "./polls/read-token";
import type { TransitionListener } from "./polls/lifecycle";
import { registerPollList } from "./polls/list";
import { registerReadTokenRecovery } from "./polls/read-token-recovery";
import { registerResults } from "./polls/results";
import { registerVotesList } from "./polls/votes";
import { registerVoting } from "./voting/routes";
import type { PayoutCrashPoint, PayoutWorker } from "./payouts/job";
import { registerPayouts } from "./payouts/routes";
import type { PayoutAddressPolicy } from "./payouts/address-policy";
import type { WorldIdVerifier } from "./voting/world-id";
import { registerDeliveries } from "./webhook/routes";
import type { CallbackSecrets } from "./webhook/signing";
import type { CallbackUrlOptions } from "./webhook/url-policy";

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
  /** Per-runtime adjustments of the callbackUrl rule at creation (Workers: refuse IP literals). */
  callbackUrlOptions?: CallbackUrlOptions;
  /** World ID verification for votes; undefined → the voting endpoints answer 503. */
  worldId?: WorldIdVerifier;
  /** Statements appended to every lifecycle transition's batch (e.g. the webhook outbox). */
  transitionListeners?: readonly TransitionListener[];
  now?: () => Date;
  onSettled?: () => Promise<void>;
  /** Chain readers per network: paid creation decides every payment outcome from them. */
  chains?: ReadonlyMap<string, ChainReader>;
  /** How far ahead a poll's expiresAt may be (Config polls.maxExpiryLeadMs). */
  maxExpiryLeadMs: number;
  /** How long paid creation waits for the receipt of a settlement the facilitator reported. */
  settlementConfirmWaitMs?: number;
  startedAt?: Date;
  crashPoint?: (point: CrashPoint) => void;
  log?: Logger;
  /** The client's IP as this runtime sees it (Node: the socket, or X-Forwarded-For behind a trusted proxy). */
  clientIp?: (c: Context) => string | undefined;
  /**
   * Requests per minute: per client IP on /api/* (voter writes and discovery probes excepted), per voter on
   * voter writes, and per client IP on voter writes (default 120). 0 turns a rule off.
   */
  rateLimits?: { perIpPerMinute: number; votesPerVoterPerMinute: number; voterWritesPerIpPerMinute?: number };
  /** What /readyz probes (database, chain RPC, facilitator, moderation…). */
  readinessChecks?: readonly ReadinessCheck[];
  /** One structured line per request (off in tests that count log lines). */
  accessLog?: boolean;
  /** Favicon and API docs viewer files, read once by the entry point (server.ts). */
  discoveryAssets?: DiscoveryAssets;
  /** Voter payouts on chain (src/payouts/): POST /api/v1/voter/payouts claims, /healthz reports. */
  payouts?: PayoutWorker;
  payoutCrashPoint?: (point: PayoutCrashPoint) => void;
  /** Payout addresses rewards could never reach, refused when a vote names them (src/payouts/address-policy.ts). */
  payoutAddresses?: PayoutAddressPolicy;
  /** The human pages' files (public/), served by path (src/pages); Node: nodeStaticFiles(). Absent → no pages. */
  staticFiles?: MiddlewareHandler;
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
    log(`unhandled error on ${c.req.method} ${c.req.path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, {
      level: "error",
      requestId: requestIdOf(c),
    });
    return c.json(errorBody("internal_error", "Something went wrong on our side."), 500);
  });
  app.notFound((c) => c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}.`), 404));

  // Every response: request id (also on log lines), security headers, a body size limit.
  // One middleware for all of that (context storage, request id, access log, security headers, body
  // limit, in that order): a layer per concern cost a fifth of a small request's CPU (issue 8).
  app.use(
    "*",
    requestEdge({
      https: deps.publicBaseUrl.startsWith("https://"),
      ...(deps.accessLog !== false ? { accessLog: (entry: Record<string, unknown>) => log("request", entry) } : {}),
    }),
  );

  // First: its CORS policy must wrap every route; /openapi.json is generated lazily from all of them.
  registerDiscovery(app, {
    mode: deps.mode,
    publicBaseUrl: deps.publicBaseUrl,
    payments: deps.payments,
    assets: deps.discoveryAssets,
    maxExpiryLeadMs: deps.maxExpiryLeadMs,
    log,
  });
  // After CORS, so a 429 is readable cross-origin too.
  installRateLimits(app, deps);
  registerQuote(app, { payments: deps.payments, knownNetworks: deps.knownNetworks, problems: deps.problems });
  registerCreatePoll(app, {
    store: deps.store,
    mode: deps.mode,
    publicBaseUrl: deps.publicBaseUrl,
    payments: deps.payments,
    moderator: deps.moderator,
    readTokens: deps.readTokens,
    ...(deps.callbackSecrets ? { callbackSecrets: deps.callbackSecrets } : {}),
    ...(deps.callbackUrlOptions ? { callbackUrlOptions: deps.callbackUrlOptions } : {}),
    problems: deps.problems,
    now,
    log,
    ...(deps.onSettled ? { onSettled: deps.onSettled } : {}),
    ...(deps.chains ? { chains: deps.chains } : {}),
    maxExpiryLeadMs: deps.maxExpiryLeadMs,
    ...(deps.settlementConfirmWaitMs !== undefined ? { confirmWaitMs: deps.settlementConfirmWaitMs } : {}),
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
    ...(deps.payoutAddresses ? { payoutAddresses: deps.payoutAddresses } : {}),
  });

  registerPayouts(app, {
    store: deps.store,
    worker: deps.payouts,
    knownNetworks: deps.knownNetworks,
    now,
    ...(deps.payoutCrashPoint ? { crashPoint: deps.payoutCrashPoint } : {}),
  });

  registerPages(app, { staticFiles: deps.staticFiles });

  app.get("/healthz", (c) => c.json({ status: "ok", mode: deps.mode, ...(deps.payouts ? { payouts: deps.payouts.health() } : {}) }));
  const readiness = createReadiness(deps.readinessChecks ?? []);
  app.get("/readyz", readiness.handler);
  return app;
}

const DEFAULT_RATE_LIMITS = { perIpPerMinute: 600, votesPerVoterPerMinute: 60, voterWritesPerIpPerMinute: 120 };

/**
 * Three rules on /api/*, all per minute: API requests per client IP; voter writes (src/http/request-kinds.ts)
 * per client IP with a ceiling high enough for a carrier NAT, and per voter (payout address). IPv6
 * clients count per /64. Discovery probes are never limited: crawlers skip services that answer them 429.
 */
function installRateLimits(app: OpenAPIHono, deps: AppDeps): void {
  const limits = {
    perIpPerMinute: deps.rateLimits?.perIpPerMinute ?? DEFAULT_RATE_LIMITS.perIpPerMinute,
    votesPerVoterPerMinute: deps.rateLimits?.votesPerVoterPerMinute ?? DEFAULT_RATE_LIMITS.votesPerVoterPerMinute,
    voterWritesPerIpPerMinute: deps.rateLimits?.voterWritesPerIpPerMinute ?? DEFAULT_RATE_LIMITS.voterWritesPerIpPerMinute,
  };
  const clientIp = deps.clientIp ?? (() => undefined);
  const ipKey = (c: Context) => {
    const ip = clientIp(c);
    return ip === undefined ? undefined : rateLimitKeyOfIp(ip);
  };
  const perIp = createRateLimiter({
    name: "per-ip",
    limit: limits.perIpPerMinute,
    windowMs: 60_000,
    key: (c) => (isVoterWrite(c.req.method, c.req.path) || isDiscoveryProbe(c) ? undefined : ipKey(c)),
  });
  const voterWritesPerIp = createRateLimiter({
    name: "voter-writes-per-ip",
    limit: limits.voterWritesPerIpPerMinute,
    windowMs: 60_000,
    key: (c) => (isVoterWrite(c.req.method, c.req.path) ? ipKey(c) : undefined),
  });
  const perVoter = createRateLimiter({
    name: "per-voter",
    limit: limits.votesPerVoterPerMinute,
    windowMs: 60_000,
    key: (c) => c.get("voterKey" as never) as string | undefined,
  });
  app.use("/api/*", perIp.middleware);
  // Before the body is read: the caller picks the payout address, not the address it calls from.
  app.use("/api/*", voterWritesPerIp.middleware);
  app.use("/api/*", async (c, next) => {
    if (c.req.method !== "POST" || !isVoterWrite(c.req.method, c.req.path)) return next();
    // The body is cached by Hono, so the route's own validator reads it again for free.
    const body = (await c.req.json().catch(() => undefined)) as { payoutAddress?: unknown; address?: unknown } | undefined;
    const address = body?.payoutAddress ?? body?.address;
    // No address: nothing to count per voter (the route refuses the body anyway; the local-only
    // simulated-proof endpoint has none).
    if (typeof address !== "string") return next();
    c.set("voterKey" as never, address.toLowerCase() as never);
    return perVoter.middleware(c, next);
  });
}
