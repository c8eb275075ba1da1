// The voting API: the voter feed, World ID proof requests, votes, and the simulated World ID of local mode.
import { randomUUID } from "node:crypto";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Mode } from "../config";
import type { Store } from "../db/store";
import { createRouter, type AppEnv } from "../http/app-env";
import { need, valueOf, type Capability } from "../http/capability";
import { ApiError } from "../http/errors";
import { requestIdOf } from "../http/hardening";
import type { Logger } from "../http/logger";
import { ErrorResponse } from "../http/openapi-shapes";
import { decodeCursor, encodeCursor, parseLimit } from "../http/pagination";
import { addResponseHeaders, respondJson, serializeJson } from "../http/response-headers";
import type { RouteGuards } from "../http/route-guards";
import { type NetworkSpec, REWARD_PER_VOTE_ATOMIC, usdcNumber } from "../payment";
import { findOptions, findOptionsOfPolls, groupOptionsByPoll, POLLS_PATH, visibleStatus, type TransitionListener } from "../polls";
import { assertPayableAddress, type PayoutAddressPolicy } from "../payouts";
import { createFeedPages } from "./feed-pages";
import { readProof } from "./proof-shape";
import { newVoteId, recordVote } from "./record-vote";
import { findVotablePolls, findWorldIdRequest, insertWorldIdRequest } from "./repo";
import {
  CastVoteBody,
  CastVoteResponse,
  IdkitResult,
  PageQuery,
  SimulatedProofBody,
  VoterPoll,
  VoterPollList,
  WorldIdRequestBody,
  WorldIdRequestResponse,
} from "./schema";
import { assertVotable, pollNotFound, settledPoll, voteRefusal } from "./votability";
import { findOptionIds, findVotePoll } from "./vote-queries";
import { networkLabel, toVoterPoll } from "./voter-poll-view";
import { canonicalFieldHex, hashSignal, pollAction, voteSignal, type ProofRefusalCode, type WorldIdVerifier } from "./world-id";
import { verifyOnce } from "./world-id-nonce";

export const VOTER_PATH = "/api/v1/voter";
/** A proof request can be turned into a vote for this long after it was issued. */
export const WORLD_ID_REQUEST_WINDOW_MS = 15 * 60_000;

export interface VotingDeps {
  store: Store;
  mode: Mode;
  publicBaseUrl: string;
  knownNetworks: readonly NetworkSpec[];
  /** Unavailable: world-id-request and votes answer 503 world_id_not_configured. */
  worldId: Capability<WorldIdVerifier>;
  transitionListeners: readonly TransitionListener[];
  guards: RouteGuards;
  now: () => Date;
  log: Logger;
  /** Payout addresses rewards could never reach are refused (src/payouts/address-policy.ts). */
  payoutAddresses?: PayoutAddressPolicy;
}

type Guard = MiddlewareHandler<AppEnv>;

const error = (description: string) => ({ description, content: { "application/json": { schema: ErrorResponse } } });
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, example: "3f0c…" }) });

const voterPollsRoute = (guard: Guard) =>
  createRoute({
    method: "get",
    path: `${VOTER_PATH}/polls`,
    middleware: [guard],
    summary: "Polls a voter can answer now",
    description:
      "Active polls (settled, not expired, not full), newest first, cursor-paginated (limit 1–100, default 20). " +
      "Public fields only; options come in a fresh random order per request.",
    request: { query: PageQuery },
    responses: { 200: json(VoterPollList, "A page of votable polls"), 400: error("Invalid limit or cursor") },
  });

const voterPollRoute = (guard: Guard) =>
  createRoute({
    method: "get",
    path: `${VOTER_PATH}/polls/{id}`,
    middleware: [guard],
    summary: "One poll as the voter page shows it",
    request: { params: IdParam },
    responses: { 200: json(VoterPoll, "The poll (status tells whether it can still be answered)"), 404: error("Poll not found or not settled") },
  });

