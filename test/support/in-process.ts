// The app in this process, for route tests that need neither a chain nor a socket: createApp over the
// services composeServices builds from a Config, on a real SQLite store in a temporary directory.
// Requests go through `app.request(...)`. No devnet and no chain readers; payments take challenges only:
// a facilitator stand-in that supports the enabled networks and verifies or settles nothing, so a paid
// creation can never complete here (that needs the service: test/support/harness.ts).
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FacilitatorClient } from "@x402/core/server";
import type { Network, SupportedResponse } from "@x402/core/types";
import { createApp, type AppDeps } from "../../src/app";
import { productionWorldIdVerifier } from "../../src/voting";
import { composeServices } from "../../src/compose";
import { loadConfig, type Config } from "../../src/config";
import { openSqliteStore, type SqliteStore } from "../../src/db/sqlite";
import { productionNetworks } from "../../src/enabled-networks";
import { createWordListModerator } from "../../src/devnet/word-list-moderator";
import { devnetNetwork, PRODUCTION_NETWORKS, type EnabledNetwork } from "../../src/payment/networks";
import type { ReadTokens } from "../../src/polls/read-token";
import { pollBody } from "./harness";

/** The read-token secret of local-mode apps (production mode reads READ_TOKEN_SECRET). */
export const IN_PROCESS_SECRET = "in-process-read-token-secret-0123456789";

/** What local mode's devnet would be: a chain id and token no chain serves (nothing is ever settled). */
const STAND_IN_DEVNET: EnabledNetwork = {
  spec: devnetNetwork(31337, { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", name: "USDC", version: "2" }),
  payTo: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
};

export interface InProcessOptions {
  /** The environment loadConfig reads; MODE defaults to "local". */
  env?: Record<string, string>;
  /**
   * Whether a facilitator stand-in answers for the enabled networks (default true). Without one,
   * payments are not configured and POST /api/v1/polls answers 503.
   */
  facilitator?: boolean;
  now?: () => Date;
  /** What a platform's entry point adds to createApp's deps (a clientIp, a rate limiter…). */
  appDeps?: Partial<AppDeps>;
}

export interface InProcessApp {
  /** `app.request`: a path (or URL) and a RequestInit, answered without a socket. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** A JSON POST of `body` (stringified unless it is a string already). */
  postJson(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  config: Config;
  store: SqliteStore;
  readTokens: ReadTokens | undefined;
  /** Every log line (access lines included). */
  logs: string[];
  /** Inserts a settled, active poll with two options, as paid creation leaves it; returns its id. */
  insertPoll(overrides?: { publicResults?: boolean; status?: "active" | "pending_payment" | "payment_failed" }): Promise<string>;
  close(): Promise<void>;
}

export function inProcessApp(options: InProcessOptions = {}): InProcessApp {
  const dataDir = mkdtempSync(join(tmpdir(), "quali-in-process-"));
  const config = loadConfig({ MODE: "local", DATA_DIR: dataDir, ...options.env });
  const local = config.mode === "local";
  const store = openSqliteStore(join(dataDir, "quali.sqlite"));
  const networks = local ? [STAND_IN_DEVNET] : productionNetworks(config);
  const logs: string[] = [];
  const log = (line: string, fields?: Record<string, unknown>) => logs.push(fields ? `${line} ${JSON.stringify(fields)}` : line);
  const services = composeServices(config, {
    store,
    storeName: "sqlite",
    networks,
    knownNetworks: local ? [STAND_IN_DEVNET.spec, ...PRODUCTION_NETWORKS] : PRODUCTION_NETWORKS,
    facilitator: options.facilitator === false ? undefined : facilitatorStandIn(networks),
    moderator: local ? createWordListModerator() : undefined,
    readTokenSecret: local ? IN_PROCESS_SECRET : config.readTokenSecret,
    // Voting needs a World ID network: none in process (local mode's is the devnet's simulator).
    worldId: local ? undefined : productionWorldIdVerifier(config, log),
    chains: new Map(),
    onWebhookEnqueued: () => {},
    log,
  });
  const app = createApp({ ...services.appDeps, ...(options.now ? { now: options.now } : {}), ...options.appDeps });
  const request = async (path: string, init?: RequestInit) => app.request(path, init);
  return {
    request,
    postJson: (path, body, headers = {}) =>
      request(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) }),
    config,
    store,
    readTokens: services.readTokens,
    logs,
    insertPoll: (overrides = {}) => insertPoll(store, overrides),
    async close() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Supports `exact` on every enabled network (so challenges can be built); verifies and settles nothing. */
function facilitatorStandIn(networks: readonly EnabledNetwork[]): FacilitatorClient {
  const refuse = () => Promise.reject(new Error("the in-process facilitator stand-in verifies and settles nothing"));
  return {
    getSupported: async (): Promise<SupportedResponse> => ({
      kinds: networks.map(({ spec }) => ({ x402Version: 2, scheme: "exact", network: spec.network satisfies Network })),
      extensions: [],
      signers: {},
    }),
    verify: refuse,
    settle: refuse,
  };
}

async function insertPoll(store: SqliteStore, overrides: Parameters<InProcessApp["insertPoll"]>[0] = {}): Promise<string> {
  const id = randomUUID();
  const body = pollBody();
  const at = new Date().toISOString();
  const settled = (overrides.status ?? "active") === "active";
  await store.batch([
    store.db.insertInto("polls").values({
      id,
      status: overrides.status ?? "active",
      question: String(body.question),
      description: null,
      more_info_url: null,
      media_url: null,
      media_type: null,
      layout_type: "list",
      max_responses: 100,
      expires_at: String(body.expiresAt),
      callback_url: null,
      network: STAND_IN_DEVNET.spec.network,
      payer: "0x1111111111111111111111111111111111111111",
      cost_atomic: "500000",
      reward_pool_atomic: "50000",
      fee_atomic: "450000",
      created_at: at,
      activated_at: settled ? at : null,
      completed_at: null,
      public_results: overrides.publicResults ? 1 : 0,
    }),
    store.db.insertInto("poll_options").values([
      { poll_id: id, position: 0, id: randomUUID(), text: "Option A", media_url: null },
      { poll_id: id, position: 1, id: randomUUID(), text: "Option B", media_url: null },
    ]),
  ]);
  return id;
}
