// POST /api/v1/polls: validate → (402 challenge | cheap refusals → replay guard → x402 verify → moderate →
// claim → settle) → decide from the chain. The order is the product's promise: invalid input never gets a
// challenge, a forged or used authorization is refused before the facilitator is asked, moderation runs
// after the payment is verified and before it is settled, a rejected poll is never charged, and what the
// agent is told after settlement is what the chain shows: 201 when the transfer is mined, 402 only when no
// money can move, 202 "being confirmed" for everything in between.
import { randomUUID } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import {
  decodePaymentRequiredHeader,
  decodePaymentResponseHeader,
  encodePaymentRequiredHeader,
  encodePaymentResponseHeader,
} from "@x402/core/http";
import type { Network, PaymentRequired, SettleResponse } from "@x402/core/types";
import { DEFAULT_REFUND_POLICY, type Mode, type RefundPolicy } from "../config";
import type { NewPoll, PaymentRow } from "../db/schema";
import type { Store } from "../db/store";
import { isUniqueViolation } from "../db/store";
import { createRouter, type AppEnv } from "../http/app-env";
import { need, valueOf, type Capability } from "../http/capability";
import { ApiError, errorBody, errorResponse } from "../http/errors";
import type { Logger } from "../http/logger";
import { ErrorResponse, PaymentRequiredResponse } from "../http/openapi-shapes";
import { offerReplay } from "../http/replay";
import { respond } from "../http/response-headers";
import type { RouteGuards } from "../http/route-guards";
import { validationError } from "../http/validation";
import { BoundedMap } from "../lib/bounded-map";
import { publicUrlProblem, type PublicUrlOptions } from "../lib/public-url";
import { ModerationUnavailableError, moderationInputFromPoll, type Moderator } from "../moderation";
import {
  decideClaim,
  facilitatorAnswerOf,
  findLiveClaim,
  findLiveClaimByIdentifier,
  insertClaim,
  markAnswered,
  pollPrice,
  precheckPayment,
  presentedIdentifier,
  readAuthorization,
  type ChainReader,
  type Challenge,
  type ClaimDecision,
  type EnabledNetwork,
  type PaymentServer,
  type PresentedAuthorization,
  type PresentedIdentifier,
  type SettlementDeps,
} from "../payment";
import { createdBody, PAYMENT_PENDING_RETRY_AFTER_SECONDS, PaymentPendingResponse, paymentPendingBody, type CallbackSecretSource, type CreatedPoll } from "./created-body";
import { expiryProblem, normalizeExpiry } from "./expiry";
import { POLLS_PATH } from "./paths";
import { applyDecision, decisionStatements } from "./payment-claims";
import type { ReadTokens } from "./read-token";
import { findPoll, insertOptions, insertPoll } from "./repo";
import { CreatePollBody, CreatePollResponse, MIN_EXPIRY_LEAD_MS, MIN_RESPONSES, type CreatePollInput } from "./schema";

export interface CreatePollDeps {
  store: Store;
  mode: Mode;
  publicBaseUrl: string;
  payments: Capability<PaymentServer>;
  moderator: Capability<Moderator>;
  readTokens: Capability<ReadTokens>;
  /** Derives the per-poll callbackSecret returned in the 201 when callbackUrl is set. */
  callbackSecrets?: CallbackSecretSource;
  /** Per-runtime tightening of the callbackUrl rule (Workers refuse IP literals). */
  callbackUrlOptions?: PublicUrlOptions;
  now: () => Date;
  /** Called after each successful settlement (local mode persists the chain state). */
  onSettled?: () => Promise<void>;
  /** Chain readers per network: every payment outcome is decided from them. */
  chains?: ReadonlyMap<string, ChainReader>;
  /** How far ahead expiresAt may be. */
  maxExpiryLeadMs: number;
  /** REFUND_POLICY, recorded on each poll created (default: config's default). */
  refundPolicy?: RefundPolicy;
  /** How long to wait for the receipt of a settlement transaction the facilitator reported. */
  confirmWaitMs?: number;
  /** When this process started: claims older than that cannot be in flight here. */
  startedAt?: Date;
  /** Test-only crash points (local mode): called at each step between verification and response. */
  crashPoint?: (point: CrashPoint) => void;
  log: Logger;
  guards: RouteGuards;
}

