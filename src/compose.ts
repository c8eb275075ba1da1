// Builds every service once from the Config, for any platform. The entry points (src/server.ts for Node,
// src/worker.ts for Workers) give it what differs between them — the store, the networks and facilitator
// (the devnet's in local mode), the chain readers — and keep only listening, timers or cron, and shutdown.
import { sql } from "kysely";
import type { FacilitatorClient } from "@x402/core/server";
import type { AppDeps } from "./app";
import type { Config } from "./config";
import type { Store } from "./db/store";
import { discoveryMetadata } from "./discovery";
import { capabilityOf } from "./http/capability";
import type { Logger } from "./http/logger";
import type { ReadinessCheck } from "./http/readiness";
import { createOpenAIModerator, type Moderator } from "./moderation";
import { BASE, createPaymentServer, type ChainReader, type EnabledNetwork, type NetworkSpec, type PaymentServer } from "./payment";
import { queueOwedRefunds, refundLookup } from "./payouts";
import { createReadTokens, expireDuePolls, POLLS_PATH, pruneSignInNonces, reconcilePendingPayments, type ReadTokens } from "./polls";
import { pruneWorldIdRequests, type WorldIdVerifier } from "./voting";
import { createCallbackSecrets, webhookOutboxListener, type CallbackSecrets } from "./webhook";

/** Claims younger than this may still be in flight in a request somewhere: reconciliation leaves them alone. */
export const RECONCILE_MIN_AGE_MS = 5 * 60_000;

export interface Platform {
  store: Store;
  /** How /readyz names the database ("sqlite", "d1"). */
  storeName: string;
  networks: readonly EnabledNetwork[];
  /** Every network a payout address or a payment may name (the local devnet's too). */
  knownNetworks: readonly NetworkSpec[];
  facilitator: FacilitatorClient | undefined;
  /** The platform's moderator (tests, local mode's word list); otherwise OpenAI when configured. */
  moderator?: Moderator | undefined;
  readTokenSecret: string | undefined;
  /** Verifies voters' World ID proofs (absent: voting answers 503). */
  worldId: WorldIdVerifier | undefined;
  chains: ReadonlyMap<string, ChainReader>;
  /** A lifecycle transition enqueued webhook deliveries (Node: kick the dispatcher; Workers: after the response). */
  onWebhookEnqueued: () => void;
  log: Logger;
}

export interface Services {
  payments: PaymentServer | undefined;
  moderator: Moderator | undefined;
  readTokens: ReadTokens | undefined;
  callbackSecrets: CallbackSecrets | undefined;
  /** The part of createApp's deps that is the same on every platform. */
  appDeps: Pick<
    AppDeps,
    | "mode"
    | "publicBaseUrl"
    | "store"
    | "payments"
    | "knownNetworks"
    | "moderator"
    | "readTokens"
    | "worldId"
    | "callbackSecrets"
    | "transitionListeners"
    | "chains"
    | "maxExpiryLeadMs"
    | "refundPolicy"
    | "refunds"
    | "settlementConfirmWaitMs"
    | "rateLimits"
    | "eventStreams"
    | "readinessChecks"
    | "log"
    | "admin"
  >;
  /** Decides open payment claims at least `minAgeMs` old from the chain. */
  reconcile(now: () => Date, minAgeMs: number): Promise<Record<string, number>>;
  /**
   * Expires polls past expiresAt (their webhooks are enqueued), queues the refunds ended polls owe (sent by
   * the payout job where it runs) and forgets stale World ID requests and sign-in nonces.
   */
  sweep(now: Date): Promise<{ expired: number; refundsQueued: number; worldIdRequestsPruned: number; signInNoncesPruned: number }>;
}

export function moderatorOf(config: Config): Moderator | undefined {
  const { openAiApiKey, openAiBaseUrl, timeoutMs } = config.moderation;
  if (!openAiApiKey) return undefined;
  return createOpenAIModerator({ apiKey: openAiApiKey, timeoutMs, ...(openAiBaseUrl ? { baseURL: openAiBaseUrl } : {}) });
}

