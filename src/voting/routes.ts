// The voting API: the voter feed, World ID proof requests, votes, the simulated World ID (local mode),
// and the rewards ledger.
import { randomInt, randomUUID } from "node:crypto";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { ConfigProblem, Mode } from "../config";
import type { PollOptionRow, PollRow } from "../db/schema";
import type { Store } from "../db/store";
import { ApiError } from "../http/errors";
import { ErrorResponse } from "../http/openapi-shapes";
import { decodeCursor, encodeCursor, parseLimit } from "../http/pagination";
import type { NetworkSpec } from "../payment/networks";
import { POLLS_PATH } from "../payment/payment-server";
import { REWARD_PER_VOTE_ATOMIC, usdcNumber } from "../payment/pricing";
import { effectiveStatus, transitionStatements, visibleStatus, type TransitionListener } from "../polls/lifecycle";
import { findOptions, findOptionsOfPolls, findPoll, groupOptionsByPoll } from "../polls/repo";
import { payoutSummaries, unpaidByNetwork } from "../payouts/repo";
import { parkedPayoutView, payoutView } from "../payouts/views";
import { assertPayableAddress, type PayoutAddressPolicy } from "../payouts/address-policy";
import { newVoteId, recordVote } from "./record-vote";
import { findOptionIds, findVotePoll } from "./vote-queries";
import { findRewardBalances, findVotablePolls, findWorldIdRequest, insertWorldIdRequest, type FeedPollRow } from "./repo";
import { requestIdOf } from "../http/hardening";
import type { Logger } from "../http/logger";
import { addResponseHeaders, respond } from "../http/response-headers";
import { createFeedPages } from "./feed-pages";
import { registerOwnerRewards } from "./rewards-owner";
import { PublicRewardsResponse, publicRewards } from "./rewards-public";
import {
  CastVoteBody,
  CastVoteResponse,
  EvmAddress,
  IdkitResult,
  PageQuery,
  RewardsQuery,
  RewardsResponse,
  SimulatedProofBody,
  VoterPoll,
  VoterPollList,
  WorldIdRequestBody,
  WorldIdRequestResponse,
} from "./schema";
import { canonicalFieldHex, hashSignal, pollAction, voteSignal, type WorldIdVerifier } from "./world-id";
import { simulateWorldIdProof, SimulationError, type SimulationErrorCode } from "./world-id-simulator";
import { verifyOnce } from "./world-id-nonce";
import { checkProofPolicy } from "./world-id-proof";

export const VOTER_PATH = "/api/v1/voter";
/** A proof request can be turned into a vote for this long after it was issued. */
export const WORLD_ID_REQUEST_WINDOW_MS = 15 * 60_000;

export interface VotingDeps {
  store: Store;
  mode: Mode;
  publicBaseUrl: string;
  problems: readonly ConfigProblem[];
  knownNetworks: readonly NetworkSpec[];
  worldId: WorldIdVerifier | undefined;
  transitionListeners: readonly TransitionListener[];
  now: () => Date;
  log: Logger;
  /** Payout addresses rewards could never reach are refused (src/payouts/address-policy.ts). */
  payoutAddresses?: PayoutAddressPolicy;
}

const error = (description: string) => ({ description, content: { "application/json": { schema: ErrorResponse } } });
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, example: "3f0c…" }) });

const voterPollsRoute = createRoute({
  method: "get",
  path: `${VOTER_PATH}/polls`,
  summary: "Polls a voter can answer now",
  description:
    "Active polls (settled, not expired, not full), newest first, cursor-paginated (limit 1–100, default 20). " +
    "Public fields only; options come in a fresh random order per request.",
  request: { query: PageQuery },
  responses: { 200: json(VoterPollList, "A page of votable polls"), 400: error("Invalid limit or cursor") },
});

const voterPollRoute = createRoute({
  method: "get",
  path: `${VOTER_PATH}/polls/{id}`,
  summary: "One poll as the voter page shows it",
  request: { params: IdParam },
  responses: { 200: json(VoterPoll, "The poll (status tells whether it can still be answered)"), 404: error("Poll not found or not settled") },
});

