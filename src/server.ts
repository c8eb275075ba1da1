// Node entry: builds every dependency once from the Config, serves the app with @hono/node-server,
// and in local mode brings up the devnet (anvil + test USDC + the official facilitator in-process).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { serve, type ServerType } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { sql } from "kysely";
import type { FacilitatorClient } from "@x402/core/server";
import { createApp } from "./app";
import { errorBody } from "./http/errors";
import type { ReadinessCheck } from "./http/readiness";
import { describeConfigProblem, type Config } from "./config";
import { forwardedClientIp } from "./http/client-ip";
import { applyServerLimits, serverOptionsOf } from "./http/server-limits";
import { openSqliteStore, type SqliteStore } from "./db/sqlite";
import { startDevnet, type Devnet } from "./devnet/devnet";
import type { Moderator } from "./moderation/moderator";
import { createOpenAIModerator } from "./moderation/openai";
import { createWordListModerator } from "./moderation/word-list";
import { viemChainReader, type ChainReader } from "./payment/chain-reader";
import { remoteFacilitator } from "./payment/facilitator";
import { reconcilePendingPayments } from "./payment/reconcile";
import type { CrashPoint } from "./polls/create";
import { BASE, devnetNetwork, PRODUCTION_NETWORKS, type EnabledNetwork, type NetworkSpec } from "./payment/networks";
import { productionChainReaders, productionNetworks } from "./enabled-networks";
import { createPaymentServer, POLLS_PATH, type PaymentServer } from "./payment/payment-server";
import { createReadTokens } from "./polls/read-token";
import { expireDuePolls } from "./polls/lifecycle";
import { pruneWorldIdRequests } from "./voting/repo";
import { startWorldId } from "./voting/world-id-setup";
import type { WorldIdStandin } from "./voting/world-id-standin";
import { discoveryMetadata } from "./discovery/declaration";
import { loadDiscoveryAssets } from "./discovery/assets-node";
import { nodeStaticFiles } from "./pages/static-node";
import { startDispatcher, type Dispatcher } from "./webhook/dispatcher";
import { webhookOutboxListener } from "./webhook/outbox";
import { createCallbackSecrets } from "./webhook/signing";
import type { PayoutWorker } from "./payouts/job";
import { nodePayoutAddressPolicy, startPayouts } from "./payouts/setup";

export { SERVICE_DESCRIPTION } from "./discovery/declaration";

