// The payout routes, in the order the OpenAPI document lists them:
//   GET  /api/v1/voter/rewards   an address's payouts, for anyone (rewards-public.ts);
//   POST /api/v1/voter/rewards   its rewards in full, for its owner (signed: rewards-owner.ts);
//   POST /api/v1/voter/payouts   a voter asks for their unpaid balance now.
// Anyone may ask for a balance that reached the threshold (PAYOUT_THRESHOLD_ATOMIC); a smaller one costs
// more gas than it pays, so it is paid on request only when the address itself signed the request
// (request-signature.ts), else 400 below_payout_threshold and nothing is claimed. The request only claims
// (one atomic batch per network, see repo.ts); the payout job sends the transfer right after. Limited per
// address (a signed request counts apart, so signing after a refusal works at once). The two writes stay
// same-origin: their routes do not open themselves to browsers on other origins (src/http/cors.ts).
import { randomUUID } from "node:crypto";
import { createRoute, type OpenAPIHono, type z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Store } from "../db/store";
import { createRouter, type AppEnv } from "../http/app-env";
import { ApiError, errorBody } from "../http/errors";
import { ErrorResponse } from "../http/openapi-shapes";
import type { RouteGuards } from "../http/route-guards";
import { EvmAddress } from "../lib/address";
import { formatUsdc, type NetworkSpec } from "../payment";
import { payoutRuleError } from "./errors";
import type { PayoutCrashPoint, PayoutWorker } from "./job";
import { claimPayout, findOpenPayouts, findPayout, unpaidByNetwork } from "./repo";
import { payoutRequestMessage, verifyPayoutRequestSignature } from "./request-signature";
import { OwnerRewardsBody, provenOwner } from "./rewards-owner";
import { PublicRewardsResponse, publicRewards } from "./rewards-public";
import { rewardsOf } from "./rewards-view";
import { PayoutRequestBody, PayoutRequestResponse, RewardsQuery, RewardsResponse } from "./schema";
import { payoutView } from "./views";

export const PAYOUTS_PATH = "/api/v1/voter/payouts";
export const REWARDS_PATH = "/api/v1/voter/rewards";
/** One payout request per address per minute. */
export const PAYOUT_REQUEST_WINDOW_MS = 60_000;

export interface PayoutsRoutesDeps {
  store: Store;
  /** undefined → no network can pay (503 payouts_not_configured when there is something to pay). */
  worker: PayoutWorker | undefined;
  knownNetworks: readonly NetworkSpec[];
  guards: RouteGuards;
  now: () => Date;
  crashPoint?: (point: PayoutCrashPoint) => void;
}

type Guard = MiddlewareHandler<AppEnv>;

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });

const publicRewardsRoute = (guard: Guard) =>
  createRoute({
    method: "get",
    path: REWARDS_PATH,
    middleware: [guard],
    summary: "Payouts made to a payout address, per network (public)",
    description:
      "What anyone may see: per network where the address has had a payout, pending (a payout on its way) and paid " +
      "(confirmed transfers), and the recent payouts with their transaction hashes. Nothing here changes when a vote is " +
      "credited: the vote count, accrued and unpaid balances are for the owner (POST /api/v1/voter/rewards, signed).",
    request: { query: RewardsQuery },
    responses: { 200: json(PublicRewardsResponse, "The address's payouts"), 400: json(ErrorResponse, "Missing or invalid address") },
  });

