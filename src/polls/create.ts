// POST /api/v1/polls: validate → (402 challenge | replay guard → x402 verify → moderate → claim
// → settle) → activate. The order is the product's promise: invalid input never gets a challenge, a
// used authorization is refused before the facilitator is asked, moderation runs after the payment is
// verified and before it is settled, and a rejected poll is never charged.
import { randomUUID } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader, encodePaymentRequiredHeader } from "@x402/core/http";
import type { SettleResponse } from "@x402/core/types";
import type { ConfigProblem, Mode } from "../config";
import type { PaymentRow } from "../db/schema";
import type { Store } from "../db/store";
import { isUniqueViolation } from "../db/store";
import { ApiError, errorBody, errorResponse } from "../http/errors";
import { requestIdOf } from "../http/hardening";
import type { Logger } from "../http/logger";
import { respond } from "../http/response-headers";
import { validationError } from "../http/validation";
import { ModerationUnavailableError, type Moderator } from "../moderation/moderator";
import { moderationInputFromPoll } from "../moderation/input";
import { readAuthorization, type PresentedAuthorization } from "../payment/authorization";
import type { ChainReader } from "../payment/chain-reader";
import type { Challenge, PaymentServer } from "../payment/payment-server";
import { resolveAbandonedClaim } from "../payment/reconcile";
import { POLLS_PATH } from "../payment/payment-server";
import { findLiveClaim, insertClaim, markClaimFailed, markClaimSettled } from "../payment/payments-repo";
import { pollPrice, usdcNumber } from "../payment/pricing";
import { callbackUrlProblem, type CallbackUrlOptions } from "../webhook/url-policy";
import type { CallbackSecrets } from "../webhook/signing";
import type { ReadTokens } from "./read-token";
import { activatePoll, failPoll, insertOptions, insertPoll } from "./repo";
import { CreatePollBody, CreatePollResponse, MIN_EXPIRY_LEAD_MS, MIN_RESPONSES, type CreatePollInput } from "./schema";
import { ErrorResponse, PaymentRequiredResponse } from "../http/openapi-shapes";

export interface CreatePollDeps {
  store: Store;
  mode: Mode;
  publicBaseUrl: string;
  payments: PaymentServer | undefined;
  moderator: Moderator | undefined;
  readTokens: ReadTokens | undefined;
  /** Derives the per-poll callbackSecret returned in the 201 when callbackUrl is set (src/webhook/signing.ts). */
  callbackSecrets?: CallbackSecrets;
  /** Per-runtime tightening of the callbackUrl rule (Workers refuse IP literals). */
  callbackUrlOptions?: CallbackUrlOptions;
  problems: readonly ConfigProblem[];
  now: () => Date;
  /** Called after each successful settlement (local mode persists the chain state). */
  onSettled?: () => Promise<void>;
  /** Chain readers per network, to resolve claims abandoned by a crashed process. */
  chains?: ReadonlyMap<string, ChainReader>;
  /** When this process started: claims older than that cannot be in flight here. */
  startedAt?: Date;
  /** Test-only crash points (local mode): called at each step between verification and response. */
  crashPoint?: (point: CrashPoint) => void;
  log: Logger;
}

export type CrashPoint = "after_verify" | "after_claim" | "after_settlement" | "after_activation";

/** Longest a claim can be in flight in a live process: facilitator and moderation timeouts, with margin. */
const IN_FLIGHT_LIMIT_MS = 5 * 60 * 1000;

interface Claim {
  pollId: string;
  paymentId: string;
}

type CreateEnv = {
  Variables: {
    pollInput: CreatePollInput;
    authorization: PresentedAuthorization;
    claim: Claim;
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
    400: { description: "Malformed request or content moderation rejection", content: { "application/json": { schema: ErrorResponse } } },
    402: { description: "Payment required, or verification/settlement failed", content: { "application/json": { schema: PaymentRequiredResponse } } },
    409: { description: "Payment signature was already used", content: { "application/json": { schema: ErrorResponse } } },
    503: { description: "Server missing payment or moderation configuration", content: { "application/json": { schema: ErrorResponse } } },
  },
});

export function registerCreatePoll(app: OpenAPIHono, deps: CreatePollDeps): void {
  const gate = createPollGate(deps);
  app.use(POLLS_PATH, gate);
  if (deps.payments) app.use(POLLS_PATH, deps.payments.middleware);
  // The body was validated by the gate; this route's own validator sees the same cached body.
  (app as unknown as OpenAPIHono<CreateEnv>).openapi(createPollRoute, (c) => handleCreatePoll(c, deps) as never);
}

