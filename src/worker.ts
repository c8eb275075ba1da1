// Cloudflare Workers entry: the services composed from the Worker's bindings by src/compose.ts (as on
// Node), on D1, in production mode only — no chain, no word-list moderator, no stand-in here. What only
// Workers have lives here: public/ as static assets (page routes reach the app, which maps them through
// ASSETS), the cron (scheduled(): expiry sweep, payment reconciliation, webhook dispatch, pruning of stale
// World ID requests, a poke to each network's payout runner), and webhook dispatch after a response whose
// vote completed a poll (waitUntil). Outgoing transfers (voter payouts, refunds) run in one Durable Object
// per network (PayoutRunner, src/payouts/runner-workers.ts), driven by its alarm.
// The bindings' string values go through the same loadConfig as on Node (src/worker-config.ts).
import { AsyncLocalStorage } from "node:async_hooks";
import type { D1Database, DurableObjectNamespace, DurableObjectState, ExecutionContext, Fetcher, ScheduledController } from "@cloudflare/workers-types/latest";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ExecutionContext as HonoExecutionContext } from "hono";
import { createApp } from "./app";
import { composeServices, RECONCILE_MIN_AGE_MS, type Services } from "./compose";
import { ConfigError, describeConfigProblem, type Config } from "./config";
import { openD1Store, type D1Store } from "./db/d1";
import { workerDiscoveryAssets } from "./discovery/assets-worker";
import { productionChainReaders, productionNetworks } from "./enabled-networks";
import type { AppEnv } from "./http/app-env";
import { errorBody } from "./http/errors";
import { jsonLogger, type Logger } from "./http/logger";
import { workersRateLimits } from "./http/rate-limit-workers";
import { PRODUCTION_NETWORKS, remoteFacilitator } from "./payment";
import { workersStaticFiles } from "./pages/static-workers";
import { configuredOwnAddresses, nodePayoutAddressPolicy, payoutAddressPolicy, productionPayoutNetworks, type PayoutWorker } from "./payouts";
import { durableObjectPayouts, payoutRunnerObject, type PayoutRunnerObject } from "./payouts/runner-workers";
import { productionWorldIdVerifier } from "./voting";
import { dispatchDueWith, fetchTransport, unresolvedDeliverableUrl, type CallbackUrlOptions, type DispatchSummary } from "./webhook";
import { workerConfig } from "./worker-config";
import { workerVendoredFiles } from "./worker-vendor";

/** The Worker's bindings (wrangler.toml): D1, static assets, and string vars/secrets. */
export interface WorkerEnv {
  DB: D1Database;
  ASSETS?: Fetcher;
  /** One payout runner per network (wrangler.toml [[durable_objects.bindings]]); absent → no transfers run. */
  PAYOUT_RUNNER?: DurableObjectNamespace;
  [binding: string]: unknown;
}

/** Dispatcher rounds per cron tick (each sends up to 25 due deliveries concurrently). */
const MAX_DISPATCH_ROUNDS = 8;
const DISPATCH_BATCH = 25;

interface Runtime {
  config: Config;
  services: Services;
  store: D1Store;
  app: OpenAPIHono<AppEnv>;
  log: Logger;
  callbackUrlOptions: CallbackUrlOptions;
  /** The payout runners (absent without the PAYOUT_RUNNER binding). */
  payouts: (PayoutWorker & { poke(): Promise<Record<string, string>> }) | undefined;
}

/**
 * Set per request: a lifecycle transition built its outbox statements, so dispatch after the response;
 * work that must outlive the response (a poke to a payout runner) is kept alive with waitUntil.
 */
const requestScope = new AsyncLocalStorage<{ dispatch: boolean; background: Promise<unknown>[] }>();

