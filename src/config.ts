// Environment → typed Config. The only module that reads process.env: everything else receives the
// values it needs from the composition root (server.ts / worker.ts).
import { z } from "zod";

export type Mode = "local" | "production";

/**
 * A piece of production configuration that is missing (or set to a value production refuses): the
 * affected endpoints answer 503 with `code`.
 */
export interface ConfigProblem {
  area: "payment" | "moderation" | "read_tokens" | "world_id";
  code: "payment_not_configured" | "moderation_not_configured" | "read_tokens_not_configured" | "world_id_not_configured";
  variable: string;
  message: string;
  /** Absent or "missing": the variable is unset. "refused": it is set to a value production does not accept. */
  kind?: "missing" | "refused";
}

/** How the startup log names a problem: "is missing" or "is refused". */
export function describeConfigProblem(problem: ConfigProblem): string {
  return `config: ${problem.variable} ${problem.kind === "refused" ? "is refused" : "is missing"} — ${problem.message}`;
}

export interface Config {
  mode: Mode;
  port: number;
  host: string;
  dataDir: string;
  /** Origin the service is reachable at, without trailing slash (e.g. https://www.getquali.com). */
  publicBaseUrl: string;
  /** Explicitly set by the operator (vs derived from PORT in local mode). */
  publicBaseUrlExplicit: boolean;
  readTokenSecret: string | undefined;
  payment: {
    payToBase: string | undefined;
    payToWorldChain: string | undefined;
    enableTestnets: boolean;
    facilitatorUrl: string | undefined;
    cdpApiKeyId: string | undefined;
    cdpApiKeySecret: string | undefined;
    resourceIconUrl: string | undefined;
    maxTimeoutSeconds: number;
    /** Deadline of one facilitator verify/settle call; a settle that times out leaves the claim open. */
    facilitatorTimeoutMs: number;
    /** How long a paid request waits for the receipt of the settlement transaction before answering 202. */
    confirmWaitMs: number;
    rpcUrlBase: string | undefined;
    rpcUrlWorldChain: string | undefined;
  };
  polls: {
    /** How far ahead expiresAt may be (POLL_MAX_EXPIRY_DAYS, default 365 days). */
    maxExpiryLeadMs: number;
  };
  moderation: {
    openAiApiKey: string | undefined;
    openAiBaseUrl: string | undefined;
    timeoutMs: number;
  };
  devnet: {
    /** Attach to an already running chain instead of spawning anvil. */
    rpcUrl: string | undefined;
    chainId: number;
  };
  callbackSecret: string | undefined;
  http: {
    /**
     * Reverse proxies of yours in front of the service (TRUST_PROXY_HOPS; TRUST_PROXY=true means 1): the
     * client IP is the X-Forwarded-For entry this many from the right. 0: the socket's peer.
     */
    trustProxyHops: number;
    /** trustProxyHops > 0 (kept for callers that only ask whether a proxy is trusted). */
    trustProxy: boolean;
    /** Per client IP per minute on /api/* (voter writes and discovery probes excepted); 0 disables. */
    rateLimitPerMinute: number;
    /** Per voter (payout address) per minute on World ID requests and votes; 0 disables. */
    rateLimitVotesPerMinute: number;
    /**
     * Per client IP (IPv6: per /64) per minute on voter writes, a ceiling high enough for carrier NATs;
     * 0 disables. Default 120 in production, off in local mode.
     */
    rateLimitVoterWritesPerIpPerMinute: number;
    /** Node server: time a client has to send the request headers. */
    headersTimeoutMs: number;
    /** Node server: time a client has to send the whole request (headers and body). */
    requestTimeoutMs: number;
    /** Node server: how long an idle keep-alive connection is kept open. */
    keepAliveTimeoutMs: number;
    /** Node server: open connections at most; further ones are closed at once. */
    maxConnections: number;
    /** Open progress streams (GET /api/v1/polls/{id}/events) at most per poll, per instance. */
    eventStreamsPerPoll: number;
    /** Open progress streams at most per client IP (IPv6: per /64), per instance. */
    eventStreamsPerIp: number;
  };
  /** Webhook delivery (src/webhook/). */
  webhook: {
    /** Deadline of one delivery attempt. */
    timeoutMs: number;
    /** How often the Node server looks for due deliveries. */
    dispatchIntervalMs: number;
    /**
     * Test-only (WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS), read by the Workers entry: also allow plain http
     * callbacks to loopback in production mode, so `wrangler dev` can deliver to a local receiver. On
     * Cloudflare's edge a loopback URL reaches nothing of yours. Refused with NODE_ENV=production.
     */
    allowLoopbackForTests: boolean;
  };
  /**
   * The Node server's V8 heap growing factor, in percent over the live heap (V8's --heap-growing-percent):
   * the old generation is collected once it grows this much past what the last full collection kept.
   * 0 leaves V8's own heuristics, which on a large machine let the heap grow up to 4× before collecting.
   */
  heapGrowingPercent: number;
  /** Local-mode crash-test hook: SIGKILL ourselves at this step of a paid creation. */
  testCrashAt: "after_verify" | "after_claim" | "after_settlement" | "after_activation" | undefined;
  /** Voter payouts on chain (src/payouts/). Keys are never logged. */
  payouts: {
    /** Payout wallet key for every network (0x + 64 hex), unless a per-network key overrides it. */
    privateKey: string | undefined;
    privateKeyBase: string | undefined;
    privateKeyWorldChain: string | undefined;
    /** Unpaid balance (atomic USDC) at which an address is paid without asking; default 10000 = 0.01 USDC. */
    thresholdAtomic: bigint;
    /** How often the payout job runs. */
    intervalMs: number;
    /** Payouts pause when the wallet's native gas balance is below this (wei). */
    minGasWei: bigint;
    /** Local-mode crash-test hook: SIGKILL ourselves at this step of a payout. */
    testCrashAt: "after_claim" | "after_sign" | "after_broadcast" | "after_receipt" | "after_confirm" | undefined;
  };
  worldId: {
    /** Developer Portal app id (app_…). Local mode defaults to a local placeholder. */
    appId: string | undefined;
    /** Relying party id (rp_…) registered for World ID 4. */
    rpId: string | undefined;
    /** The relying party's secp256k1 signing key (hex) that signs proof requests (signRequest). */
    signingKey: string | undefined;
    /** Portal base URL for `POST {base}/api/v4/verify/{rp_id}`; unset means the real portal in production
     * and the in-process stand-in in local mode. */
    verifyBaseUrl: string | undefined;
    environment: "production" | "staging";
    timeoutMs: number;
    /** Calls to the portal per minute, all votes together (per instance); 0 disables the budget. Default 1,200 in production, off in local mode. */
    portalCallsPerMinute: number;
  };
  /** Refunds of unfilled responses (src/payouts/refunds.ts). */
  refunds: {
    /**
     * REFUND_POLICY, recorded on each poll at its creation: 'unfilled' (default) pays back the unfilled
     * responses of a poll that ends without filling up; 'none' refunds nothing. Changing it never touches
     * existing polls.
     */
    policy: RefundPolicy;
  };
  /** The operator's admin API and voters' reports (src/admin). */
  admin: {
    /**
     * ADMIN_TOKEN (32+ characters): the bearer token of /admin/api/v1/* and `npm run admin`. Unset: the
     * admin API is off and answers 503 admin_not_configured. A secret: never logged.
     */
    token: string | undefined;
    /** Reports (POST /api/v1/polls/{id}/reports) per client IP per minute; 0 disables. Default 10. */
    reportsPerIpPerMinute: number;
  };
  /** Missing production configuration, one entry per variable. Empty in local mode. */
  problems: ConfigProblem[];
}