function unavailable(deps: CreatePollDeps, area: ConfigProblem["area"]): ApiError | undefined {
  const problem = deps.problems.find((p) => p.area === area);
  if (!problem) return undefined;
  return new ApiError(503, problem.code, `${problem.message} (missing ${problem.variable})`, undefined, {
    missing: deps.problems.filter((p) => p.area === area).map((p) => p.variable),
  });
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
  const expiresAt = Date.parse(input.expiresAt);
  if (!(expiresAt > deps.now().getTime() + MIN_EXPIRY_LEAD_MS)) {
    throw new ApiError(400, "validation_error", "expiresAt: must be more than 5 minutes in the future.", "expiresAt");
  }
  if (input.callbackUrl) {
    const problem = callbackUrlProblem(input.callbackUrl, deps.mode, deps.callbackUrlOptions);
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
    const problem = url ? callbackUrlProblem(url, deps.mode) : undefined;
    if (problem) throw new ApiError(400, "validation_error", `${param}: ${problem}.`, param);
  }
}

function challengeResponse(c: Context, challenge: Challenge, error?: string) {
  // The plain challenge is served as built once (header and body), never re-serialised.
  if (!error) {
    return respond(c, 402, challenge.json, { "content-type": "application/json", "payment-required": challenge.header, "cache-control": "no-store" });
  }
  const body = { ...challenge.paymentRequired, error };
  return c.json(body, 402, { "PAYMENT-REQUIRED": encodePaymentRequiredHeader(body as never), "Cache-Control": "no-store" });
}

function createPollGate(deps: CreatePollDeps): MiddlewareHandler<CreateEnv> {
  const pricedBodies = new Map<string, PricedBody>();
  return async (c, next) => {
    if (c.req.method !== "POST") return next();
    try {
      // A challenge is an invitation to pay: never issue one that could not end in a poll.
      const notConfigured = unavailable(deps, "payment") ?? unavailable(deps, "moderation") ?? unavailable(deps, "read_tokens");
      if (notConfigured) throw notConfigured;
      if (!deps.payments) throw new ApiError(503, "payment_not_configured", "Payments are not configured.");
      if (!deps.moderator) throw new ApiError(503, "moderation_not_configured", "Moderation is not configured.");
      if (!deps.readTokens) throw new ApiError(503, "read_tokens_not_configured", "Read tokens are not configured.");
      const payments = deps.payments;
      if (!payments.isReady() && !(await payments.initialize())) {
        throw new ApiError(503, "facilitator_unavailable", "The payment facilitator cannot be reached; try again shortly.");
      }
      const paymentHeader = c.req.header("payment-signature") ?? c.req.header("x-payment");
      const text = await c.req.text();
      // An agent (or a crawler) asking again with the same unpaid body gets the same challenge: the body's
      // verdict is remembered, so only the time-dependent rule is checked again (issue 8). Nothing else in
      // the verdict can change: the schema, the URL rules and the mode are fixed for the process.
      if (!paymentHeader) {
        const known = pricedBodies.get(text);
        if (known && known.expiresAtMs > deps.now().getTime() + MIN_EXPIRY_LEAD_MS && JSON_CONTENT_TYPE.test(c.req.header("content-type") ?? "")) {
          return challengeResponse(c, await payments.challenge(known.maxResponses));
        }
      }
      const rawBody = parseJsonBody(c, text);

      if (rawBody === undefined) {
        // Crawlers probe with a bare POST: answer the challenge at the minimum price.
        if (!paymentHeader) return challengeResponse(c, await payments.challenge(MIN_RESPONSES));
        throw new ApiError(400, "validation_error", "The request body is required: send the poll as JSON.");
      }
      const parsed = CreatePollBody.safeParse(rawBody);
      if (!parsed.success) throw validationError(parsed.error);
      const input = parsed.data;
      checkContextualRules(input, deps);
      const challenge = await payments.challenge(input.maxResponses);
      if (!paymentHeader) {
        if (text.length <= PRICED_BODY_MAX_CHARS) {
          if (pricedBodies.size >= PRICED_BODY_LIMIT) pricedBodies.delete(pricedBodies.keys().next().value as string);
          pricedBodies.set(text, { maxResponses: input.maxResponses, expiresAtMs: Date.parse(input.expiresAt) });
        }
        return challengeResponse(c, challenge);
      }

      // Before anything reaches the facilitator: a payload we can read (only exact EIP-3009
      // payments are offered) …
      const authorization = readAuthorization(paymentHeader);
      if (!authorization) return challengeResponse(c, challenge, "invalid_payment_payload");
      // … for the advertised resource (bazaar indexes payments by it) …
      if (authorization.resourceUrl !== payments.metadata.resourceUrl) {
        return challengeResponse(c, challenge, "resource_url_mismatch");
      }
      // … and not already used.
      const claim = await findLiveClaim(deps.store.db, authorization);
      if (claim && !(await releasedAbandonedClaim(deps, claim))) throw alreadyUsed(claim.poll_id);
      c.set("authorization", authorization);
      c.set("pollInput", input);
    } catch (error) {
      if (error instanceof ApiError) return errorResponse(c, error);
      throw error;
    }

    await next();
    c.res = await finalize(c, deps);
  };
}