export type CrashPoint = "after_verify" | "after_claim" | "after_settlement" | "after_activation";

/** Longest a claim can be in flight in a live process: facilitator and moderation timeouts, with margin. */
const IN_FLIGHT_LIMIT_MS = 5 * 60 * 1000;

type CreateEnv = AppEnv & {
  Variables: {
    pollInput: CreatePollInput;
    authorization: PresentedAuthorization;
    identifier: PresentedIdentifier;
    /** An abandoned claim on this authorization whose poll this request completes instead of creating one. */
    resume: PaymentRow;
    /** Set by the handler once the authorization is claimed: settlement decides them from here on. */
    claim: PaymentRow;
    poll: CreatedPoll;
  };
};

export const createPollRoute = createRoute({
  method: "post",
  path: POLLS_PATH,
  summary: "Create a paid poll (x402)",
  description:
    "Requires PAYMENT-SIGNATURE (x402 V2 exact USDC payment). Without it, answers 402 with the challenge in the " +
    "PAYMENT-REQUIRED header and the JSON body. Content is moderated after the payment is verified and before it is " +
    "settled: a rejected poll is never charged.",
  request: { body: { content: { "application/json": { schema: CreatePollBody } }, required: true } },
  responses: {
    201: { description: "Poll created and payment settled", content: { "application/json": { schema: CreatePollResponse } } },
    202: {
      description:
        "Beyond the Quali contract: the payment was submitted but the chain has not shown its outcome yet (the facilitator " +
        "answered settlement_pending, an error, or nothing). Retry with the same PAYMENT-SIGNATURE after Retry-After seconds: " +
        "201 once the transfer is mined, 402 if the authorization can no longer move money. Never charged twice.",
      content: { "application/json": { schema: PaymentPendingResponse } },
    },
    400: { description: "Malformed request or content moderation rejection", content: { "application/json": { schema: ErrorResponse } } },
    402: { description: "Payment required, or verification/settlement failed", content: { "application/json": { schema: PaymentRequiredResponse } } },
    409: {
      description: "Payment signature was already used, or a payment-identifier was reused for a different request",
      content: { "application/json": { schema: ErrorResponse } },
    },
    503: { description: "Server missing payment or moderation configuration", content: { "application/json": { schema: ErrorResponse } } },
  },
});

export function createPollRoutes(deps: CreatePollDeps): OpenAPIHono<CreateEnv> {
  const router = createRouter<CreateEnv>();
  const { guards } = deps;
  const payments = valueOf(deps.payments);
  router.options(POLLS_PATH, guards.preflight);
  router.openapi(
    {
      ...createPollRoute,
      // CORS first (browser agents on other origins, and a readable 429), then the rate limit, then the
      // gate (validation, refusals, the 402), the x402 middleware (verify → handler → settle).
      middleware: [guards.openToBrowsers, guards.paidResource, createPollGate(deps), ...(payments ? [payments.middleware] : [])],
    },
    (c) => handleCreatePoll(c, deps, c.req.valid("json")),
  );
  return router;
}

const JSON_CONTENT_TYPE = /^application\/([\w.+-]*\+)?json\b/i;

function parseJsonBody(c: Context, text: string): unknown {
  if (text.trim() === "") return undefined;
  if (!JSON_CONTENT_TYPE.test(c.req.header("content-type") ?? "")) {
    throw new ApiError(415, "unsupported_media_type", "Send the poll as JSON with Content-Type: application/json.");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", "The request body is not valid JSON.");
  }
}

/** What an unpaid body that passed every check is priced by, and the one check that depends on time. */
interface PricedBody {
  maxResponses: number;
  expiresAtMs: number;
}

/** Distinct valid bodies remembered for re-asked challenges; a client sending endless new ones only churns it. */
const PRICED_BODY_LIMIT = 512;
/** Bodies larger than this are validated every time (a real poll body is well under it). */
const PRICED_BODY_MAX_CHARS = 8 * 1024;

