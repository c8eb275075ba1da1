// Node entry: listens, composes the services (src/compose.ts) on SQLite, and in local mode brings up the
// devnet first (src/devnet/local-platform.ts). Owns what only a long-running process has: timers for the
// background jobs, the webhook dispatcher, the payout runner, and graceful shutdown.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { setFlagsFromString } from "node:v8";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import type { FacilitatorClient } from "@x402/core/server";
import { createApp } from "./app";
import { composeServices, RECONCILE_MIN_AGE_MS } from "./compose";
import { describeConfigProblem, type Config } from "./config";
import { openSqliteStore, type SqliteStore } from "./db/sqlite";
import { startLocalPlatform } from "./devnet/local-platform";
import type { Devnet } from "./devnet/devnet";
import { loadDiscoveryAssets } from "./discovery/assets-node";
import { productionChainReaders, productionNetworks } from "./enabled-networks";
import type { AppEnv } from "./http/app-env";
import { forwardedClientIp } from "./http/client-ip";
import { accessLogOf, type Logger } from "./http/logger";
import type { Moderator } from "./moderation";
import { every } from "./node/every";
import { listen } from "./node/listen";
import type { ReplayStats } from "./http/replay-edge";
import { nodeStaticFiles } from "./pages/static-node";
import { remoteFacilitator, PRODUCTION_NETWORKS, type PaymentServer } from "./payment";
import type { CrashPoint } from "./polls";
import { nodePayoutAddressPolicy, productionPayoutNetworks, startPayouts, type PayoutWorker } from "./payouts";
import { productionWorldIdVerifier } from "./voting";
import type { PortalControls } from "./devnet/world-id";
import { startDispatcher, type Dispatcher } from "./webhook/dispatcher-node";


export interface StartOptions {
  /** Use this facilitator instead of the configured one (tests). */
  facilitator?: FacilitatorClient;
  /** Use this moderator instead of the configured one (tests). */
  moderator?: Moderator;
  now?: () => Date;
  log?: Logger;
}

export interface RunningServer {
  url: string;
  port: number;
  config: Config;
  store: SqliteStore;
  payments: PaymentServer | undefined;
  devnet: Devnet | undefined;
  /** The in-process World ID portal stand-in (local mode, unless WORLD_ID_VERIFY_BASE_URL is set). */
  worldIdStandin: PortalControls | undefined;
  /** The voter payout job (src/payouts/): `kick()` runs a round now. */
  payouts: PayoutWorker;
  /** Decides every open payment claim from the chain now, whatever its age (the timer does it each minute). */
  reconcileNow(): Promise<Record<string, number>>;
  /** Answers the edge sent again without running the app, and how many it keeps (src/http/replay-edge.ts). */
  replayStats(): ReplayStats;
  close(): Promise<void>;
}

const RECONCILE_INTERVAL_MS = 60_000;
const LIFECYCLE_SWEEP_INTERVAL_MS = 30_000;
const SHUTDOWN_GRACE_MS = 20_000;