export interface StartOptions {
  /** Use this facilitator instead of the configured one (tests). */
  facilitator?: FacilitatorClient;
  /** Use this moderator instead of the configured one (tests). */
  moderator?: Moderator;
  now?: () => Date;
  log?: (message: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  config: Config;
  store: SqliteStore;
  payments: PaymentServer | undefined;
  devnet: Devnet | undefined;
  /** The in-process World ID portal stand-in (local mode, unless WORLD_ID_VERIFY_BASE_URL is set). */
  worldIdStandin: WorldIdStandin | undefined;
  /** The voter payout job (src/payouts/): `kick()` runs a round now. */
  payouts: PayoutWorker;
  /** Decides every open payment claim from the chain now, whatever its age (the timer does it each minute). */
  reconcileNow(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

function localReadTokenSecret(dataDir: string): string {
  const path = join(dataDir, "read-token-secret");
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const secret = randomBytes(32).toString("hex");
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * The socket's peer, or behind `trustedHops` proxies you run (TRUST_PROXY_HOPS), the right-most
 * X-Forwarded-For entry none of them wrote (src/http/client-ip.ts): leading entries are the client's own.
 */
function clientIpOf(c: Context, trustedHops: number): string | undefined {
  let socket: string | undefined;
  try {
    socket = getConnInfo(c).remote.address;
  } catch {
    socket = undefined;
  }
  return forwardedClientIp(trustedHops > 0 ? c.req.header("x-forwarded-for") : undefined, trustedHops, socket);
}

/** What scripts and tools (demo, simulate-voters, npm run audit) need to reach the local chain. */
function writeDevnetFile(dataDir: string, devnet: Devnet, payoutWallet: string | undefined): void {
  const info = {
    network: devnet.network,
    chainId: devnet.chainId,
    rpcUrl: devnet.rpcUrl,
    asset: devnet.asset,
    payTo: devnet.payTo,
    ...(payoutWallet ? { payoutWallet } : {}),
    payers: devnet.payers.map(({ address, privateKey }) => ({ address, privateKey })),
  };
  writeFileSync(join(dataDir, "devnet.json"), `${JSON.stringify(info, null, 2)}\n`);
}

const RECONCILE_INTERVAL_MS = 60_000;
/** Claims younger than this may still be in flight in this process. */
const RECONCILE_MIN_AGE_MS = 5 * 60_000;
const SHUTDOWN_GRACE_MS = 20_000;

const LIFECYCLE_SWEEP_INTERVAL_MS = 30_000;

export async function startServer(initialConfig: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? ((message: string) => console.log(message));
  const startedAt = new Date();
  // Bound V8's heap growth (HEAP_GROWING_PERCENT, default 30%; issue 8). With its own heuristics on a large
  // machine V8 lets the old generation grow up to 4× the live heap before a full collection, so what the
  // vote path promotes (requests in flight survive young collections) piled up as garbage: ~60 MB live,
  // 250–290 MB resident. Collected at 1.3× it stays near 200 MB, for no measurable CPU. The factor is read
  // at every full collection, so setting it now applies from the next one on.
  if (initialConfig.heapGrowingPercent > 0) setFlagsFromString(`--heap-growing-percent=${initialConfig.heapGrowingPercent}`);
  // Listen first: with PORT=0 the public URL (and so the paid resource URL) is known only then.
  // The node-server env ({ incoming, outgoing }) is passed through: getConnInfo reads the socket from it.
  let handler: ((request: Request, env: unknown) => Response | Promise<Response>) | undefined;
  const server: ServerType = await new Promise((resolveServer) => {
    const s = serve(
      {
        fetch: (request, env) =>
          handler ? handler(request, env) : Response.json(errorBody("internal_error", "The service is starting."), { status: 503 }),
        port: initialConfig.port,
        hostname: initialConfig.host,
        serverOptions: serverOptionsOf(initialConfig.http),
      },
      () => resolveServer(s),
    );
  });
  applyServerLimits(server as HttpServer, initialConfig.http);
  const port = (server.address() as AddressInfo).port;
  const config: Config = initialConfig.publicBaseUrlExplicit
    ? initialConfig
    : { ...initialConfig, port, publicBaseUrl: `http://localhost:${port}` };

  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  for (const problem of config.problems) log(describeConfigProblem(problem));

  const store = openSqliteStore(join(dataDir, "quali.sqlite"));
  let devnet: Devnet | undefined;
  let networks: EnabledNetwork[];
  let knownNetworks: NetworkSpec[];
  let facilitator: FacilitatorClient | undefined = options.facilitator;
  let moderator: Moderator | undefined = options.moderator;
  let readTokenSecret = config.readTokenSecret;

  if (config.mode === "local") {
    devnet = await startDevnet({
      dataDir,
      ...(config.devnet.rpcUrl ? { rpcUrl: config.devnet.rpcUrl } : {}),
      chainId: config.devnet.chainId,
    });
    const spec = devnetNetwork(devnet.chainId, {
      address: devnet.asset,
      name: devnet.tokenName,
      version: devnet.tokenVersion,
    });
    networks = [{ spec, payTo: devnet.payTo }];
    knownNetworks = [spec, ...PRODUCTION_NETWORKS];
    facilitator ??= remoteFacilitator(config.payment) ?? devnet.facilitator;
    readTokenSecret ??= localReadTokenSecret(dataDir);
  } else {
    networks = productionNetworks(config);
    knownNetworks = [...PRODUCTION_NETWORKS];
    facilitator ??= remoteFacilitator(config.payment);
  }

  if (!moderator) {
    if (config.moderation.openAiApiKey) {
      moderator = createOpenAIModerator({
        apiKey: config.moderation.openAiApiKey,
        timeoutMs: config.moderation.timeoutMs,
        ...(config.moderation.openAiBaseUrl ? { baseURL: config.moderation.openAiBaseUrl } : {}),
      });
    } else if (config.mode === "local") {
      moderator = createWordListModerator();
    }
  }
  log(`moderation: ${moderator ? moderator.name : "not configured (poll creation answers 503)"}`);

  const paymentsConfigured = networks.length > 0 && facilitator !== undefined && !config.problems.some((p) => p.area === "payment");
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
  if (payments) {
    const ok = await payments.initialize();
    log(`payment: networks ${networks.map((n) => `${n.spec.label} (${n.spec.network})`).join(", ")}; facilitator ${ok ? "ready" : "not reachable yet (503 until it is)"}`);
  }

  // The chain is the source of truth for money: every payment outcome is decided from these readers,
  // in the request and when reconciling claims whose outcome was not known then.
  const chains: Map<string, ChainReader> = devnet
    ? new Map([[devnet.network, viemChainReader(devnet.rpcUrl, { pollingIntervalMs: 50 })]])
    : productionChainReaders(config, networks);
  const now = options.now ?? (() => new Date());
  const reconcileDeps = { store, chains, now, log, confirmWaitMs: config.payment.confirmWaitMs };
  const startupCounts = await reconcilePendingPayments(reconcileDeps, 0);
  if (Object.values(startupCounts).some((n) => n > 0)) log(`reconcile at startup: ${JSON.stringify(startupCounts)}`);
  const reconcileTimer = setInterval(() => {
    reconcilePendingPayments(reconcileDeps, RECONCILE_MIN_AGE_MS).catch((error: unknown) => log(`reconcile failed: ${String(error)}`));
  }, RECONCILE_INTERVAL_MS);
  reconcileTimer.unref();

  const crashAt = config.mode === "local" ? config.testCrashAt : undefined;
  // Voter payouts on chain (src/payouts/): local mode funds the devnet payout wallet once.
  const payouts = await startPayouts({ config, devnet, store, paymentNetworks: networks, now, log });
  if (devnet) writeDevnetFile(dataDir, devnet, payouts.worker.networks.find((n) => n.network === devnet.network)?.chain?.wallet);
  const worldId = await startWorldId(config, { dataDir, log });
  const readTokens = readTokenSecret ? createReadTokens(readTokenSecret) : undefined;
  const callbackSecrets = readTokenSecret ? createCallbackSecrets(readTokenSecret) : undefined;
  // Webhooks: the outbox row rides in every completion/expiry batch; the dispatcher is kicked right after.
  let dispatcher: Dispatcher | undefined;
  const transitionListeners = [
    webhookOutboxListener({ publicBaseUrl: config.publicBaseUrl, readTokens, onStatements: () => dispatcher?.kick() }),
  ];
  const readinessChecks: ReadinessCheck[] = [
    {
      name: "database",
      run: async () => {
        await sql`SELECT 1`.execute(store.db);
        return "sqlite";
      },
    },
    ...[...chains].map(([network, reader]) => ({
      name: `chain:${network}`,
      run: async () => `block ${await reader.latestBlock()}`,
    })),
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
  const app = createApp({
    readinessChecks,
    clientIp: (c) => clientIpOf(c, config.http.trustProxyHops),
    rateLimits: {
      perIpPerMinute: config.http.rateLimitPerMinute,
      votesPerVoterPerMinute: config.http.rateLimitVotesPerMinute,
      voterWritesPerIpPerMinute: config.http.rateLimitVoterWritesPerIpPerMinute,
    },
    worldId: worldId.verifier,
    discoveryAssets: loadDiscoveryAssets(),
    staticFiles: nodeStaticFiles(),
    mode: config.mode,
    publicBaseUrl: config.publicBaseUrl,
    problems: config.problems,
    store,
    payments,
    knownNetworks,
    moderator,
    readTokens,
    callbackSecrets,
    transitionListeners,
    ...(options.now ? { now: options.now } : {}),
    log,
    ...(devnet ? { onSettled: devnet.saveState } : {}),
    chains,
    maxExpiryLeadMs: config.polls.maxExpiryLeadMs,
    settlementConfirmWaitMs: config.payment.confirmWaitMs,
    startedAt,
    payouts: payouts.worker,
    ...(payouts.crashPoint ? { payoutCrashPoint: payouts.crashPoint } : {}),
    payoutAddresses: nodePayoutAddressPolicy({ config, knownNetworks, paymentNetworks: networks, worker: payouts.worker, log }),
    ...(crashAt
      ? {
          crashPoint: (point: CrashPoint) => {
            if (point === crashAt) process.kill(process.pid, "SIGKILL");
          },
        }
      : {}),
  });

  handler = (request, env) => app.fetch(request, env as never);
  // The lifecycle sweep: expire polls past expiresAt (votes check expiry themselves; this makes the
  // status and the webhook happen without a vote), and forget stale World ID requests.
  const clock = options.now ?? (() => new Date());
  const sweep = async () => {
    const expired = await expireDuePolls(store, clock(), transitionListeners);
    if (expired.length > 0) log(`lifecycle: expired ${expired.length} poll(s)`);
    await pruneWorldIdRequests(store, clock());
  };
  const lifecycleTimer = setInterval(() => sweep().catch((error: unknown) => log(`lifecycle sweep failed: ${String(error)}`)), LIFECYCLE_SWEEP_INTERVAL_MS);
  lifecycleTimer.unref();
  await sweep().catch((error: unknown) => log(`lifecycle sweep failed: ${String(error)}`));
  dispatcher = startDispatcher(
    { store, mode: config.mode, now: clock, contractSecret: config.callbackSecret, callbackSecrets, timeoutMs: config.webhook.timeoutMs, log },
    config.webhook.dispatchIntervalMs,
  );
  dispatcher.kick();
  payouts.start();
  const url = config.publicBaseUrl;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(reconcileTimer);
      // Stop accepting connections; let in-flight requests (settlements) finish, within a bound.
      const closed = new Promise<void>((done) => server.close(() => done()));
      // Keep-alive sockets go idle as their last response is written: close them as they do.
      const idleSweep = setInterval(() => {
        if ("closeIdleConnections" in server) server.closeIdleConnections();
      }, 50);
      const forced = setTimeout(() => {
        log("shutdown: in-flight requests did not finish in time; closing their connections");
        if ("closeAllConnections" in server) server.closeAllConnections();
      }, SHUTDOWN_GRACE_MS);
      await closed;
      clearInterval(idleSweep);
      clearTimeout(forced);
      clearInterval(lifecycleTimer);
      await dispatcher?.stop();
      await payouts.stop();
      await worldId.close();
      await devnet?.stop();
      await store.close();
    })());
  const reconcileNow = () => reconcilePendingPayments(reconcileDeps, 0);
  return { url, port, config, store, payments, devnet, worldIdStandin: worldId.standin, payouts: payouts.worker, reconcileNow, close };
}