export function composeServices(config: Config, platform: Platform): Services {
  const { store, networks, facilitator, chains, log } = platform;
  const moderator = platform.moderator ?? moderatorOf(config);
  const paymentsConfigured = networks.length > 0 && facilitator !== undefined && !config.problems.some((p) => p.area === "payment");
  const payments =
    paymentsConfigured && facilitator
      ? createPaymentServer({
          networks,
          facilitator,
          maxTimeoutSeconds: config.payment.maxTimeoutSeconds,
          log,
          metadata: discoveryMetadata({
            publicBaseUrl: config.publicBaseUrl,
            resourceUrl: `${config.publicBaseUrl}${POLLS_PATH}`,
            configuredIconUrl: config.payment.resourceIconUrl,
            exampleNetwork: networks[0]?.spec ?? BASE,
            maxExpiryLeadMs: config.polls.maxExpiryLeadMs,
            refundPolicy: config.refunds.policy,
          }),
          resourcePath: POLLS_PATH,
        })
      : undefined;
  const readTokens = platform.readTokenSecret ? createReadTokens(platform.readTokenSecret) : undefined;
  const callbackSecrets = platform.readTokenSecret ? createCallbackSecrets(platform.readTokenSecret) : undefined;
  // The outbox row rides in every completion/expiry batch; the platform sends it once the batch committed.
  const transitionListeners = [webhookOutboxListener({ publicBaseUrl: config.publicBaseUrl, readTokens, onStatements: platform.onWebhookEnqueued })];
  const readinessChecks: ReadinessCheck[] = [
    {
      name: "database",
      run: async () => {
        await sql`SELECT 1`.execute(store.db);
        return platform.storeName;
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

  return {
    payments,
    moderator,
    readTokens,
    callbackSecrets,
    appDeps: {
      mode: config.mode,
      publicBaseUrl: config.publicBaseUrl,
      store,
      payments: capabilityOf(payments, config.problems, "payment", { code: "payment_not_configured", message: "Payments are not configured." }),
      knownNetworks: platform.knownNetworks,
      moderator: capabilityOf(moderator, config.problems, "moderation", { code: "moderation_not_configured", message: "Moderation is not configured." }),
      readTokens: capabilityOf(readTokens, config.problems, "read_tokens", { code: "read_tokens_not_configured", message: "Read tokens are not configured." }),
      worldId: capabilityOf(platform.worldId, config.problems, "world_id", { code: "world_id_not_configured", message: "World ID verification is not configured." }),
      callbackSecrets,
      transitionListeners,
      chains,
      maxExpiryLeadMs: config.polls.maxExpiryLeadMs,
      refundPolicy: config.refunds.policy,
      refunds: refundLookup(store.db),
      settlementConfirmWaitMs: config.payment.confirmWaitMs,
      rateLimits: {
        perIpPerMinute: config.http.rateLimitPerMinute,
        votesPerVoterPerMinute: config.http.rateLimitVotesPerMinute,
        voterWritesPerIpPerMinute: config.http.rateLimitVoterWritesPerIpPerMinute,
      },
      eventStreams: { maxPerPoll: config.http.eventStreamsPerPoll, maxPerClientIp: config.http.eventStreamsPerIp },
      readinessChecks,
      log,
      admin: { token: config.admin.token, reportsPerIpPerMinute: config.admin.reportsPerIpPerMinute, reporterKeySecret: platform.readTokenSecret },
    },
    reconcile: (now, minAgeMs) => reconcilePendingPayments({ store, chains, now, log: (line: string) => log(line), confirmWaitMs: config.payment.confirmWaitMs }, minAgeMs),
    sweep: async (now) => ({
      expired: (await expireDuePolls(store, now, transitionListeners)).length,
      // After expiring: a poll closed or taken down meanwhile is picked up too (and by every payout round).
      refundsQueued: await queueOwedRefunds(store, now),
      worldIdRequestsPruned: await pruneWorldIdRequests(store, now),
      signInNoncesPruned: await pruneSignInNonces(store, now),
    }),
  };
}