function buildRuntime(env: WorkerEnv): Runtime {
  const log = jsonLogger((line) => console.log(line));
  const config = workerConfig(env);
  for (const problem of config.problems) log(describeConfigProblem(problem), { level: "warn" });
  if (config.webhook.allowLoopbackForTests) {
    log("webhooks: WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS is set — plain http callbacks to loopback are accepted (tests only)", { level: "warn" });
  }
  const store = openD1Store(env.DB);
  const networks = productionNetworks(config);
  // The payment server initialises lazily on the first quote or paid request (a 503 until the facilitator answers).
  const services = composeServices(config, {
    store,
    storeName: "d1",
    networks,
    knownNetworks: PRODUCTION_NETWORKS,
    facilitator: remoteFacilitator(config.payment),
    readTokenSecret: config.readTokenSecret,
    worldId: productionWorldIdVerifier(config, log),
    chains: productionChainReaders(config, networks),
    onWebhookEnqueued: () => {
      const scope = requestScope.getStore();
      if (scope) scope.dispatch = true;
    },
    log,
  });
  // Workers have no resolver and cannot pin addresses: refuse IP literals and local names in the URL,
  // and rely on Workers' egress not reaching private networks (docs/workers.md).
  const callbackUrlOptions: CallbackUrlOptions = { refuseIpLiterals: true, allowLoopbackHttp: config.webhook.allowLoopbackForTests };
  const payoutNetworks = env.PAYOUT_RUNNER ? productionPayoutNetworks({ config, paymentNetworks: networks, log }) : [];
  const payouts = env.PAYOUT_RUNNER
    ? durableObjectPayouts({
        namespace: env.PAYOUT_RUNNER,
        networks: payoutNetworks,
        thresholdAtomic: config.payouts.thresholdAtomic,
        background: (work) => requestScope.getStore()?.background.push(work.catch(() => undefined)),
        log,
      })
    : undefined;
  if (!payouts) log("payouts: no PAYOUT_RUNNER Durable Object binding in wrangler.toml; rewards and refunds accrue unpaid", { level: "warn" });
  // Rate limits shared by all isolates (the Rate Limiting bindings); per isolate where a binding is missing.
  const rateLimits = workersRateLimits(env, { log });
  const vendored = workerVendoredFiles();
  if (vendored.missing.length > 0) log(`pages: vendored files not bundled with this Worker (404): ${vendored.missing.join(", ")}`, { level: "warn" });
  const app = createApp({
    ...services.appDeps,
    ...(payouts
      ? {
          payouts,
          // As on Node: our own addresses, and each paying network's token blacklist (cached per isolate, failing open).
          payoutAddresses: nodePayoutAddressPolicy({ config, knownNetworks: PRODUCTION_NETWORKS, paymentNetworks: networks, worker: payouts, log }),
        }
      : { payoutAddresses: payoutAddressPolicy({ refused: configuredOwnAddresses(config, PRODUCTION_NETWORKS, networks) }) }),
    callbackUrlOptions,
    rateLimiter: rateLimits.factory,
    readinessChecks: [...(services.appDeps.readinessChecks ?? []), rateLimits.readinessCheck],
    // No startedAt: isolates run side by side, so a claim older than this isolate may be in flight in
    // another one. Abandoned claims are recognised by age alone (and reconciled by scheduled()).
    // Cloudflare sets CF-Connecting-IP to the client's address at the edge.
    clientIp: (c) => c.req.header("cf-connecting-ip") ?? undefined,
    discoveryAssets: workerDiscoveryAssets(),
    ...(env.ASSETS ? { staticFiles: workersStaticFiles(env.ASSETS, vendored.files) } : {}),
  });
  log(`quali polls on Workers (production): networks ${networks.map((n) => n.spec.network).join(", ") || "none"}; moderation ${services.moderator?.name ?? "not configured"}`);
  return { config, services, store, app, log, callbackUrlOptions, payouts };
}

let cached: { env: WorkerEnv; runtime: Runtime } | undefined;

/** One runtime per isolate (and per bindings object). Throws ConfigError on invalid configuration. */
function runtimeFor(env: WorkerEnv): Runtime {
  if (cached?.env !== env) cached = { env, runtime: buildRuntime(env) };
  return cached.runtime;
}

function configErrorResponse(error: ConfigError): Response {
  console.error(error.message);
  return Response.json(errorBody("internal_error", `The service is misconfigured: ${error.message}`), { status: 500 });
}

/** Sends every due webhook delivery (several rounds while batches come back full). */
async function dispatchWebhooks(runtime: Runtime, now: () => Date): Promise<DispatchSummary> {
  const total: DispatchSummary = { attempted: 0, delivered: 0, retrying: 0, failed: 0 };
  for (let round = 0; round < MAX_DISPATCH_ROUNDS; round += 1) {
    const summary = await dispatchDueWith({
      store: runtime.store,
      mode: runtime.config.mode,
      now,
      contractSecret: runtime.config.callbackSecret,
      callbackSecrets: runtime.services.callbackSecrets,
      transport: fetchTransport(),
      target: unresolvedDeliverableUrl(runtime.callbackUrlOptions),
      timeoutMs: runtime.config.webhook.timeoutMs,
      limit: DISPATCH_BATCH,
      log: (line) => runtime.log(line),
    });
    total.attempted += summary.attempted;
    total.delivered += summary.delivered;
    total.retrying += summary.retrying;
    total.failed += summary.failed;
    if (summary.attempted < DISPATCH_BATCH) break;
  }
  return total;
}