/** Rules that depend on time and mode, after the structural schema passed. */
function checkContextualRules(input: CreatePollInput, deps: CreatePollDeps): void {
  const expiry = expiryProblem(input.expiresAt, deps.now().getTime(), deps.maxExpiryLeadMs);
  if (expiry) throw new ApiError(400, "validation_error", `expiresAt: ${expiry}.`, "expiresAt");
  if (input.callbackUrl) {
    const problem = publicUrlProblem(input.callbackUrl, deps.mode, deps.callbackUrlOptions);
    if (problem) throw new ApiError(400, "validation_error", `callbackUrl: ${problem}.`, "callbackUrl");
  }
  // Voters' browsers load media and follow the more-info link: in production none may point into a
  // private network (the schema already requires https).
  const linked: [string, string | null | undefined][] = [
    ["moreInfoUrl", input.moreInfoUrl],
    ["mediaUrl", input.mediaUrl],
    ...input.options.map((option, index): [string, string | null | undefined] => [`options[${index}].mediaUrl`, option.mediaUrl]),
  ];
  for (const [param, url] of linked) {
    const problem = url ? publicUrlProblem(url, deps.mode) : undefined;
    if (problem) throw new ApiError(400, "validation_error", `${param}: ${problem}.`, param);
  }
}

function challengeResponse(c: Context, challenge: Challenge, error?: string) {
  // The plain challenge is served as built once (header and body), never re-serialised.
  if (!error) {
    return respond(c, 402, challenge.json, { "content-type": "application/json", "payment-required": challenge.header, "cache-control": "no-store" });
  }
  const body: PaymentRequired = { ...challenge.paymentRequired, error };
  return c.json(body, 402, { "PAYMENT-REQUIRED": encodePaymentRequiredHeader(body), "Cache-Control": "no-store" });
}

/** What an unpaid probe's 402 depends on besides the body: the content type, and that no payment came with it. */
const PROBE_VARIES = ["content-type", "payment-signature", "x-payment"] as const;

/** The 402 of an unpaid probe: the same body (and headers) gets the same bytes until `untilMs`, so the edge may replay it. */
function probeChallenge(c: Context, challenge: Challenge, untilMs?: number) {
  offerReplay(c, { vary: PROBE_VARIES, ...(untilMs !== undefined ? { untilMs } : {}) });
  return challengeResponse(c, challenge);
}