const ownerRewardsRoute = (guard: Guard) =>
  createRoute({
    method: "post",
    path: REWARDS_PATH,
    middleware: [guard],
    summary: "A payout address's rewards in full, for its owner (signed)",
    description:
      "The address's wallet signs (EIP-191 personal_sign) 'Quali rewards: show my balance\\nAddress: <address>\\nTimestamp: " +
      "<ISO instant>' within 10 minutes. Answers what GET /api/v1/voter/rewards keeps private: the vote count, and per " +
      "network accrued (every rewarded vote) = unpaid (not yet in a payout) + pending (a payout on its way) + paid " +
      "(confirmed transfers), with the recent payouts. A wrong or stale signature is a 403 invalid_signature " +
      "(details.reason: signer_mismatch, unrecoverable or expired).",
    request: { body: { content: { "application/json": { schema: OwnerRewardsBody } }, required: true } },
    responses: {
      200: json(RewardsResponse, "The owner's view of the address's rewards"),
      400: json(ErrorResponse, "validation_error: malformed body, or a message that is not the expected three lines for this address"),
      403: json(ErrorResponse, "invalid_signature: not signed by the address (signer_mismatch, unrecoverable) or not recent (expired)"),
    },
  });

const requestPayoutRoute = (guard: Guard) =>
  createRoute({
    method: "post",
    path: PAYOUTS_PATH,
    middleware: [guard],
    summary: "Ask for your unpaid rewards now",
    description:
      "Claims the address's whole unpaid balance on each network for a USDC transfer from the payout wallet, sent within " +
      "seconds. Each rewarded vote is paid exactly once. A balance below the automatic threshold is paid only when the " +
      "request is signed by the address (`message` + `signature`); unsigned, it is refused with 400 below_payout_threshold. " +
      "At most one request per address per minute; a payout already on its way (or parked) is returned instead of a new one.",
    request: { body: { content: { "application/json": { schema: PayoutRequestBody } }, required: true } },
    responses: {
      202: json(PayoutRequestResponse, "Payout(s) created; follow them in GET /api/v1/voter/rewards"),
      200: json(PayoutRequestResponse, "Nothing to pay now (payouts lists those already on their way)"),
      400: json(ErrorResponse, "Invalid address or message, or below_payout_threshold: an unsigned request for less than the threshold (nothing claimed)"),
      403: json(ErrorResponse, "invalid_signature: the message was not signed by the payout address"),
      429: json(ErrorResponse, "rate_limited: one request per address per minute"),
      503: json(ErrorResponse, "payouts_not_configured: the unpaid balance is on a network without a payout wallet"),
    },
  });