export const REFUND_POLICIES = ["unfilled", "none"] as const;
export type RefundPolicy = (typeof REFUND_POLICIES)[number];
/** REFUND_POLICY when unset. */
export const DEFAULT_REFUND_POLICY: RefundPolicy = "unfilled";

export class ConfigError extends Error {
  override name = "ConfigError";
}

const emptyToUndefined = (value: unknown) =>
  typeof value === "string" && value.trim() === "" ? undefined : value;

const optionalString = z.preprocess(emptyToUndefined, z.string().trim().optional());
const evmAddress = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .trim()
    .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address")
    .optional(),
);
const httpUrl = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .trim()
    .refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), "must be an http(s) URL")
    .optional(),
);
const booleanFlag = z.preprocess(
  emptyToUndefined,
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .optional()
    .transform((value) => value === "true" || value === "1" || value === "yes"),
);
const integerIn = (min: number, max: number, fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(fallback));
/** An integer whose default depends on the mode (see loadConfig). */
const optionalIntegerIn = (min: number, max: number) => z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).optional());

/**
 * Defaults that differ by mode. Local mode is one machine: every simulated voter (npm run simulate-voters,
 * the tests) calls from localhost and the World ID portal is the in-process stand-in, so the per-IP
 * ceiling on voter writes and the portal budget, which protect a public deployment, are off there.
 */