/** True when the claim was left by a dead request and the unused authorization was released. */
async function releasedAbandonedClaim(deps: CreatePollDeps, claim: PaymentRow): Promise<boolean> {
  if (claim.status !== "claimed" || !deps.chains) return false;
  const createdAt = Date.parse(claim.created_at);
  const abandoned =
    (deps.startedAt !== undefined && createdAt < deps.startedAt.getTime()) ||
    createdAt < deps.now().getTime() - IN_FLIGHT_LIMIT_MS;
  if (!abandoned) return false;
  const outcome = await resolveAbandonedClaim({ store: deps.store, chains: deps.chains, now: deps.now, log: deps.log }, claim);
  return outcome === "released";
}

function alreadyUsed(pollId: string): ApiError {
  return new ApiError(409, "payment_already_used", "This payment authorization was already used.", undefined, {
    pollId,
  });
}

async function handleCreatePoll(c: Context<CreateEnv>, deps: CreatePollDeps): Promise<Response> {
  const input = c.get("pollInput");
  const authorization = c.get("authorization");
  const payments = deps.payments;
  if (!input || !authorization || !payments || !deps.moderator || !deps.readTokens) {
    // Unreachable through the gate; refuse rather than create a poll nobody paid for.
    return errorResponse(c, new ApiError(500, "internal_error", "The payment was not verified."));
  }
  deps.crashPoint?.("after_verify");
  const enabled = payments.networks.find((n) => n.spec.network === authorization.network);
  if (!enabled) return errorResponse(c, new ApiError(400, "unsupported_network", "Unsupported payment network."));

  try {
    const verdict = await deps.moderator.moderate(moderationInputFromPoll(input));
    if (verdict.flagged) {
      return errorResponse(
        c,
        new ApiError(400, "content_rejected", `Content rejected by moderation: ${verdict.message}`, verdict.param, {
          categories: verdict.categories,
        }),
      );
    }
  } catch (error) {
    if (error instanceof ModerationUnavailableError) {
      deps.log(`moderation unavailable: ${error.message}`, { level: "warn", requestId: requestIdOf(c) });
      return errorResponse(
        c,
        new ApiError(503, "moderation_unavailable", "Content moderation is unavailable; you were not charged. Try again shortly."),
      );
    }
    throw error;
  }

  const price = pollPrice(input.maxResponses);
  const pollId = randomUUID();
  const paymentId = randomUUID();
  const createdAt = deps.now().toISOString();
  const { db } = deps.store;
  try {
    await deps.store.batch([
      insertPoll(db, {
        id: pollId,
        status: "pending_payment",
        question: input.question,
        description: input.description ?? null,
        more_info_url: input.moreInfoUrl ?? null,
        media_url: input.mediaUrl ?? null,
        media_type: input.mediaUrl ? (input.mediaType ?? "image") : null,
        layout_type: input.layoutType ?? "list",
        max_responses: input.maxResponses,
        expires_at: new Date(input.expiresAt).toISOString(),
        callback_url: input.callbackUrl ?? null,
        public_results: input.publicResults === true ? 1 : 0,
        network: authorization.network,
        payer: authorization.payer,
        cost_atomic: price.costAtomic.toString(),
        reward_pool_atomic: price.rewardPoolAtomic.toString(),
        fee_atomic: price.feeAtomic.toString(),
        created_at: createdAt,
        activated_at: null,
        completed_at: null,
      }),
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
        id: paymentId,
        pollId,
        network: authorization.network,
        payer: authorization.payer,
        nonce: authorization.nonce,
        asset: enabled.spec.usdc.address.toLowerCase(),
        payTo: enabled.payTo.toLowerCase(),
        amountAtomic: authorization.valueAtomic,
        validBefore: authorization.validBefore,
        createdAt,
      }),
    ]);
  } catch (error) {
    if (isUniqueViolation(error)) {
      // A concurrent request with the same authorization claimed it first.
      const winner = await findLiveClaim(db, authorization);
      return errorResponse(c, alreadyUsed(winner?.poll_id ?? "unknown"));
    }
    throw error;
  }
  c.set("claim", { pollId, paymentId });
  deps.crashPoint?.("after_claim");

  const base = deps.publicBaseUrl;
  const body = {
    id: pollId,
    url: `${base}/polls/${pollId}`,
    readToken: deps.readTokens.tokenFor(pollId),
    payment: {
      network: enabled.spec.network,
      networkLabel: enabled.spec.label,
      txHash: "",
      payer: authorization.payer,
      amountUsdc: usdcNumber(price.costAtomic),
      amountAtomic: price.costAtomic.toString(),
    },
    pricing: {
      maxResponses: input.maxResponses,
      rewardPoolUsdc: usdcNumber(price.rewardPoolAtomic),
      qualiFeeUsdc: usdcNumber(price.feeAtomic),
      costUsdc: usdcNumber(price.costAtomic),
    },
    endpoints: {
      poll: `${base}${POLLS_PATH}/${pollId}`,
      results: `${base}${POLLS_PATH}/${pollId}/results`,
      votes: `${base}${POLLS_PATH}/${pollId}/votes`,
    },
    // Beyond the contract (additive): the key of the poll's X-Quali-Poll-Signature webhook header.
    ...(input.callbackUrl && deps.callbackSecrets ? { callbackSecret: deps.callbackSecrets.secretFor(pollId) } : {}),
  };
  return c.json(body, 201);
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
 * Runs after the x402 middleware settled (or refused to). Moves the poll to its final state and
 * shapes the response per contract: 402 bodies carry the PaymentRequired object, errors the envelope.
 */