export function payoutsRoutes(deps: PayoutsRoutesDeps): OpenAPIHono<AppEnv> {
  const { store, guards } = deps;
  const router = createRouter();
  const windowMs = PAYOUT_REQUEST_WINDOW_MS;
  const limiter = guards.rateLimiter({ name: "voter-payouts", limit: 1, windowMs, key: () => undefined });
  const label = (network: string) => deps.knownNetworks.find((spec) => spec.network === network)?.label ?? network;

  router.openapi(publicRewardsRoute(guards.api), async (c) => {
    // Checked here rather than by the query schema: the 400 names the address whatever was wrong with it.
    const parsed = EvmAddress.safeParse(c.req.valid("query").address ?? "");
    if (!parsed.success) throw new ApiError(400, "validation_error", "address: must be a 0x-prefixed 20-byte address.", "address");
    return c.json(publicRewards(await rewardsOf(store.db, parsed.data, label)), 200);
  });

  router.openapi(ownerRewardsRoute(guards.voterWrite), async (c) => {
    const address = await provenOwner(c.req.valid("json"), deps.now());
    return c.json(await rewardsOf(store.db, address, label), 200);
  });

  router.openapi(requestPayoutRoute(guards.voterWrite), async (c) => {
    const body = c.req.valid("json");
    const address = body.address;
    const now = deps.now();
    if ((body.message === undefined) !== (body.signature === undefined)) {
      const missing = body.message === undefined ? "message" : "signature";
      throw new ApiError(400, "validation_error", `${missing}: required with ${missing === "message" ? "signature" : "message"}.`, missing);
    }
    const signed = body.message !== undefined && body.signature !== undefined;
    if (signed) await verifyPayoutRequestSignature({ address, message: body.message!, signature: body.signature!, now });
    const limit = await limiter.count(signed ? `${address} signed` : address, now.getTime());
    if (!limit.allowed) {
      const retryAfter = Math.max(1, Math.ceil((limit.resetAt - now.getTime()) / 1000));
      return c.json(
        errorBody("rate_limited", `One payout request per address every ${windowMs / 1000} s. Retry after ${retryAfter} s.`, "address"),
        429,
        { "Retry-After": String(retryAfter) },
      );
    }

    const unpaid = [...(await unpaidByNetwork(store.db, address))].filter(
      ([network, amount]) => amount > 0n && (body.network === undefined || network === body.network),
    );
    const payable = new Set((deps.worker?.networks ?? []).filter((n) => n.chain).map((n) => n.network));
    // Below this, only a signed request is paid: the gas would cost more than the reward.
    const threshold = deps.worker?.thresholdAtomic ?? 1n;
    const created: string[] = [];
    const unconfigured: string[] = [];
    const belowThreshold: [string, bigint][] = [];
    for (const [network, amount] of unpaid) {
      if (!payable.has(network)) {
        unconfigured.push(network);
        continue;
      }
      if (!signed && amount < threshold) {
        belowThreshold.push([network, amount]);
        continue;
      }
      const id = randomUUID();
      const minAtomic = signed ? 1n : threshold;
      const claimed = await claimPayout(store, { id, address, network, trigger: "request", minAtomic, at: now.toISOString() });
      if (!claimed) continue; // a payout for this address is already open there
      deps.crashPoint?.("after_claim");
      created.push(id);
    }

    if (created.length > 0) {
      const rows = (await Promise.all(created.map((id) => findPayout(store.db, id)))).filter((row) => row !== undefined);
      for (const row of rows) void deps.worker?.kick(row.network);
      const total = rows.reduce((sum, row) => sum + BigInt(row.amount_atomic), 0n);
      const health = (await deps.worker?.health()) ?? {};
      const paused = rows.filter((row) => health[row.network]?.state === "paused").map((row) => label(row.network));
      return c.json(
        {
          address,
          payouts: rows.map(payoutView),
          message:
            `${formatUsdc(total)} USDC is on its way (${rows.map((row) => label(row.network)).join(", ")}).` +
            (paused.length > 0 ? ` Payouts on ${paused.join(", ")} are paused right now: yours is queued and is sent when they resume.` : ""),
        },
        202,
      );
    }

    const open = (await findOpenPayouts(store.db, address)).filter((row) => body.network === undefined || row.network === body.network);
    // Unsigned, the answer must not depend on the balance (zero or below the threshold): a changing balance
    // would let anyone count an address's new votes. Amounts are for the owner's signed request only.
    if (open.length === 0 && !signed && (belowThreshold.length > 0 || unpaid.length === 0)) {
      throw payoutRuleError(
        "below_payout_threshold",
        `Unsigned payout requests are served once the unpaid balance reaches ${formatUsdc(threshold)} USDC (a transfer's gas ` +
          "would cost more than it pays below that); balances are paid automatically when they reach it. To be paid any " +
          "balance now, sign details.messageToSign with this address (EIP-191 personal_sign) and send it again as message and signature.",
        "signature",
        { thresholdAtomic: threshold.toString(), messageToSign: payoutRequestMessage(address, now) },
      );
    }
    if (open.length === 0 && unconfigured.length > 0) {
      throw new ApiError(
        503,
        "payouts_not_configured",
        `Payouts are not available on ${unconfigured.map(label).join(", ")} yet; your rewards stay in the ledger until they are.`,
        undefined,
        { networks: unconfigured },
      );
    }
    return c.json(
      {
        address,
        payouts: open.map(payoutView),
        message: open.some((row) => row.status === "parked")
          ? "A payout to this address is parked: the USDC token refuses transfers to it (see GET /api/v1/voter/rewards for the reason). " +
            "Its rewards stay owed to this address and are paid when the operator retries it."
          : open.length > 0
            ? "A payout is already on its way; newer rewards follow in the next one."
            : "Nothing to pay: no unpaid rewards.",
      },
      200,
    );
  });

  return router;
}