const PRODUCTION_DEFAULTS = { voterWritesPerIpPerMinute: 120, worldIdPortalCallsPerMinute: 1_200 } as const;

// A 32-byte hex private key; the message never echoes the value.
const privateKeyHex = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .trim()
    .regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be a 32-byte hex private key")
    .transform((value) => (value.startsWith("0x") ? value : `0x${value}`).toLowerCase())
    .optional(),
);

const EnvSchema = z.object({
  MODE: z.preprocess(emptyToUndefined, z.enum(["local", "production"]).optional()),
  NODE_ENV: optionalString,
  PORT: integerIn(0, 65535, 8787),
  HOST: optionalString,
  DATA_DIR: optionalString,
  PUBLIC_BASE_URL: httpUrl,
  READ_TOKEN_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().min(32, "must be at least 32 characters").optional(),
  ),
  X402_PAY_TO_ADDRESS_BASE: evmAddress,
  X402_PAY_TO_ADDRESS_WORLDCHAIN: evmAddress,
  X402_ENABLE_TESTNETS: booleanFlag,
  X402_FACILITATOR_URL: httpUrl,
  X402_MAX_TIMEOUT_SECONDS: integerIn(30, 3600, 120),
  X402_FACILITATOR_TIMEOUT_MS: integerIn(500, 300_000, 30_000),
  X402_CONFIRMATION_WAIT_MS: integerIn(0, 120_000, 10_000),
  POLL_MAX_EXPIRY_DAYS: integerIn(1, 3650, 365),
  CDP_API_KEY_ID: optionalString,
  CDP_API_KEY_SECRET: optionalString,
  X402_RESOURCE_ICON_URL: httpUrl,
  RPC_URL_BASE: httpUrl,
  RPC_URL_WORLDCHAIN: httpUrl,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: httpUrl,
  MODERATION_TIMEOUT_MS: integerIn(1000, 120_000, 10_000),
  DEVNET_RPC_URL: httpUrl,
  DEVNET_CHAIN_ID: integerIn(1, 2 ** 31 - 1, 31337),
  QUALI_CALLBACK_SECRET: optionalString,
  TRUST_PROXY: booleanFlag,
  TRUST_PROXY_HOPS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(10).optional()),
  RATE_LIMIT_PER_MINUTE: integerIn(0, 1_000_000, 600),
  RATE_LIMIT_VOTES_PER_MINUTE: integerIn(0, 1_000_000, 60),
  RATE_LIMIT_VOTER_WRITES_PER_IP_PER_MINUTE: optionalIntegerIn(0, 1_000_000),
  RATE_LIMIT_REPORTS_PER_IP_PER_MINUTE: integerIn(0, 1_000_000, 10),
  ADMIN_TOKEN: z.preprocess(emptyToUndefined, z.string().min(32, "must be at least 32 characters").optional()),
  HTTP_HEADERS_TIMEOUT_MS: integerIn(1_000, 300_000, 20_000),
  HTTP_REQUEST_TIMEOUT_MS: integerIn(1_000, 3_600_000, 60_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: integerIn(1_000, 600_000, 5_000),
  HTTP_MAX_CONNECTIONS: integerIn(1, 1_000_000, 2_000),
  EVENT_STREAMS_PER_POLL: integerIn(1, 1_000_000, 100),
  EVENT_STREAMS_PER_IP: integerIn(1, 1_000_000, 20),
  WEBHOOK_TIMEOUT_MS: integerIn(100, 60_000, 10_000),
  WEBHOOK_DISPATCH_INTERVAL_MS: integerIn(50, 60_000, 2_000),
  HEAP_GROWING_PERCENT: integerIn(0, 1_000, 30),
  WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS: booleanFlag,
  QUALI_TEST_CRASH_AT: z.preprocess(
    emptyToUndefined,
    z.enum(["after_verify", "after_claim", "after_settlement", "after_activation"]).optional(),
  ),
  PAYOUT_PRIVATE_KEY: privateKeyHex,
  PAYOUT_PRIVATE_KEY_BASE: privateKeyHex,
  PAYOUT_PRIVATE_KEY_WORLDCHAIN: privateKeyHex,
  PAYOUT_THRESHOLD_ATOMIC: integerIn(1, 1_000_000_000_000, 10_000),
  PAYOUT_INTERVAL_MS: integerIn(100, 24 * 3_600_000, 60_000),
  PAYOUT_MIN_GAS_WEI: z.preprocess(emptyToUndefined, z.string().trim().regex(/^\d{1,30}$/, "must be an integer amount of wei").default("100000000000000")),
  QUALI_TEST_PAYOUT_CRASH_AT: z.preprocess(
    emptyToUndefined,
    z.enum(["after_claim", "after_sign", "after_broadcast", "after_receipt", "after_confirm"]).optional(),
  ),
  WORLD_ID_APP_ID: z.preprocess(emptyToUndefined, z.string().trim().regex(/^app_[A-Za-z0-9_]+$/, "must look like app_xxxxx").optional()),
  WORLD_ID_RP_ID: z.preprocess(emptyToUndefined, z.string().trim().regex(/^rp_[A-Za-z0-9_]+$/, "must look like rp_xxxxx").optional()),
  WORLD_ID_SIGNING_KEY: z.preprocess(
    emptyToUndefined,
    z.string().trim().regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be a 32-byte hex key").optional(),
  ),
  WORLD_ID_VERIFY_BASE_URL: httpUrl,
  WORLD_ID_ENVIRONMENT: z.preprocess(emptyToUndefined, z.enum(["production", "staging"]).default("production")),
  WORLD_ID_TIMEOUT_MS: integerIn(1000, 120_000, 10_000),
  WORLD_ID_PORTAL_CALLS_PER_MINUTE: optionalIntegerIn(0, 1_000_000),
  REFUND_POLICY: z.preprocess(emptyToUndefined, z.enum(REFUND_POLICIES).default(DEFAULT_REFUND_POLICY)),
});