/** What one cron tick does. Each step runs even when an earlier one failed. */
async function runScheduled(runtime: Runtime, now: () => Date): Promise<Record<string, unknown>> {
  const { log } = runtime;
  const report: Record<string, unknown> = {};
  const step = async (name: string, work: () => Promise<unknown>) => {
    try {
      report[name] = await work();
    } catch (error) {
      report[name] = { error: error instanceof Error ? error.message : String(error) };
      log(`scheduled: ${name} failed: ${error instanceof Error ? error.message : String(error)}`, { level: "error" });
    }
  };
  // Expire first, so the poll.expired deliveries it enqueues go out in this same run.
  await step("lifecycle", () => runtime.services.sweep(now()));
  await step("reconciled", () => runtime.services.reconcile(now, RECONCILE_MIN_AGE_MS));
  await step("webhooks", () => dispatchWebhooks(runtime, now));
  // Each network's runner runs a round now (its alarm runs the following ones by itself).
  if (runtime.payouts) await step("payouts", () => runtime.payouts!.poke());
  log("scheduled: done", { report });
  return report;
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    let runtime: Runtime;
    try {
      runtime = runtimeFor(env);
    } catch (error) {
      if (error instanceof ConfigError) return configErrorResponse(error);
      throw error;
    }
    const scope = { dispatch: false, background: [] as Promise<unknown>[] };
    const response = await requestScope.run(scope, () => runtime.app.fetch(request, env, executionContextOf(ctx)));
    if (scope.background.length > 0) ctx.waitUntil(Promise.all(scope.background));
    if (scope.dispatch) {
      // After the response: the transition's batch has committed by now.
      ctx.waitUntil(
        dispatchWebhooks(runtime, () => new Date()).catch((error: unknown) =>
          runtime.log(`webhook dispatch failed: ${error instanceof Error ? error.message : String(error)}`, { level: "error" }),
        ),
      );
    }
    return response;
  },

  async scheduled(_controller: ScheduledController, env: WorkerEnv, _ctx: ExecutionContext): Promise<void> {
    let runtime: Runtime;
    try {
      runtime = runtimeFor(env);
    } catch (error) {
      if (error instanceof ConfigError) {
        console.error(error.message);
        return;
      }
      throw error;
    }
    await runScheduled(runtime, () => new Date());
  },
};

/** Hono's view of the Workers execution context (the two types are declared apart, with the same members). */
function executionContextOf(ctx: ExecutionContext): HonoExecutionContext {
  return { waitUntil: (promise) => ctx.waitUntil(promise), passThroughOnException: () => ctx.passThroughOnException(), props: ctx.props };
}

/**
 * The payout runner of one network (a Durable Object named after it, wrangler.toml): the job's rounds for
 * that network, driven by its alarm (src/payouts/runner-workers.ts). Built from the same bindings.
 */
export class PayoutRunner {
  private readonly object: PayoutRunnerObject;

  constructor(state: DurableObjectState, env: WorkerEnv) {
    let deps: ReturnType<typeof runnerDeps> | undefined;
    this.object = payoutRunnerObject(state, () => (deps ??= runnerDeps(env)));
  }

  fetch(request: Request): Promise<Response> {
    return this.object.fetch(request);
  }

  alarm(): Promise<void> {
    return this.object.alarm();
  }
}

function runnerDeps(env: WorkerEnv) {
  const namespace = env.PAYOUT_RUNNER;
  if (!namespace) throw new ConfigError("the PAYOUT_RUNNER Durable Object binding is missing from wrangler.toml");
  const log = jsonLogger((line) => console.log(line));
  const config = workerConfig(env);
  return {
    store: openD1Store(env.DB),
    networks: productionPayoutNetworks({ config, paymentNetworks: productionNetworks(config), log: () => undefined }),
    thresholdAtomic: config.payouts.thresholdAtomic,
    minGasWei: config.payouts.minGasWei,
    intervalMs: config.payouts.intervalMs,
    idOf: (network: string) => namespace.idFromName(network),
    now: () => new Date(),
    log,
  };
}