export async function startServer(initialConfig: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? ((message: string) => console.log(message));
  const now = options.now ?? (() => new Date());
  const startedAt = new Date();
  // V8 lets the old generation grow up to 4× the live heap before a full collection on a large machine;
  // a lower growth factor keeps the resident size near the live heap (docs/performance.md).
  if (initialConfig.heapGrowingPercent > 0) setFlagsFromString(`--heap-growing-percent=${initialConfig.heapGrowingPercent}`);
  const listening = await listen(initialConfig);
  const config: Config = initialConfig.publicBaseUrlExplicit
    ? initialConfig
    : { ...initialConfig, port: listening.port, publicBaseUrl: `http://localhost:${listening.port}` };
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  for (const problem of config.problems) log(describeConfigProblem(problem));

  const store = openSqliteStore(join(dataDir, "quali.sqlite"));
  const local = config.mode === "local" ? await startLocalPlatform(config, dataDir, log) : undefined;
  const networks = local?.networks ?? productionNetworks(config);
  const worldId = local?.worldId ?? { verifier: productionWorldIdVerifier(config, log), portal: undefined };
  let dispatcher: Dispatcher | undefined;
  const services = composeServices(config, {
    store,
    storeName: "sqlite",
    networks,
    knownNetworks: local?.knownNetworks ?? PRODUCTION_NETWORKS,
    facilitator: options.facilitator ?? remoteFacilitator(config.payment) ?? local?.devnet.facilitator,
    moderator: options.moderator ?? (config.moderation.openAiApiKey ? undefined : local?.moderator),
    readTokenSecret: local?.readTokenSecret ?? config.readTokenSecret,
    worldId: worldId.verifier,
    chains: local?.chains ?? productionChainReaders(config, networks),
    onWebhookEnqueued: () => dispatcher?.kick(),
    log,
  });
  const { payments, moderator } = services;
  log(`moderation: ${moderator ? moderator.name : "not configured (poll creation answers 503)"}`);
  if (payments) {
    const ok = await payments.initialize();
    log(`payment: networks ${networks.map((n) => `${n.spec.label} (${n.spec.network})`).join(", ")}; facilitator ${ok ? "ready" : "not reachable yet (503 until it is)"}`);
  }
  const startupCounts = await services.reconcile(now, 0);
  if (Object.values(startupCounts).some((n) => n > 0)) log(`reconcile at startup: ${JSON.stringify(startupCounts)}`);

  const devnet = local?.devnet;
  const payoutNetworks = local ? [await local.payoutNetwork(log)] : productionPayoutNetworks({ config, paymentNetworks: networks, log });
  const payouts = startPayouts({ config, store, networks: payoutNetworks, now, log, ...(devnet ? { onConfirmed: devnet.saveState } : {}) });
  local?.writeDevnetFile(payouts.worker.networks.find((n) => n.network === devnet?.network)?.chain?.wallet);
  // Open event streams end when shutdown begins: they would otherwise hold it up for the whole grace period.
  const shuttingDown = new AbortController();
  const app = createApp({
    ...services.appDeps,
    // One process serves every stream: one read per watched poll, whatever the number of its streams.
    eventStreams: { ...services.appDeps.eventStreams, sharedReads: true },
    shutdown: shuttingDown.signal,
    clientIp: (c) => clientIpOf(c, config.http.trustProxyHops),
    discoveryAssets: loadDiscoveryAssets(),
    staticFiles: nodeStaticFiles(),
    now: options.now,
    onSettled: devnet?.saveState,
    startedAt,
    payouts: payouts.worker,
    payoutCrashPoint: payouts.crashPoint,
    payoutAddresses: nodePayoutAddressPolicy({ config, knownNetworks: services.appDeps.knownNetworks, paymentNetworks: networks, worker: payouts.worker, log }),
    crashPoint: crashPointOf(config),
  });
  listening.serve((request, bindings) => app.fetch(request, bindings), {
    accessLog: accessLogOf(log),
    now: () => now().getTime(),
  });

  // Expiry makes the status and the webhook happen without a vote; votes check expiry themselves.
  const sweep = async () => {
    const { expired } = await services.sweep(now());
    if (expired > 0) log(`lifecycle: expired ${expired} poll(s)`);
  };
  const stopTimers = [
    every(RECONCILE_INTERVAL_MS, "reconcile", () => services.reconcile(now, RECONCILE_MIN_AGE_MS), log),
    every(LIFECYCLE_SWEEP_INTERVAL_MS, "lifecycle sweep", sweep, log),
  ];
  await sweep().catch((error: unknown) => log(`lifecycle sweep failed: ${String(error)}`));
  dispatcher = startDispatcher(
    { store, mode: config.mode, now, contractSecret: config.callbackSecret, callbackSecrets: services.callbackSecrets, timeoutMs: config.webhook.timeoutMs, log },
    config.webhook.dispatchIntervalMs,
  );
  dispatcher.kick();
  payouts.start();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (const stop of stopTimers) stop();
      shuttingDown.abort();
      // In-flight requests (settlements) finish first, within a bound.
      await listening.close(SHUTDOWN_GRACE_MS, log);
      await dispatcher?.stop();
      await payouts.stop();
      await devnet?.stop();
      await store.close();
    })());
  return {
    url: config.publicBaseUrl,
    port: listening.port,
    config,
    store,
    payments,
    devnet,
    worldIdStandin: worldId.portal,
    payouts: payouts.worker,
    reconcileNow: () => services.reconcile(now, 0),
    replayStats: () => listening.replayStats(),
    close,
  };
}

/** TEST_CRASH_AT (local mode only): the process kills itself at that point of paid creation. */
function crashPointOf(config: Config): ((point: CrashPoint) => void) | undefined {
  const crashAt = config.mode === "local" ? config.testCrashAt : undefined;
  if (!crashAt) return undefined;
  return (point) => {
    if (point === crashAt) process.kill(process.pid, "SIGKILL");
  };
}

/**
 * The socket's peer, or behind `trustedHops` proxies you run (TRUST_PROXY_HOPS), the right-most
 * X-Forwarded-For entry none of them wrote (src/http/client-ip.ts): leading entries are the client's own.
 */
function clientIpOf(c: Context<AppEnv>, trustedHops: number): string | undefined {
  let socket: string | undefined;
  try {
    socket = getConnInfo(c).remote.address;
  } catch {
    socket = undefined;
  }
  return forwardedClientIp(trustedHops > 0 ? c.req.header("x-forwarded-for") : undefined, trustedHops, socket);
}