const worldIdRequestRoute = createRoute({
  method: "post",
  path: `${POLLS_PATH}/{id}/world-id-request`,
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

const castVoteRoute = createRoute({
  method: "post",
  path: `${POLLS_PATH}/{id}/votes`,
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

const simulatedProofRoute = createRoute({
  method: "post",
  path: `${VOTER_PATH}/simulated-proof`,
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
const SIMULATION_ERROR_PARAM: Record<SimulationErrorCode, string> = {
  malformed_request: "rpContext",
  rp_signature_expired: "rpContext.expires_at",
  invalid_rp_signature: "rpContext.signature",
  unknown_rp: "rpContext.rp_id",
};

const rewardsRoute = createRoute({
  method: "get",
  path: `${VOTER_PATH}/rewards`,
  summary: "Payouts made to a payout address, per network (public)",
  description:
    "What anyone may see: per network where the address has had a payout, pending (a payout on its way) and paid " +
    "(confirmed transfers), and the recent payouts with their transaction hashes. Nothing here changes when a vote is " +
    "credited: the vote count, accrued and unpaid balances are for the owner (POST /api/v1/voter/rewards, signed).",
  request: { query: RewardsQuery },
  responses: { 200: json(PublicRewardsResponse, "The address's payouts"), 400: error("Missing or invalid address") },
});

function notFound(): ApiError {
  return new ApiError(404, "poll_not_found", "No settled poll has this id.", "id");
}

async function settledPoll(deps: VotingDeps, id: string): Promise<PollRow> {
  const poll = await findPoll(deps.store.db, id);
  if (!poll || poll.status === "pending_payment" || poll.status === "payment_failed") throw notFound();
  return poll;
}

/** 409 for a poll that cannot take votes now, else undefined. */
type VotabilityFields = Pick<PollRow, "id" | "status" | "vote_count" | "max_responses" | "expires_at">;

function closedPollError(poll: VotabilityFields, now: Date): ApiError | undefined {
  if (poll.status === "completed" || poll.vote_count >= poll.max_responses) {
    return new ApiError(409, "poll_full", "This poll already has all the responses it asked for.");
  }
  if (effectiveStatus(poll, now) === "expired") return new ApiError(409, "poll_expired", "This poll has expired.");
  if (poll.status !== "active") return new ApiError(409, "poll_not_active", "This poll is not taking votes.");
  return undefined;
}

/**
 * Throws the 409 for a poll that cannot take votes now. A poll found past its expiry while still active
 * is moved to `expired` on the spot (the same transition the sweep makes), so no job needs to have run.
 */
async function assertVotable(deps: VotingDeps, poll: VotabilityFields, now: Date): Promise<void> {
  const closed = closedPollError(poll, now);
  if (!closed) return;
  if (closed.code === "poll_expired" && poll.status === "active") {
    const transition = transitionStatements(deps.store.db, { pollId: poll.id, to: "expired", at: now.toISOString() }, deps.transitionListeners);
    await deps.store.batch(transition.statements);
  }
  throw closed;
}

function worldIdOrThrow(deps: VotingDeps): WorldIdVerifier {
  const missing = deps.problems.filter((p) => p.area === "world_id");
  if (missing.length > 0 || !deps.worldId) {
    const first = missing[0];
    throw new ApiError(
      503,
      "world_id_not_configured",
      first ? `${first.message} (${first.kind === "refused" ? "refused" : "missing"} ${first.variable})` : "World ID verification is not configured.",
      undefined,
      {
        missing: missing.filter((p) => p.kind !== "refused").map((p) => p.variable),
        // Set to a value production does not accept (WORLD_ID_ENVIRONMENT=staging).
        ...(missing.some((p) => p.kind === "refused") ? { refused: missing.filter((p) => p.kind === "refused").map((p) => p.variable) } : {}),
      },
    );
  }
  return deps.worldId;
}

const JSON_HEADERS = { "content-type": "application/json" };

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function networkLabel(deps: VotingDeps, network: string): string {
  return deps.knownNetworks.find((spec) => spec.network === network)?.label ?? network;
}

function toVoterPoll(deps: VotingDeps, poll: FeedPollRow, options: readonly PollOptionRow[], now: Date): z.infer<typeof VoterPoll> {
  return {
    id: poll.id,
    url: `${deps.publicBaseUrl}/polls/${poll.id}`,
    status: visibleStatus(poll, now),
    question: poll.question,
    description: poll.description,
    moreInfoUrl: poll.more_info_url,
    mediaUrl: poll.media_url,
    mediaType: poll.media_type,
    layoutType: poll.layout_type,
    options: shuffled(options).map((o) => ({ id: o.id, text: o.text, mediaUrl: o.media_url })),
    voteCount: poll.vote_count,
    maxResponses: poll.max_responses,
    expiresAt: poll.expires_at,
    reward: {
      network: poll.network,
      networkLabel: networkLabel(deps, poll.network),
      perVoteUsdc: usdcNumber(REWARD_PER_VOTE_ATOMIC),
      perVoteAtomic: REWARD_PER_VOTE_ATOMIC.toString(),
    },
  };
}

interface ProofView {
  nonce: string;
  responses: { signalHash: string | undefined }[];
}

/** Structural checks on the IDKit result before anything is asked of the portal. */
function readProof(proof: z.infer<typeof IdkitResult>, pollId: string, environment: "production" | "staging"): ProofView {
  const invalid = (message: string, param: string) => new ApiError(400, "invalid_proof", message, param);
  if (proof.protocol_version !== "4.0") {
    throw invalid('Only World ID 4 uniqueness proofs (protocol_version "4.0") are accepted.', "proof.protocol_version");
  }
  if ("session_id" in proof) throw invalid("Session proofs cannot vote: send a uniqueness proof for the poll's action.", "proof.session_id");
  if (proof.action !== pollAction(pollId)) {
    throw invalid(`proof.action must be the poll's action "${pollAction(pollId)}".`, "proof.action");
  }
  const nonce = canonicalFieldHex(proof.nonce);
  if (!nonce) throw invalid("proof.nonce must be the hex nonce from world-id-request.", "proof.nonce");
  if (proof.responses.length === 0 || proof.responses.length > 8) {
    throw invalid("proof.responses must hold between 1 and 8 items.", "proof.responses");
  }
  // The environment this deployment verifies, and the credential the vote asked for (world-id-proof.ts).
  checkProofPolicy(proof, environment);
  return { nonce, responses: proof.responses.map((item) => ({ signalHash: canonicalFieldHex(item.signal_hash) })) };
}

/** Why the vote write inserted nothing (it re-reads the state the guards saw). */
async function refusal(deps: VotingDeps, pollId: string, nonce: string, at: Date): Promise<ApiError> {
  const poll = await findPoll(deps.store.db, pollId);
  if (!poll) return notFound();
  try {
    await assertVotable(deps, poll, at);
  } catch (closed) {
    if (closed instanceof ApiError) return closed;
    throw closed;
  }
  const request = await findWorldIdRequest(deps.store.db, nonce);
  if (request?.used_at) return new ApiError(409, "nonce_used", "This World ID request was already used for a vote.", "proof.nonce");
  if (!request || Date.parse(request.expires_at) <= at.getTime()) {
    return new ApiError(400, "nonce_expired", "This World ID request has expired: start again with world-id-request.", "proof.nonce");
  }
  return new ApiError(409, "poll_not_active", "The vote could not be recorded; try again.");
}

export function registerVoting(app: OpenAPIHono, deps: VotingDeps): void {
  const { db } = deps.store;

  const feedPages = createFeedPages(deps.store);
  app.openapi(voterPollsRoute, async (c) => {
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
    const body = {
      polls: page.map((poll) => toVoterPoll(deps, poll, optionsByPoll.get(poll.id) ?? [], now)),
      nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
    };
    return respond(c, 200, JSON.stringify(body), JSON_HEADERS) as never;
  });

  app.openapi(voterPollRoute, async (c) => {
    const { id } = c.req.valid("param");
    const poll = await settledPoll(deps, id);
    return c.json(toVoterPoll(deps, poll, await findOptions(db, id), deps.now()), 200);
  });

  app.openapi(worldIdRequestRoute, async (c) => {
    const worldId = worldIdOrThrow(deps);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const poll = await settledPoll(deps, id);
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
    await deps.store.batch([
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

  app.openapi(castVoteRoute, async (c) => {
    const worldId = worldIdOrThrow(deps);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    // Only the columns a vote reads (src/voting/vote-queries.ts).
    const poll = await findVotePoll(db, id);
    if (!poll || poll.status === "pending_payment" || poll.status === "payment_failed") throw notFound();
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
    const { verdict, claim } = await verifyOnce(deps.store, worldId, body.proof, { nonce: proof.nonce, pollId: id, at: deps.now() });
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
      deps.store,
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
      throw await refusal(deps, id, proof.nonce, at);
    }
    const after = (await findVotePoll(db, id))!;
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
        networkLabel: networkLabel(deps, poll.network),
        payoutAddress: body.payoutAddress,
        amountUsdc: usdcNumber(REWARD_PER_VOTE_ATOMIC),
        amountAtomic: REWARD_PER_VOTE_ATOMIC.toString(),
      },
    };
    // Built once with the edge's headers (src/http/response-headers.ts): the same bytes as c.json.
    return respond(c, 201, JSON.stringify(answer), JSON_HEADERS) as never;
  });

  app.openapi(simulatedProofRoute, async (c) => {
    const network = deps.mode === "local" ? deps.worldId?.simulation : undefined;
    if (!network) throw new ApiError(404, "not_found", "The simulated World ID exists only in local mode.");
    const body = c.req.valid("json");
    try {
      const result = simulateWorldIdProof({
        network,
        rpContext: body.rpContext,
        action: body.action,
        signal: body.signal,
        human: body.human ?? randomUUID(),
        environment: deps.worldId?.environment ?? "production",
      });
      return c.json(result, 200);
    } catch (err) {
      // The simulated World App refused to make a proof (IDKit's request-flow error in details.code):
      // 400 invalid_proof, param naming the rp_context field at fault.
      if (err instanceof SimulationError) throw new ApiError(400, "invalid_proof", err.message, SIMULATION_ERROR_PARAM[err.code], { code: err.code });
      throw err;
    }
  });

  /** An address's rewards in full: the owner's view (POST, signed); the public GET answers a cut of it. */
  const rewardsOf = async (address: string): Promise<z.infer<typeof RewardsResponse>> => {
    const balances = await findRewardBalances(db, address);
    const [unpaid, payouts] = await Promise.all([unpaidByNetwork(db, address), payoutSummaries(db, address)]);
    return {
      address,
      totalVotes: balances.reduce((sum, b) => sum + b.votes, 0),
      rewards: balances.map((b) => {
        const accrued = BigInt(b.accrued_atomic);
        const summary = payouts.get(b.network);
        const unpaidAtomic = unpaid.get(b.network) ?? 0n;
        const pending = summary?.pendingAtomic ?? 0n;
        const paid = summary?.paidAtomic ?? 0n;
        return {
          network: b.network,
          networkLabel: networkLabel(deps, b.network),
          votes: b.votes,
          accruedAtomic: accrued.toString(),
          accruedUsdc: usdcNumber(accrued),
          unpaidAtomic: unpaidAtomic.toString(),
          unpaidUsdc: usdcNumber(unpaidAtomic),
          pendingAtomic: pending.toString(),
          pendingUsdc: usdcNumber(pending),
          paidAtomic: paid.toString(),
          paidUsdc: usdcNumber(paid),
          payouts: (summary?.recent ?? []).map(payoutView),
          parked: (summary?.parked ?? []).map(parkedPayoutView),
        };
      }),
    };
  };

  app.openapi(rewardsRoute, async (c) => {
    const raw = c.req.valid("query").address;
    const parsed = EvmAddress.safeParse(raw ?? "");
    if (!parsed.success) throw new ApiError(400, "validation_error", "address: must be a 0x-prefixed 20-byte address.", "address");
    return c.json(publicRewards(await rewardsOf(parsed.data)), 200);
  });
  registerOwnerRewards(app, { now: deps.now, view: rewardsOf });
}
