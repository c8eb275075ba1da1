// A World ID request (its nonce) reaches the portal at most once. The request is spent — `used_at` set by
// one conditional UPDATE — BEFORE its proof is sent for verification, so a replayed or concurrent vote
// with the same nonce loses the UPDATE and is refused (409 nonce_used) without a portal call: forged
// proofs cannot spend the portal quota more than once per request issued (and requests are rate-limited).
// The vote write then checks the claim (src/voting/record-vote.ts). Only when the portal could not judge
// the proof (unreachable, failing, or not called: the call budget) is the request given back, so the
// voter can send the same proof again.
import { sql } from "kysely";
import type { Store } from "../db/store";
import { ApiError } from "../http/errors";
import type { PortalVerdict, WorldIdVerifier } from "./world-id";

export interface NonceClaim {
  nonce: string;
  /** The used_at the claim wrote (ISO): the vote write requires exactly this claim. */
  claimedAt: string;
}

/** Spends the request for this poll if it is still unused and unexpired; undefined when another vote has it. */
export async function claimWorldIdRequest(store: Store, request: { nonce: string; pollId: string; at: Date }): Promise<NonceClaim | undefined> {
  const claimedAt = request.at.toISOString();
  const [result] = await store.batch([
    store.db
      .updateTable("world_id_requests")
      .set({ used_at: claimedAt })
      .where("nonce", "=", request.nonce)
      .where("poll_id", "=", request.pollId)
      .where("used_at", "is", null)
      .where("expires_at", ">", claimedAt),
  ]);
  return (result?.changes ?? 0) === 1 ? { nonce: request.nonce, claimedAt } : undefined;
}

/** Gives the request back (the portal never judged its proof), unless a vote has used it since. */
export async function releaseWorldIdRequest(store: Store, claim: NonceClaim): Promise<void> {
  await store.batch([
    store.db
      .updateTable("world_id_requests")
      .set({ used_at: null })
      .where("nonce", "=", claim.nonce)
      .where("used_at", "=", claim.claimedAt)
      .where((w) => w.not(w.exists(w.selectFrom("votes").select(sql<number>`1`.as("one")).where("votes.world_id_nonce", "=", claim.nonce)))),
  ]);
}

/** Why a request checked a moment ago could not be claimed: a concurrent vote spent it, or it just expired. */
async function unclaimable(store: Store, nonce: string): Promise<ApiError> {
  const row = await store.db.selectFrom("world_id_requests").select("used_at").where("nonce", "=", nonce).executeTakeFirst();
  if (!row || row.used_at === null) {
    return new ApiError(400, "nonce_expired", "This World ID request has expired: start again with world-id-request.", "proof.nonce");
  }
  return new ApiError(409, "nonce_used", "This World ID request was already used for a vote.", "proof.nonce");
}

/**
 * Claims the request, then asks the portal. Throws 409 nonce_used when the request is spent already (a
 * concurrent vote won the claim); the claim is released again when the verdict is "unavailable".
 */
export async function verifyOnce(
  store: Store,
  worldId: WorldIdVerifier,
  idkitResult: unknown,
  request: { nonce: string; pollId: string; at: Date },
): Promise<{ verdict: PortalVerdict; claim: NonceClaim }> {
  const claim = await claimWorldIdRequest(store, request);
  if (!claim) throw await unclaimable(store, request.nonce);
  let verdict: PortalVerdict;
  try {
    verdict = await worldId.verify(idkitResult);
  } catch (error) {
    await releaseWorldIdRequest(store, claim);
    throw error;
  }
  if (verdict.outcome === "unavailable") await releaseWorldIdRequest(store, claim);
  return { verdict, claim };
}
