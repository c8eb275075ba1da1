// Whether a poll can take a vote now, and why a vote write that inserted nothing was refused.
import type { PollRow } from "../db/schema";
import type { Store } from "../db/store";
import { ApiError } from "../http/errors";
import { effectiveStatus, findPoll, transitionStatements, type TransitionListener } from "../polls";
import { findWorldIdRequest } from "./repo";

export interface VotabilityDeps {
  store: Store;
  transitionListeners: readonly TransitionListener[];
}

export function pollNotFound(): ApiError {
  return new ApiError(404, "poll_not_found", "No settled poll has this id.", "id");
}

/** The poll, unless it is unknown or not settled (pending and failed polls do not exist to voters). */
export async function settledPoll(store: Store, id: string): Promise<PollRow> {
  const poll = await findPoll(store.db, id);
  if (!poll || poll.status === "pending_payment" || poll.status === "payment_failed") throw pollNotFound();
  return poll;
}

type VotabilityFields = Pick<PollRow, "id" | "status" | "vote_count" | "max_responses" | "expires_at">;

/** 409 for a poll that cannot take votes now, else undefined. */
function closedPollError(poll: VotabilityFields, now: Date): ApiError | undefined {
  if (poll.status === "closed") return new ApiError(409, "poll_closed", "This poll was closed by its creator and takes no more votes.");
  if (poll.status === "removed") return new ApiError(409, "poll_removed", "This poll was taken down and takes no more votes.");
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
export async function assertVotable(deps: VotabilityDeps, poll: VotabilityFields, now: Date): Promise<void> {
  const closed = closedPollError(poll, now);
  if (!closed) return;
  if (closed.code === "poll_expired" && poll.status === "active") {
    const transition = transitionStatements(deps.store.db, { pollId: poll.id, to: "expired", at: now.toISOString() }, deps.transitionListeners);
    await deps.store.batch(transition.statements);
  }
  throw closed;
}

/** Why the vote write inserted nothing (it re-reads the state the guards saw). */
export async function voteRefusal(deps: VotabilityDeps, pollId: string, nonce: string, at: Date): Promise<ApiError> {
  const poll = await findPoll(deps.store.db, pollId);
  if (!poll) return pollNotFound();
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