async function finalize(c: Context<CreateEnv>, deps: CreatePollDeps): Promise<Response> {
  const res = c.res;
  const claim = c.get("claim");
  const settlement = decodeSettlement(res.headers.get("PAYMENT-RESPONSE"));
  const { db } = deps.store;
  const at = deps.now().toISOString();

  if (res.status === 201 && claim && settlement?.success) {
    deps.crashPoint?.("after_settlement");
    await deps.store.batch([
      activatePoll(db, claim.pollId, at),
      markClaimSettled(db, claim.paymentId, settlement.transaction, at),
    ]);
    deps.crashPoint?.("after_activation");
    deps.onSettled?.().catch((error: unknown) => deps.log(`after-settlement hook failed: ${String(error)}`));
    const body = (await res.json()) as { payment: { txHash: string; payer: string } };
    body.payment.txHash = settlement.transaction;
    if (settlement.payer) body.payment.payer = settlement.payer.toLowerCase();
    const headers = new Headers(res.headers);
    headers.delete("content-length");
    return new Response(JSON.stringify(body), { status: 201, headers });
  }

  if (res.status === 402) {
    const input = c.get("pollInput");
    const challenge = await deps.payments!.challenge(input?.maxResponses ?? MIN_RESPONSES);
    let reason: string | undefined;
    if (claim) {
      if (settlement && !settlement.success) {
        // The facilitator answered: the transfer did not happen. Free the authorization.
        reason = settlement.errorReason ?? "settlement_failed";
        await deps.store.batch([failPoll(db, claim.pollId), markClaimFailed(db, claim.paymentId, reason)]);
        deps.log(`settlement failed for poll ${claim.pollId}: ${reason}`, { level: "warn", requestId: requestIdOf(c) });
      } else {
        // Outcome unknown: the poll stays pending_payment until reconciled from the chain.
        reason = "settlement_outcome_unknown";
        deps.log(`settlement outcome unknown for poll ${claim.pollId}; left pending_payment for reconciliation`, { level: "warn", requestId: requestIdOf(c) });
      }
    } else {
      const presented = res.headers.get("PAYMENT-REQUIRED");
      try {
        reason = presented ? decodePaymentRequiredHeader(presented).error : undefined;
      } catch {
        reason = undefined;
      }
    }
    const response = challengeResponse(c, challenge, reason ?? "payment_invalid");
    if (settlement) response.headers.set("PAYMENT-RESPONSE", res.headers.get("PAYMENT-RESPONSE")!);
    return response;
  }

  if (res.status === 502 || (res.status === 500 && !(await isEnvelope(res)))) {
    const message = claim
      ? "The payment facilitator failed while settling; if the payment lands on chain the poll is activated."
      : "The payment facilitator failed; you were not charged. Try again shortly.";
    if (claim) deps.log(`facilitator error while settling poll ${claim.pollId}; left pending_payment`, { level: "error", requestId: requestIdOf(c) });
    const code = res.status === 502 ? "facilitator_unavailable" : "internal_error";
    return c.json(errorBody(code, message, undefined, claim ? { pollId: claim.pollId } : undefined), res.status);
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