function createPollGate(deps: CreatePollDeps): MiddlewareHandler<CreateEnv> {
  const pricedBodies = new BoundedMap<string, PricedBody>(PRICED_BODY_LIMIT);
  return async (c, next) => {
    try {
      // A challenge is an invitation to pay: never issue one that could not end in a poll.
      const payments = need(deps.payments);
      need(deps.moderator);
      need(deps.readTokens);
      if (!payments.isReady() && !(await payments.initialize())) {
        throw new ApiError(503, "facilitator_unavailable", "The payment facilitator cannot be reached; try again shortly.");
      }
      const paymentHeader = c.req.header("payment-signature") ?? c.req.header("x-payment");
      const text = await c.req.text();
      // An agent (or a crawler) asking again with the same unpaid body gets the same challenge: the body's
      // verdict is remembered, so only the time-dependent rule is checked again. Nothing else in the
      // verdict can change: the schema, the URL rules and the mode are fixed for the process, and a
      // deadline within the longest allowed lead stays within it.
      if (!paymentHeader) {
        const known = pricedBodies.get(text);
        if (known && known.expiresAtMs > deps.now().getTime() + MIN_EXPIRY_LEAD_MS && JSON_CONTENT_TYPE.test(c.req.header("content-type") ?? "")) {
          return probeChallenge(c, await payments.challenge(known.maxResponses), known.expiresAtMs - MIN_EXPIRY_LEAD_MS);
        }
      }
      const rawBody = parseJsonBody(c, text);

      if (rawBody === undefined) {
        // Crawlers probe with a bare POST: answer the challenge at the minimum price.
        if (!paymentHeader) return probeChallenge(c, await payments.challenge(MIN_RESPONSES));
        throw new ApiError(400, "validation_error", "The request body is required: send the poll as JSON.");
      }
      const parsed = CreatePollBody.safeParse(rawBody);
      if (!parsed.success) throw validationError(parsed.error);
      const input = parsed.data;
      checkContextualRules(input, deps);
      const challenge = await payments.challenge(input.maxResponses);
      if (!paymentHeader) {
        if (text.length <= PRICED_BODY_MAX_CHARS) {
          pricedBodies.set(text, { maxResponses: input.maxResponses, expiresAtMs: Date.parse(input.expiresAt) });
        }
        return probeChallenge(c, challenge, Date.parse(input.expiresAt) - MIN_EXPIRY_LEAD_MS);
      }

      // Before anything reaches the facilitator: a payload we can read (only exact EIP-3009
      // payments are offered) …
      const authorization = readAuthorization(paymentHeader);
      if (!authorization) return challengeResponse(c, challenge, "invalid_payment_payload");
      // … for the advertised resource (bazaar indexes payments by it) …
      if (authorization.resourceUrl !== payments.metadata.resourceUrl) {
        return challengeResponse(c, challenge, "resource_url_mismatch");
      }
      // … signed by its payer, to us, for this body's price, and valid now (a network we do not take is
      // left to the middleware, which answers that no requirement matches) …
      const network = enabledNetwork(deps, authorization.network);
      if (network) {
        const chain = deps.chains?.get(network.spec.network);
        const refusal = await precheckPayment(authorization, {
          ...(chain ? { hasCode: (address: string) => chain.hasCode(address) } : {}),
          chainId: network.spec.chainId,
          asset: network.spec.usdc,
          payTo: network.payTo,
          amountAtomic: pollPrice(input.maxResponses).costAtomic,
          nowSeconds: Math.floor(deps.now().getTime() / 1000),
        });
        if (refusal) return challengeResponse(c, challenge, refusal.reason);
      }
      // … and not already used: a retry of an earlier request is answered from what became of it.
      const identifier = presentedIdentifier(authorization.payload, rawBody);
      if (identifier.kind === "invalid") {
        throw new ApiError(400, "invalid_payment_identifier", `payment-identifier: ${identifier.message}.`);
      }
      if (identifier.kind === "present") {
        const earlier = await findLiveClaimByIdentifier(deps.store.db, authorization.payer, identifier.id);
        if (earlier && earlier.request_fingerprint !== identifier.fingerprint) throw identifierConflict();
        if (earlier) {
          const answer = await answerRetry(c, deps, earlier, { idempotent: true, challenge });
          if (answer !== RESUME) return answer;
          c.set("resume", earlier);
        }
      }
      if (!c.get("resume")) {
        const claim = await findLiveClaim(deps.store.db, authorization);
        if (claim) {
          const answer = await answerRetry(c, deps, claim, { idempotent: false, challenge });
          if (answer !== RESUME) return answer;
          c.set("resume", claim);
        }
      }
      c.set("authorization", authorization);
      c.set("identifier", identifier);
      c.set("pollInput", input);
    } catch (error) {
      if (error instanceof ApiError) return errorResponse(c, error);
      throw error;
    }

    await next();
    const answer = await finalize(c, deps);
    // Hono merges the previous response's headers into the next one: the middleware's payment headers
    // (a 402's, for an ambiguous settlement) must not override what the answer itself says.
    c.res.headers.delete("payment-required");
    c.res.headers.delete("payment-response");
    c.res = answer;
  };
}

function enabledNetwork(deps: CreatePollDeps, network: string): EnabledNetwork | undefined {
  return valueOf(deps.payments)?.networks.find((n) => n.spec.network === network);
}

function settlementDeps(deps: CreatePollDeps): SettlementDeps {
  return {
    store: deps.store,
    chains: deps.chains ?? new Map(),
    now: deps.now,
    log: (message) => deps.log(message, { level: "warn" }),
    ...(deps.confirmWaitMs !== undefined ? { confirmWaitMs: deps.confirmWaitMs } : {}),
  };
}

/** A claim left by a request that is gone: made before this process started, or older than any live request. */
function isAbandoned(deps: CreatePollDeps, claim: PaymentRow): boolean {
  const createdAt = Date.parse(claim.created_at);
  return (deps.startedAt !== undefined && createdAt < deps.startedAt.getTime()) || createdAt < deps.now().getTime() - IN_FLIGHT_LIMIT_MS;
}

function alreadyUsed(pollId: string): ApiError {
  return new ApiError(409, "payment_already_used", "This payment authorization was already used.", undefined, {
    pollId,
  });
}

function identifierConflict(): ApiError {
  return new ApiError(
    409,
    "payment_identifier_conflict",
    "This payment-identifier was already used for a different request (payment or body). Use a new identifier for a new request.",
  );
}