const worldIdRequestRoute = (guard: Guard) =>
  createRoute({
    method: "post",
    path: `${POLLS_PATH}/{id}/world-id-request`,
    middleware: [guard],
    summary: "Start a vote: what IDKit needs to request a World ID proof",
    description:
      "Returns the per-poll action, a fresh single-use nonce signed by the relying party (rp_context), and the signal " +
      "that binds the proof to the chosen option and payout address.",
    request: { params: IdParam, body: { content: { "application/json": { schema: WorldIdRequestBody } }, required: true } },
    responses: {
      200: json(WorldIdRequestResponse, "The World ID request"),
      400: error("Malformed body, unknown option, or payout_address_refused (an address rewards could never be paid to)"),
      404: error("Poll not found or not settled"),
      409: error("Poll not active: poll_full, poll_expired or poll_not_active"),
      503: error("World ID is not configured"),
    },
  });

const castVoteRoute = (guard: Guard) =>
  createRoute({
    method: "post",
    path: `${POLLS_PATH}/{id}/votes`,
    middleware: [guard],
    summary: "Cast a vote with a World ID proof",
    description:
      "One vote per human per poll. The proof (the IDKit result, unchanged) must carry a nonce from world-id-request " +
      "for the same option and payout address; it is verified with the World ID Developer Portal. Each accepted vote " +
      "credits 0.0005 USDC to the payout address on the network the poll was paid on.",
    request: { params: IdParam, body: { content: { "application/json": { schema: CastVoteBody } }, required: true } },
    responses: {
      201: json(CastVoteResponse, "Vote recorded"),
      400: error("Malformed body, invalid_proof, nonce_unknown, nonce_expired, signal_mismatch or payout_address_refused"),
      401: error("proof_rejected: the World ID portal did not verify the proof"),
      404: error("Poll not found or not settled"),
      409: error("poll_full, poll_expired, poll_not_active, already_voted or nonce_used"),
      503: error("World ID not configured or the portal is unreachable (nothing was recorded)"),
    },
  });

const simulatedProofRoute = (guard: Guard) =>
  createRoute({
    method: "post",
    path: `${VOTER_PATH}/simulated-proof`,
    middleware: [guard],
    summary: "Simulated World ID proof (local mode only; 404 in production)",
    description:
      "Plays World App and the World ID network for a simulated human: checks that the rp_context is signed by the " +
      "registered relying party (as World ID 4 does when a proof is made), then returns an IDKit v4 result for its " +
      "nonce, action and signal. The same `human` seed always has the same nullifier.",
    request: { body: { content: { "application/json": { schema: SimulatedProofBody } }, required: true } },
    responses: {
      200: json(IdkitResult, "An IDKit result to send as `proof`"),
      400: error(
        "invalid_proof: the simulated World App refused the request; details.code is IDKit's error code " +
          "(malformed_request, rp_signature_expired, invalid_rp_signature: not signed by the registered relying party, unknown_rp)",
      ),
      404: error("Not available in production mode"),
    },
  });

/** Which field of a simulated-proof request a refusal is about. */
const REFUSAL_PARAM: Record<ProofRefusalCode, string> = {
  malformed_request: "rpContext",
  rp_signature_expired: "rpContext.expires_at",
  invalid_rp_signature: "rpContext.signature",
  unknown_rp: "rpContext.rp_id",
};



