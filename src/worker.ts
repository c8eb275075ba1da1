// Cloudflare Workers entry: the same createApp(deps) as the Node server (src/server.ts), composed from
// the Worker's bindings. Production mode only — no chain, no word-list moderator, no stand-in here.
//
//   storage      D1 through the Store port (src/db/d1.ts: Kysely + kysely-d1, batch() = D1 batch)
//   payments     the facilitator over HTTP (CDP, or X402_FACILITATOR_URL)
//   moderation   OpenAI (OPENAI_API_KEY, OPENAI_BASE_URL)
//   World ID     the Developer Portal's verify API (WORLD_ID_*; WORLD_ID_VERIFY_BASE_URL)
//   pages        public/ as Workers static assets (wrangler.toml [assets]): files are served before the
//                Worker runs; page routes (/polls/:id …) reach the app, which maps them through ASSETS
//   background   scheduled() (cron in wrangler.toml): expiry sweep, webhook dispatch (fetch transport),
//                payment reconciliation when RPC_URL_* are set, and pruning of stale World ID requests.
//                A vote that completes a poll also kicks the dispatcher after its response (waitUntil).
//
// Configuration: the bindings' string values (wrangler.toml [vars] and `wrangler secret put`) go through
// the same loadConfig as on Node; src/config.ts stays the only reader of configuration.
import { AsyncLocalStorage } from "node:async_hooks";
import type { D1Database, ExecutionContext, Fetcher, ScheduledController } from "@cloudflare/workers-types/latest";
import { sql } from "kysely";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createApp } from "./app";
import { ConfigError, describeConfigProblem, type Config } from "./config";
import { openD1Store, type D1Store } from "./db/d1";
import { discoveryMetadata } from "./discovery/declaration";
import { workerDiscoveryAssets } from "./discovery/assets-worker";
import { productionChainReaders, productionNetworks } from "./enabled-networks";
import { errorBody } from "./http/errors";
import { jsonLogger, type Logger } from "./http/logger";
import type { ReadinessCheck } from "./http/readiness";
import type { Moderator } from "./moderation/moderator";
import { createOpenAIModerator } from "./moderation/openai";
import { viemChainReader, type ChainReader } from "./payment/chain-reader";
import { remoteFacilitator } from "./payment/facilitator";
import { BASE, PRODUCTION_NETWORKS, WORLD_CHAIN } from "./payment/networks";
import { createPaymentServer, POLLS_PATH } from "./payment/payment-server";
import { reconcilePendingPayments } from "./payment/reconcile";
import { workersStaticFiles } from "./pages/static-workers";
import { workerConfig } from "./worker-config";
import { workerVendoredFiles } from "./worker-vendor";
import { expireDuePolls, type TransitionListener } from "./polls/lifecycle";
import { createReadTokens } from "./polls/read-token";
import { configuredOwnAddresses, payoutAddressPolicy } from "./payouts/address-policy";
import { pruneWorldIdRequests } from "./voting/repo";
import { productionWorldIdVerifier } from "./voting/world-id-production";
import { dispatchDue, type DispatchSummary } from "./webhook/dispatch-core";
import { fetchTransport } from "./webhook/fetch-transport";
import { webhookOutboxListener } from "./webhook/outbox";
import { createCallbackSecrets, type CallbackSecrets } from "./webhook/signing";
import { unresolvedDeliverableUrl, type CallbackUrlOptions } from "./webhook/url-policy";

/** The Worker's bindings (wrangler.toml): D1, static assets, and string vars/secrets. */
export interface WorkerEnv {
  DB: D1Database;
  ASSETS?: Fetcher;
  [binding: string]: unknown;
}

/** Claims younger than this may still be in flight in some isolate: reconciliation leaves them alone. */
const RECONCILE_MIN_AGE_MS = 5 * 60_000;
/** Dispatcher rounds per cron tick (each sends up to 25 due deliveries concurrently). */
const MAX_DISPATCH_ROUNDS = 8;
const DISPATCH_BATCH = 25;

interface Runtime {
  config: Config;
  store: D1Store;
  app: OpenAPIHono;
  log: Logger;
  transitionListeners: readonly TransitionListener[];
  chains: ReadonlyMap<string, ChainReader>;
  callbackSecrets: CallbackSecrets | undefined;
  callbackUrlOptions: CallbackUrlOptions;
}

/** Set per request: a lifecycle transition built its outbox statements, so dispatch after the response. */
const requestScope = new AsyncLocalStorage<{ dispatch: boolean }>();