/** answerRetry's verdict that this request should complete the abandoned claim's poll itself. */
const RESUME = Symbol("resume");

/**
 * The answer to a request whose authorization (or payment-identifier) was claimed before. A poll
 * already answered with its 201 is a replay (409), unless the agent asked for idempotency with a
 * payment-identifier; otherwise the agent gets what the chain now says: the 201, a 402 when no money
 * can move any more, or the 202 while the outcome is still open. A claim abandoned by a dead request
 * whose authorization is still unused and valid is completed by this request (RESUME).
 */
async function answerRetry(
  c: Context<CreateEnv>,
  deps: CreatePollDeps,
  claim: PaymentRow,
  options: { idempotent: boolean; challenge: Challenge },
): Promise<Response | typeof RESUME> {
  const { db } = deps.store;
  const poll = await findPoll(db, claim.poll_id);
  if (!poll) throw alreadyUsed(claim.poll_id);
  const network = enabledNetwork(deps, claim.network);
  if (claim.status === "settled") {
    if (claim.answer === "created" && !options.idempotent) throw alreadyUsed(claim.poll_id);
    if (claim.answer !== "created") await deps.store.batch([markAnswered(db, claim.id, "created")]);
    return createdResponse(c, deps, poll, network, claim.tx_hash ?? "");
  }
  const inFlight = claim.answer === null && !isAbandoned(deps, claim);
  if (inFlight && !options.idempotent) throw alreadyUsed(claim.poll_id);
  if (inFlight) return pendingResponse(c, poll, network, undefined);

  const decision = await decideClaim(settlementDeps(deps), claim);
  if (decision.state === "active") {
    await deps.store.batch([...decisionStatements(deps, claim, decision), markAnswered(db, claim.id, "created")]);
    return createdResponse(c, deps, poll, network, decision.txHash);
  }
  if (decision.state === "failed") {
    await applyDecision(settlementDeps(deps), claim, decision);
    return challengeResponse(c, options.challenge, decision.reason);
  }
  if (decision.authorizationUnused && isAbandoned(deps, claim)) return RESUME;
  await deps.store.batch([markAnswered(db, claim.id, "pending")]);
  return pendingResponse(c, poll, network, decision.txHash);
}

function createdResponse(
  c: Context,
  deps: CreatePollDeps,
  poll: CreatedPoll,
  network: EnabledNetwork | undefined,
  txHash: string,
  paymentResponseHeader?: string,
): Response {
  const settlement: SettleResponse = { success: true, transaction: txHash, network: poll.network as Network, payer: poll.payer };
  const body = createdBody({ publicBaseUrl: deps.publicBaseUrl, readTokens: need(deps.readTokens), callbackSecrets: deps.callbackSecrets }, poll, network, txHash);
  // A fresh response: what the middleware answered (a 402 for an ambiguous settlement) must not leak into it.
  return respond(c, 201, JSON.stringify(body), {
    "content-type": "application/json",
    "payment-response": paymentResponseHeader ?? encodePaymentResponseHeader(settlement),
    "cache-control": "private, no-store",
  });
}

function pendingResponse(c: Context, poll: CreatedPoll, network: EnabledNetwork | undefined, txHash: string | undefined): Response {
  return respond(c, 202, JSON.stringify(paymentPendingBody(poll, network, txHash)), {
    "content-type": "application/json",
    "retry-after": String(PAYMENT_PENDING_RETRY_AFTER_SECONDS),
    "cache-control": "no-store",
  });
}

/**
 * The handler's answer once the poll is claimed: until settlement is decided (finalize answers from the
 * chain) the payment is being confirmed. A 2xx is also what lets the x402 middleware settle.
 */
function claimedResponse(c: Context<CreateEnv>, poll: CreatedPoll, network: EnabledNetwork) {
  return c.json(paymentPendingBody(poll, network, undefined), 202);
}

