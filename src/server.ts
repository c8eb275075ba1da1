// Node entry: builds every dependency once from the Config, serves the app with @hono/node-server,
// and in local mode brings up the devnet (anvil + test USDC + the official facilitator in-process).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import type { FacilitatorClient } from "@x402/core/server";
import { isValidIconUrl } from "@x402/extensions/bazaar";
import { z } from "@hono/zod-openapi";
import { createApp } from "./app";
import { errorBody } from "./http/errors";
import { ConfigError, loadConfig, type Config } from "./config";
import { openSqliteStore, type SqliteStore } from "./db/sqlite";
import { startDevnet, type Devnet } from "./devnet/devnet";
import type { Moderator } from "./moderation/moderator";
import { createOpenAIModerator } from "./moderation/openai";
import { createWordListModerator } from "./moderation/word-list";
import { remoteFacilitator } from "./payment/facilitator";
import {
  BASE,
  BASE_SEPOLIA,
  devnetNetwork,
  PRODUCTION_NETWORKS,
  WORLD_CHAIN,
  WORLD_CHAIN_SEPOLIA,
  type EnabledNetwork,
  type NetworkSpec,
} from "./payment/networks";
import { createPaymentServer, POLLS_PATH, type PaymentServer } from "./payment/payment-server";
import { createReadTokens } from "./polls/read-token";
import { CreatePollBody, EXAMPLE_CREATE_POLL_BODY } from "./polls/schema";

export const SERVICE_DESCRIPTION =
  "Human taste on-demand: create text or image polls for World ID-verified humans, pay per response with x402, " +
  "and retrieve aggregate results through the Quali API.";

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
  close(): Promise<void>;
}

function localReadTokenSecret(dataDir: string): string {
  const path = join(dataDir, "read-token-secret");
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const secret = randomBytes(32).toString("hex");
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

function productionNetworks(config: Config): EnabledNetwork[] {
  const { payToBase, payToWorldChain, enableTestnets } = config.payment;
  const pairs: [NetworkSpec, string | undefined][] = [
    [BASE, payToBase],
    [WORLD_CHAIN, payToWorldChain],
    ...(enableTestnets
      ? ([
          [BASE_SEPOLIA, payToBase],
          [WORLD_CHAIN_SEPOLIA, payToWorldChain],
        ] as [NetworkSpec, string | undefined][])
      : []),
  ];
  return pairs
    .filter((pair): pair is [NetworkSpec, string] => pair[1] !== undefined)
    .map(([spec, payTo]) => ({ spec, payTo: payTo as `0x${string}` }));
}

function iconUrlFor(config: Config): string | undefined {
  const candidate = config.payment.resourceIconUrl ?? `${config.publicBaseUrl}/favicon.ico`;
  // x402's PaymentRequired schema rejects the whole challenge for an IP/localhost/non-https icon.
  return isValidIconUrl(candidate) ? candidate : undefined;
}

export async function startServer(initialConfig: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? ((message: string) => console.log(message));
  // Listen first: with PORT=0 the public URL (and so the paid resource URL) is known only then.
  let handler: ((request: Request) => Response | Promise<Response>) | undefined;
  const server: ServerType = await new Promise((resolveServer) => {
    const s = serve(
      {
        fetch: (request) =>
          handler ? handler(request) : Response.json(errorBody("internal_error", "The service is starting."), { status: 503 }),
        port: initialConfig.port,
        hostname: initialConfig.host,
      },
      () => resolveServer(s),
    );
  });
  const port = (server.address() as AddressInfo).port;
  const config: Config = initialConfig.publicBaseUrlExplicit
    ? initialConfig
    : { ...initialConfig, port, publicBaseUrl: `http://localhost:${port}` };

  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  for (const problem of config.problems) log(`config: ${problem.variable} is missing — ${problem.message}`);

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
    writeFileSync(
      join(dataDir, "devnet.json"),
      `${JSON.stringify(
        {
          network: devnet.network,
          chainId: devnet.chainId,
          rpcUrl: devnet.rpcUrl,
          asset: devnet.asset,
          payTo: devnet.payTo,
          payers: devnet.payers.map(({ address, privateKey }) => ({ address, privateKey })),
        },
        null,
        2,
      )}\n`,
    );
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
        metadata: {
          resourceUrl: `${config.publicBaseUrl}${POLLS_PATH}`,
          description: SERVICE_DESCRIPTION,
          serviceName: "Quali",
          tags: ["taste", "polls", "feedback", "world-id", "agents"],
          iconUrl: iconUrlFor(config),
          bazaar: {
            exampleBody: { ...EXAMPLE_CREATE_POLL_BODY },
            bodySchema: z.toJSONSchema(CreatePollBody, { target: "draft-2020-12", io: "input" }) as Record<string, unknown>,
            outputExample: {
              id: "uuid",
              url: `${config.publicBaseUrl}/polls/<id>`,
              payment: { network: networks[0]?.spec.network ?? BASE.network, amountUsdc: 0.5 },
              pricing: { maxResponses: 100, costUsdc: 0.5 },
            },
          },
        },
      })
    : undefined;
  if (payments) {
    const ok = await payments.initialize();
    log(`payment: networks ${networks.map((n) => `${n.spec.label} (${n.spec.network})`).join(", ")}; facilitator ${ok ? "ready" : "not reachable yet (503 until it is)"}`);
  }

  const app = createApp({
    mode: config.mode,
    publicBaseUrl: config.publicBaseUrl,
    problems: config.problems,
    store,
    payments,
    knownNetworks,
    moderator,
    readTokens: readTokenSecret ? createReadTokens(readTokenSecret) : undefined,
    ...(options.now ? { now: options.now } : {}),
    log,
    ...(devnet ? { onSettled: devnet.saveState } : {}),
  });

  handler = (request) => app.fetch(request);
  const url = config.publicBaseUrl;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await new Promise<void>((done) => server.close(() => done()));
      await devnet?.stop();
      await store.close();
    })());
  return { url, port, config, store, payments, devnet, close };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const running = await startServer(config);
  console.log(`Quali polls (${config.mode} mode) listening on ${running.url}`);
  if (running.devnet) {
    console.log(`Local devnet ${running.devnet.network} at ${running.devnet.rpcUrl}, USDC ${running.devnet.asset}`);
    console.log("Demo payer accounts (devnet only, never use on a real chain):");
    for (const payer of running.devnet.payers) console.log(`  ${payer.address}  ${payer.privateKey}`);
    console.log(`Wrote ${join(resolve(config.dataDir), "devnet.json")}. Try: npm run demo`);
  }
  const shutdown = (signal: string) => {
    console.log(`${signal}: shutting down`);
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