export function votingRoutes(deps: VotingDeps): OpenAPIHono<AppEnv> {
  const { store, guards } = deps;
  const { db } = store;
  const router = createRouter();
  const feedPages = createFeedPages(store);

  router.openapi(voterPollsRoute(guards.api), async (c) => {
    const query = c.req.valid("query");
    const limit = parseLimit(query.limit, 100, 20);
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const now = deps.now();
    const { rows, optionsByPoll } = await feedPages.read(`${limit}|${query.cursor ?? ""}`, now.getTime(), async () => {
      const found = await findVotablePolls(db, { now: now.toISOString(), limit: limit + 1, ...(after ? { after } : {}) });
      const options = await findOptionsOfPolls(db, found.slice(0, limit).map((p) => p.id));
      return { rows: found, optionsByPoll: groupOptionsByPoll(options) };
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const body: z.infer<typeof VoterPollList> = {
      polls: page.map((poll) => toVoterPoll(deps, poll, optionsByPoll.get(poll.id) ?? [], now)),
      nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
    };
    return respondJson(c, 200, serializeJson(body));
  });

  router.openapi(voterPollRoute(guards.api), async (c) => {
    const { id } = c.req.valid("param");
    const poll = await settledPoll(store, id);
    return c.json(toVoterPoll(deps, poll, await findOptions(db, id), deps.now()), 200);
  });

  router.openapi(worldIdRequestRoute(guards.voterWrite), async (c) => {
    const worldId = need(deps.worldId);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const poll = await settledPoll(store, id);
    const now = deps.now();
    await assertVotable(deps, poll, now);
    const options = await findOptions(db, id);
    if (!options.some((o) => o.id === body.optionId)) {
      throw new ApiError(400, "validation_error", "optionId: not an option of this poll.", "optionId");
    }
    await assertPayableAddress(deps.payoutAddresses, body.payoutAddress, poll.network, "payoutAddress");
    const action = pollAction(id);
    const signal = voteSignal(id, body.optionId, body.payoutAddress);
    const signalHash = hashSignal(signal);
    const signed = worldId.signRequest(action);
    const nonce = canonicalFieldHex(signed.nonce)!;
    const expiresAt = new Date(now.getTime() + WORLD_ID_REQUEST_WINDOW_MS).toISOString();
    await store.batch([
      insertWorldIdRequest(db, {
        nonce,
        poll_id: id,
        option_id: body.optionId,
        payout_address: body.payoutAddress,
        signal,
        signal_hash: signalHash,
        created_at: now.toISOString(),
        expires_at: expiresAt,
      }),
    ]);
    return c.json(
      {
        pollId: id,
        optionId: body.optionId,
        payoutAddress: body.payoutAddress,
        nonce,
        signal,
        signalHash,
        expiresAt,
        simulated: worldId.simulated,
        idkit: {
          app_id: worldId.appId,
          action,
          rp_context: {
            rp_id: worldId.rpId,
            nonce: signed.nonce,
            created_at: signed.createdAt,
            expires_at: signed.expiresAt,
            signature: signed.signature,
          },
          allow_legacy_proofs: false,
          environment: worldId.environment,
        },
      },
      200,
    );
  });

  router.openapi(castVoteRoute(guards.voterWrite), async (c) => {
    const worldId = need(deps.worldId);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    // Only the columns a vote reads (./vote-queries.ts).
    const poll = await findVotePoll(db, id);
    if (!poll || poll.status === "pending_payment" || poll.status === "payment_failed") throw pollNotFound();
    await assertVotable(deps, poll, deps.now());

    const optionIds = await findOptionIds(db, id);
    if (!optionIds.includes(body.optionId)) {
      throw new ApiError(400, "validation_error", "optionId: not an option of this poll.", "optionId");
    }
    // Before the proof is verified (and its request spent): a refused address leaves nothing behind.
    await assertPayableAddress(deps.payoutAddresses, body.payoutAddress, poll.network, "payoutAddress");
    let shownOrder: string[] | null = null;
    if (body.shownOrder) {
      const ids = new Set(optionIds);
      const shown = new Set(body.shownOrder);
      if (body.shownOrder.length !== ids.size || shown.size !== ids.size || ![...shown].every((o) => ids.has(o))) {
        throw new ApiError(400, "validation_error", "shownOrder: must list each of the poll's option ids exactly once.", "shownOrder");
      }
      shownOrder = body.shownOrder;
    }

    const proof = readProof(body.proof, id, worldId.environment);
    const request = await findWorldIdRequest(db, proof.nonce);
    if (!request || request.poll_id !== id) {
      throw new ApiError(400, "nonce_unknown", "proof.nonce was not issued by this service for this poll.", "proof.nonce");
    }
    if (request.used_at) throw new ApiError(409, "nonce_used", "This World ID request was already used for a vote.", "proof.nonce");
    if (Date.parse(request.expires_at) <= deps.now().getTime()) {
      throw new ApiError(400, "nonce_expired", "This World ID request has expired: start again with world-id-request.", "proof.nonce");
    }
    if (request.option_id !== body.optionId || request.payout_address !== body.payoutAddress) {
      throw new ApiError(
        400,
        "signal_mismatch",
        "The proof was requested for another option or payout address: request a new one for this choice.",
        request.option_id !== body.optionId ? "optionId" : "payoutAddress",
      );
    }
    // Stored with the request (older requests: hashed now).
    const expectedSignalHash = request.signal_hash ?? hashSignal(request.signal);
    if (!proof.responses.every((item) => item.signalHash === expectedSignalHash)) {
      throw new ApiError(400, "signal_mismatch", "The proof's signal_hash does not match this option and payout address.", "proof.responses");
    }

    // The request is spent before the portal sees the proof: one portal call per nonce (world-id-nonce.ts).
    const { verdict, claim } = await verifyOnce(store, worldId, body.proof, { nonce: proof.nonce, pollId: id, at: deps.now() });
    if (verdict.outcome === "unavailable") {
      deps.log(`world id: verification unavailable for poll ${id}: ${verdict.reason}`, { level: "warn", requestId: requestIdOf(c) });
      if (verdict.retryAfterSeconds !== undefined) {
        // Over the portal call budget: not called, and the request stays usable after Retry-After.
        addResponseHeaders(c, { "retry-after": String(verdict.retryAfterSeconds) });
        throw new ApiError(
          503,
          "world_id_unavailable",
          `World ID verification is busy right now; nothing was recorded. Send the same vote again after ${verdict.retryAfterSeconds} s.`,
          undefined,
          { reason: "portal_budget_exhausted", retryAfterSeconds: verdict.retryAfterSeconds },
        );
      }
      throw new ApiError(503, "world_id_unavailable", "World ID verification is unavailable right now; nothing was recorded. Try again shortly.");
    }
    if (verdict.outcome === "rejected") {
      if (verdict.code === "max_verifications_reached") {
        throw new ApiError(409, "already_voted", "This human has already voted in this poll.");
      }
      throw new ApiError(401, "proof_rejected", "World ID did not verify this proof.", "proof", {
        portalCode: verdict.code,
        ...(verdict.detail ? { portalDetail: verdict.detail } : {}),
        ...(verdict.results !== undefined ? { results: verdict.results } : {}),
      });
    }

    const at = deps.now();
    const voteId = newVoteId(at);
    const outcome = await recordVote(
      store,
      {
        voteId,
        pollId: id,
        optionId: body.optionId,
        nullifier: verdict.nullifier,
        nonce: proof.nonce,
        nonceClaimedAt: claim.claimedAt,
        shownOrder,
        country: body.demographics?.country ?? null,
        ageBand: body.demographics?.ageBand ?? null,
        payoutAddress: body.payoutAddress,
        network: poll.network,
        at: at.toISOString(),
      },
      deps.transitionListeners,
    );
    if (!outcome.accepted) {
      if (outcome.reason === "already_voted") throw new ApiError(409, "already_voted", "This human has already voted in this poll.");
      throw await voteRefusal(deps, id, proof.nonce, at);
    }
    const after = await findVotePoll(db, id);
    if (!after) throw pollNotFound();
    const answer: z.infer<typeof CastVoteResponse> = {
      voteId,
      pollId: id,
      optionId: body.optionId,
      poll: {
        status: visibleStatus(after, at),
        voteCount: after.vote_count,
        maxResponses: after.max_responses,
        completedAt: after.completed_at,
      },
      reward: {
        network: poll.network,
        networkLabel: networkLabel(deps.knownNetworks, poll.network),
        payoutAddress: body.payoutAddress,
        amountUsdc: usdcNumber(REWARD_PER_VOTE_ATOMIC),
        amountAtomic: REWARD_PER_VOTE_ATOMIC.toString(),
      },
    };
    return respondJson(c, 201, serializeJson(answer));
  });

  router.openapi(simulatedProofRoute(guards.voterWrite), async (c) => {
    const simulator = deps.mode === "local" ? valueOf(deps.worldId)?.simulator : undefined;
    if (!simulator) throw new ApiError(404, "not_found", "The simulated World ID exists only in local mode.");
    const body = c.req.valid("json");
    const outcome = simulator.prove({ rpContext: body.rpContext, action: body.action, signal: body.signal, human: body.human ?? randomUUID() });
    // The simulated World App refused to make a proof (IDKit's request-flow error in details.code).
    if (!outcome.made) throw new ApiError(400, "invalid_proof", outcome.message, REFUSAL_PARAM[outcome.code], { code: outcome.code });
    return c.json(outcome.result, 200);
  });

  return router;
}