async function handleCreatePoll(c: Context<CreateEnv>, deps: CreatePollDeps, input: CreatePollInput) {
  const authorization = c.get("authorization");
  const moderator = need(deps.moderator);
  // Unreachable through the gate; refuse rather than create a poll nobody paid for.
  if (!authorization) throw new ApiError(500, "internal_error", "The payment was not verified.");
  deps.crashPoint?.("after_verify");
  const enabled = enabledNetwork(deps, authorization.network);
  if (!enabled) throw new ApiError(400, "unsupported_network", "Unsupported payment network.");
  const { db } = deps.store;

  // The poll was moderated and claimed by the request that died; settling it now completes it.
  const resume = c.get("resume");
  if (resume) {
    const poll = await findPoll(db, resume.poll_id);
    if (!poll) throw alreadyUsed(resume.poll_id);
    c.set("claim", resume);
    c.set("poll", poll);
    return claimedResponse(c, poll, enabled);
  }

  try {
    const verdict = await moderator.moderate(moderationInputFromPoll(input));
    if (verdict.flagged) {
      throw new ApiError(400, "content_rejected", `Content rejected by moderation: ${verdict.message}`, verdict.param, {
        categories: verdict.categories,
      });
    }
  } catch (error) {
    if (error instanceof ModerationUnavailableError) {
      deps.log(`moderation unavailable: ${error.message}`, { level: "warn", requestId: c.get("requestId") });
      throw new ApiError(503, "moderation_unavailable", "Content moderation is unavailable; you were not charged. Try again shortly.");
    }
    throw error;
  }

  const price = pollPrice(input.maxResponses);
  const pollId = randomUUID();
  const createdAt = deps.now().toISOString();
  const poll: NewPoll = {
    id: pollId,
    status: "pending_payment",
    question: input.question,
    description: input.description ?? null,
    more_info_url: input.moreInfoUrl ?? null,
    media_url: input.mediaUrl ?? null,
    media_type: input.mediaUrl ? (input.mediaType ?? "image") : null,
    layout_type: input.layoutType ?? "list",
    max_responses: input.maxResponses,
    expires_at: normalizeExpiry(input.expiresAt),
    callback_url: input.callbackUrl ?? null,
    public_results: input.publicResults === true ? 1 : 0,
    refund_policy: deps.refundPolicy ?? DEFAULT_REFUND_POLICY,
    network: authorization.network,
    payer: authorization.payer,
    cost_atomic: price.costAtomic.toString(),
    reward_pool_atomic: price.rewardPoolAtomic.toString(),
    fee_atomic: price.feeAtomic.toString(),
    created_at: createdAt,
    activated_at: null,
    completed_at: null,
  };
  const identifier = c.get("identifier");
  const claim: PaymentRow = {
    id: randomUUID(),
    poll_id: pollId,
    network: authorization.network,
    payer: authorization.payer,
    nonce: authorization.nonce,
    asset: enabled.spec.usdc.address.toLowerCase(),
    pay_to: enabled.payTo.toLowerCase(),
    amount_atomic: authorization.valueAtomic,
    valid_before: authorization.validBefore,
    status: "claimed",
    tx_hash: null,
    failure_reason: null,
    created_at: createdAt,
    settled_at: null,
    answer: null,
    payment_identifier: identifier?.kind === "present" ? identifier.id : null,
    request_fingerprint: identifier?.kind === "present" ? identifier.fingerprint : null,
  };
  try {
    await deps.store.batch([
      insertPoll(db, poll),
      insertOptions(
        db,
        pollId,
        input.options.map((option, position) => ({
          id: randomUUID(),
          position,
          text: option.text,
          mediaUrl: option.mediaUrl ?? null,
        })),
      ),
      insertClaim(db, {
        id: claim.id,
        pollId,
        network: claim.network,
        payer: claim.payer,
        nonce: claim.nonce,
        asset: claim.asset,
        payTo: claim.pay_to,
        amountAtomic: claim.amount_atomic,
        validBefore: claim.valid_before,
        createdAt,
        ...(identifier?.kind === "present" ? { paymentIdentifier: { id: identifier.id, fingerprint: identifier.fingerprint } } : {}),
      }),
    ]);
  } catch (error) {
    if (isUniqueViolation(error)) {
      // A concurrent request with the same authorization (or payment-identifier) claimed it first.
      const winner = await findLiveClaim(db, authorization);
      throw winner ? alreadyUsed(winner.poll_id) : identifierConflict();
    }
    throw error;
  }
  const claimed: CreatedPoll = {
    id: pollId,
    network: claim.network,
    payer: claim.payer,
    max_responses: poll.max_responses,
    cost_atomic: poll.cost_atomic,
    reward_pool_atomic: poll.reward_pool_atomic,
    fee_atomic: poll.fee_atomic,
    callback_url: poll.callback_url ?? null,
  };
  c.set("claim", claim);
  c.set("poll", claimed);
  deps.crashPoint?.("after_claim");
  return claimedResponse(c, claimed, enabled);
}