function buildRuntime(env: WorkerEnv): Runtime {
  const log = jsonLogger((line) => console.log(line));
  const config = workerConfig(env);
  for (const problem of config.problems) log(describeConfigProblem(problem), { level: "warn" });
  if (config.webhook.allowLoopbackForTests) {
    log("webhooks: WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS is set — plain http callbacks to loopback are accepted (tests only)", { level: "warn" });
  }

  const store = openD1Store(env.DB);
  const networks = productionNetworks(config);
  const facilitator = remoteFacilitator(config.payment);
  const moderator: Moderator | undefined = config.moderation.openAiApiKey
    ? createOpenAIModerator({
        apiKey: config.moderation.openAiApiKey,
        timeoutMs: config.moderation.timeoutMs,
        ...(config.moderation.openAiBaseUrl ? { baseURL: config.moderation.openAiBaseUrl } : {}),
      })
    : undefined;
  const paymentsConfigured = networks.length > 0 && facilitator !== undefined && !config.problems.some((p) => p.area === "payment");
  // Initialised lazily by the first quote or paid request (a facilitator outage is a 503 until it answers).
  const payments = paymentsConfigured
    ? createPaymentServer({
        networks,
        facilitator: facilitator!,
        maxTimeoutSeconds: config.payment.maxTimeoutSeconds,
        log,
        metadata: discoveryMetadata({
          publicBaseUrl: config.publicBaseUrl,
          resourceUrl: `${config.publicBaseUrl}${POLLS_PATH}`,
          configuredIconUrl: config.payment.resourceIconUrl,
          exampleNetwork: networks[0]?.spec ?? BASE,
          maxExpiryLeadMs: config.polls.maxExpiryLeadMs,
        }),
      })
    : undefined;

  const chains = productionChainReaders(config, networks);

  const readTokens = config.readTokenSecret ? createReadTokens(config.readTokenSecret) : undefined;
  const callbackSecrets = config.readTokenSecret ? createCallbackSecrets(config.readTokenSecret) : undefined;
  const transitionListeners = [
    webhookOutboxListener({
      publicBaseUrl: config.publicBaseUrl,
      readTokens,
      onStatements: () => {
        const scope = requestScope.getStore();
        if (scope) scope.dispatch = true;
      },
    }),
  ];
  // Workers have no resolver and cannot pin addresses: refuse IP literals and local names in the URL,
  // and rely on Workers' egress not reaching private networks (README, "Deploy to Cloudflare Workers").
  const callbackUrlOptions: CallbackUrlOptions = {
    refuseIpLiterals: true,
    allowLoopbackHttp: config.webhook.allowLoopbackForTests,
  };
  const readinessChecks: ReadinessCheck[] = [
    {
      name: "database",
      run: async () => {
        await sql`SELECT 1`.execute(store.db);
        return "d1";
      },
    },
    ...[...chains].map(([network, reader]) => ({ name: `chain:${network}`, run: async () => `block ${await reader.latestBlock()}` })),
    {
      name: "facilitator",
      run: async () => {
        if (!facilitator) throw new Error("not configured");
        const supported = await facilitator.getSupported();
        return `${supported.kinds.length} payment kinds`;
      },
    },
    {
      name: "moderation",
      run: async () => {
        if (!moderator) throw new Error("not configured");
        await moderator.moderate({ texts: [{ param: "readyz", text: "readiness probe" }], images: [] });
        return moderator.name;
      },
    },
  ];

  const vendored = workerVendoredFiles();
  if (vendored.missing.length > 0) log(`pages: vendored files not bundled with this Worker (404): ${vendored.missing.join(", ")}`, { level: "warn" });
  const app = createApp({
    mode: config.mode,
    publicBaseUrl: config.publicBaseUrl,
    problems: config.problems,
    store,
    payments,
    knownNetworks: [...PRODUCTION_NETWORKS],
    // Payouts do not run here; addresses no payout could reach are still refused (no blacklist read).
    payoutAddresses: payoutAddressPolicy({ refused: configuredOwnAddresses(config, PRODUCTION_NETWORKS, networks) }),
    moderator,
    readTokens,
    callbackSecrets,
    callbackUrlOptions,
    worldId: productionWorldIdVerifier(config, log),
    transitionListeners,
    chains,
    maxExpiryLeadMs: config.polls.maxExpiryLeadMs,
    settlementConfirmWaitMs: config.payment.confirmWaitMs,
    // No startedAt: isolates run side by side, so a claim older than this isolate may be in flight in
    // another one. Abandoned claims are recognised by age alone (and reconciled by scheduled()).
    log,
    // Cloudflare sets CF-Connecting-IP to the client's address at the edge.
    clientIp: (c) => c.req.header("cf-connecting-ip") ?? undefined,
    rateLimits: {
      perIpPerMinute: config.http.rateLimitPerMinute,
      votesPerVoterPerMinute: config.http.rateLimitVotesPerMinute,
      voterWritesPerIpPerMinute: config.http.rateLimitVoterWritesPerIpPerMinute,
    },
    readinessChecks,
    discoveryAssets: workerDiscoveryAssets(),
    ...(env.ASSETS ? { staticFiles: workersStaticFiles(env.ASSETS, vendored.files) } : {}),
  });
  log(`quali polls on Workers (production): networks ${networks.map((n) => n.spec.network).join(", ") || "none"}; moderation ${moderator?.name ?? "not configured"}`);
  return {
    config,
    store,
    app,
    log,
    transitionListeners,
    chains,
    callbackSecrets,
    callbackUrlOptions,
  };
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
    const summary = await dispatchDue({
      store: runtime.store,
      mode: runtime.config.mode,
      now,
      contractSecret: runtime.config.callbackSecret,
      callbackSecrets: runtime.callbackSecrets,
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
  const { store, log } = runtime;
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
  await step("expired", async () => (await expireDuePolls(store, now(), runtime.transitionListeners)).length);
  await step("worldIdRequestsPruned", () => pruneWorldIdRequests(store, now()));
  if (runtime.chains.size > 0) {
    await step("reconciled", () => reconcilePendingPayments({ store, chains: runtime.chains, now, log: (line) => log(line), confirmWaitMs: runtime.config.payment.confirmWaitMs }, RECONCILE_MIN_AGE_MS));
  }
  await step("webhooks", () => dispatchWebhooks(runtime, now));
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
    const scope = { dispatch: false };
    const response = await requestScope.run(scope, () => runtime.app.fetch(request, env, ctx as never));
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