export type Env = Record<string, string | undefined>;

/** Parses the environment. Throws ConfigError with every invalid variable named. */
export function loadConfig(env: Env = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  const nodeEnvProduction = e.NODE_ENV === "production";
  const mode: Mode = e.MODE ?? "local";
  if (mode === "local" && nodeEnvProduction) {
    throw new ConfigError(
      "NODE_ENV=production refuses to run in local mode (a devnet, stand-in moderation and simulated World ID). " +
        "Set MODE=production, or unset NODE_ENV for local development.",
    );
  }

  if (nodeEnvProduction && e.WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS) {
    throw new ConfigError("WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS is for tests under wrangler dev only; unset it (NODE_ENV=production).");
  }
  if (mode === "production" && e.QUALI_TEST_CRASH_AT) {
    throw new ConfigError("QUALI_TEST_CRASH_AT is a crash-test hook for local mode only; unset it in production.");
  }
  if (mode === "production" && e.QUALI_TEST_PAYOUT_CRASH_AT) {
    throw new ConfigError("QUALI_TEST_PAYOUT_CRASH_AT is a crash-test hook for local mode only; unset it in production.");
  }
  // Node refuses a header deadline longer than the whole request's.
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError("HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request).");
  }
  // TRUST_PROXY=true is the one-proxy case; TRUST_PROXY_HOPS, when set, says how many.
  const trustProxyHops = e.TRUST_PROXY_HOPS ?? (e.TRUST_PROXY ? 1 : 0);
  const port = e.PORT;
  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, "");
  const problems: ConfigProblem[] = [];
  if (mode === "production") {
    if (!e.PUBLIC_BASE_URL) {
      problems.push({
        area: "payment",
        code: "payment_not_configured",
        variable: "PUBLIC_BASE_URL",
        message: "PUBLIC_BASE_URL is required in production: it is the resource URL agents pay for.",
      });
    }
    if (!e.X402_PAY_TO_ADDRESS_BASE && !e.X402_PAY_TO_ADDRESS_WORLDCHAIN) {
      problems.push({
        area: "payment",
        code: "payment_not_configured",
        variable: "X402_PAY_TO_ADDRESS_BASE",
        message: "Set X402_PAY_TO_ADDRESS_BASE and/or X402_PAY_TO_ADDRESS_WORLDCHAIN: no network can receive payments.",
      });
    }
    if (!e.X402_FACILITATOR_URL && !(e.CDP_API_KEY_ID && e.CDP_API_KEY_SECRET)) {
      problems.push({
        area: "payment",
        code: "payment_not_configured",
        variable: e.CDP_API_KEY_ID ? "CDP_API_KEY_SECRET" : "CDP_API_KEY_ID",
        message: "Set CDP_API_KEY_ID and CDP_API_KEY_SECRET (CDP facilitator) or X402_FACILITATOR_URL.",
      });
    }
    if (!e.OPENAI_API_KEY) {
      problems.push({
        area: "moderation",
        code: "moderation_not_configured",
        variable: "OPENAI_API_KEY",
        message: "OPENAI_API_KEY is required in production: poll content is moderated before payment settles.",
      });
    }
    if (!e.READ_TOKEN_SECRET) {
      problems.push({
        area: "read_tokens",
        code: "read_tokens_not_configured",
        variable: "READ_TOKEN_SECRET",
        message: "READ_TOKEN_SECRET (32+ characters) is required in production: read tokens are derived from it.",
      });
    }
    const worldIdMissing: [string, string | undefined, string][] = [
      ["WORLD_ID_APP_ID", e.WORLD_ID_APP_ID, "the Developer Portal app id (app_…) voters prove their humanity for"],
      ["WORLD_ID_RP_ID", e.WORLD_ID_RP_ID, "the World ID 4 relying party id (rp_…) proofs are verified against"],
      ["WORLD_ID_SIGNING_KEY", e.WORLD_ID_SIGNING_KEY, "the relying party signing key that signs each proof request"],
    ];
    for (const [variable, value, what] of worldIdMissing) {
      if (value) continue;
      problems.push({
        area: "world_id",
        code: "world_id_not_configured",
        variable,
        message: `${variable} is required in production for voting: ${what}.`,
      });
    }
    // Staging is the World ID simulator: anyone can make its proofs, and here they would earn real USDC.
    if (e.WORLD_ID_ENVIRONMENT === "staging") {
      problems.push({
        area: "world_id",
        code: "world_id_not_configured",
        variable: "WORLD_ID_ENVIRONMENT",
        kind: "refused",
        message:
          "WORLD_ID_ENVIRONMENT=staging is refused in production: staging proofs come from the World ID simulator, " +
          "with no human behind them. Set WORLD_ID_ENVIRONMENT=production (or unset it) and a production app.",
      });
    }
  }

  return {
    mode,
    port,
    host: e.HOST ?? (mode === "local" ? "localhost" : "0.0.0.0"),
    dataDir: e.DATA_DIR ?? ".data",
    publicBaseUrl,
    publicBaseUrlExplicit: e.PUBLIC_BASE_URL !== undefined,
    readTokenSecret: e.READ_TOKEN_SECRET,
    payment: {
      payToBase: e.X402_PAY_TO_ADDRESS_BASE,
      payToWorldChain: e.X402_PAY_TO_ADDRESS_WORLDCHAIN,
      enableTestnets: e.X402_ENABLE_TESTNETS,
      facilitatorUrl: e.X402_FACILITATOR_URL,
      cdpApiKeyId: e.CDP_API_KEY_ID,
      cdpApiKeySecret: e.CDP_API_KEY_SECRET,
      resourceIconUrl: e.X402_RESOURCE_ICON_URL,
      maxTimeoutSeconds: e.X402_MAX_TIMEOUT_SECONDS,
      facilitatorTimeoutMs: e.X402_FACILITATOR_TIMEOUT_MS,
      confirmWaitMs: e.X402_CONFIRMATION_WAIT_MS,
      rpcUrlBase: e.RPC_URL_BASE,
      rpcUrlWorldChain: e.RPC_URL_WORLDCHAIN,
    },
    polls: { maxExpiryLeadMs: e.POLL_MAX_EXPIRY_DAYS * 24 * 3_600_000 },
    moderation: {
      openAiApiKey: e.OPENAI_API_KEY,
      openAiBaseUrl: e.OPENAI_BASE_URL,
      timeoutMs: e.MODERATION_TIMEOUT_MS,
    },
    devnet: { rpcUrl: e.DEVNET_RPC_URL, chainId: e.DEVNET_CHAIN_ID },
    callbackSecret: e.QUALI_CALLBACK_SECRET,
    http: {
      trustProxyHops,
      trustProxy: trustProxyHops > 0,
      rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
      rateLimitVotesPerMinute: e.RATE_LIMIT_VOTES_PER_MINUTE,
      rateLimitVoterWritesPerIpPerMinute: e.RATE_LIMIT_VOTER_WRITES_PER_IP_PER_MINUTE ?? (mode === "production" ? PRODUCTION_DEFAULTS.voterWritesPerIpPerMinute : 0),
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
      eventStreamsPerPoll: e.EVENT_STREAMS_PER_POLL,
      eventStreamsPerIp: e.EVENT_STREAMS_PER_IP,
    },
    webhook: {
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      dispatchIntervalMs: e.WEBHOOK_DISPATCH_INTERVAL_MS,
      allowLoopbackForTests: e.WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS,
    },
    heapGrowingPercent: e.HEAP_GROWING_PERCENT,
    testCrashAt: e.QUALI_TEST_CRASH_AT,
    payouts: {
      privateKey: e.PAYOUT_PRIVATE_KEY,
      privateKeyBase: e.PAYOUT_PRIVATE_KEY_BASE,
      privateKeyWorldChain: e.PAYOUT_PRIVATE_KEY_WORLDCHAIN,
      thresholdAtomic: BigInt(e.PAYOUT_THRESHOLD_ATOMIC),
      intervalMs: e.PAYOUT_INTERVAL_MS,
      minGasWei: BigInt(e.PAYOUT_MIN_GAS_WEI),
      testCrashAt: mode === "local" ? e.QUALI_TEST_PAYOUT_CRASH_AT : undefined,
    },
    worldId: {
      appId: e.WORLD_ID_APP_ID,
      rpId: e.WORLD_ID_RP_ID,
      signingKey: e.WORLD_ID_SIGNING_KEY,
      verifyBaseUrl: e.WORLD_ID_VERIFY_BASE_URL?.replace(/\/+$/, ""),
      environment: e.WORLD_ID_ENVIRONMENT,
      timeoutMs: e.WORLD_ID_TIMEOUT_MS,
      portalCallsPerMinute: e.WORLD_ID_PORTAL_CALLS_PER_MINUTE ?? (mode === "production" ? PRODUCTION_DEFAULTS.worldIdPortalCallsPerMinute : 0),
    },
    refunds: { policy: e.REFUND_POLICY },
    admin: { token: e.ADMIN_TOKEN, reportsPerIpPerMinute: e.RATE_LIMIT_REPORTS_PER_IP_PER_MINUTE },
    problems,
  };
}