function decodeSettlement(header: string | null): SettleResponse | undefined {
  if (!header) return undefined;
  try {
    return decodePaymentResponseHeader(header);
  } catch {
    return undefined;
  }
}

/**
 * Runs after the x402 middleware settled (or refused to). A claimed authorization is decided here, from
 * the chain with the facilitator's answer as a hint, and the response says what was decided. Without a
 * claim the middleware's answer is only reshaped per contract: 402 bodies carry the PaymentRequired
 * object, errors the envelope.
 */
async function finalize(c: Context<CreateEnv>, deps: CreatePollDeps): Promise<Response> {
  const res = c.res;
  const claim = c.get("claim");
  const poll = c.get("poll");
  if (!claim || !poll) return shapeUnclaimed(c, deps, res);

  const settlement = decodeSettlement(res.headers.get("PAYMENT-RESPONSE"));
  // The handler's 2xx passed through settlement, or the middleware's 402 for a refused one.
  const answer = facilitatorAnswerOf(res.ok || res.status === 402 ? settlement : undefined);
  const network = enabledNetwork(deps, claim.network);
  const decision: ClaimDecision = await decideClaim(settlementDeps(deps), claim, answer);
  const { db } = deps.store;

  if (decision.state === "active") {
    deps.crashPoint?.("after_settlement");
    await deps.store.batch([...decisionStatements(deps, claim, decision), markAnswered(db, claim.id, "created")]);
    deps.crashPoint?.("after_activation");
    deps.onSettled?.().catch((error: unknown) => deps.log(`after-settlement hook failed: ${String(error)}`));
    const reported = settlement?.success ? (res.headers.get("PAYMENT-RESPONSE") ?? undefined) : undefined;
    return createdResponse(c, deps, poll, network, decision.txHash, reported);
  }

  if (decision.state === "failed") {
    await applyDecision(settlementDeps(deps), claim, decision);
    const input = c.get("pollInput");
    const challenge = await need(deps.payments).challenge(input?.maxResponses ?? MIN_RESPONSES);
    const response = challengeResponse(c, challenge, decision.reason);
    if (settlement) response.headers.set("PAYMENT-RESPONSE", res.headers.get("PAYMENT-RESPONSE")!);
    return response;
  }

  await deps.store.batch([markAnswered(db, claim.id, "pending")]);
  deps.log(`payment for poll ${claim.poll_id} not confirmed yet (${decision.reason}); the claim stays open for reconciliation`, {
    level: "warn",
    requestId: c.get("requestId"),
  });
  return pendingResponse(c, poll, network, decision.txHash);
}

/** The middleware's answer when nothing was claimed (verification failed, or the handler refused). */
async function shapeUnclaimed(c: Context<CreateEnv>, deps: CreatePollDeps, res: Response): Promise<Response> {
  if (res.status === 402) {
    const input = c.get("pollInput");
    const challenge = await need(deps.payments).challenge(input?.maxResponses ?? MIN_RESPONSES);
    const presented = res.headers.get("PAYMENT-REQUIRED");
    let reason: string | undefined;
    try {
      reason = presented ? decodePaymentRequiredHeader(presented).error : undefined;
    } catch {
      reason = undefined;
    }
    return challengeResponse(c, challenge, reason ?? "payment_invalid");
  }
  if (res.status === 502 || (res.status === 500 && !(await isEnvelope(res)))) {
    const code = res.status === 502 ? "facilitator_unavailable" : "internal_error";
    return c.json(errorBody(code, "The payment facilitator failed; you were not charged. Try again shortly."), res.status);
  }
  return res;
}

async function isEnvelope(res: Response): Promise<boolean> {
  try {
    const body = (await res.clone().json()) as { error?: { code?: unknown } };
    return typeof body.error === "object" && body.error !== null && typeof body.error.code === "string";
  } catch {
    return false;
  }
}
