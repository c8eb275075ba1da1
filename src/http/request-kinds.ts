// Which requests are voter writes and which are discovery probes: one definition for the CORS policy
// (src/discovery/cors.ts) and the rate limits (installRateLimits in src/app.ts), so the two never
// disagree about a path.
import type { Context } from "hono";

/** The voter-side write paths; our own pages are their only callers. */
export const VOTER_WRITE_PATHS = {
  /** POST /api/v1/polls/{id}/world-id-request: a signed World ID request (one row each). */
  worldIdRequest: /^\/api\/v1\/polls\/[^/]+\/world-id-request\/?$/,
  /** POST /api/v1/polls/{id}/votes: a vote, verified with the World ID portal. */
  votes: /^\/api\/v1\/polls\/[^/]+\/votes\/?$/,
  /** POST /api/v1/voter/…: voter account writes (payout requests, the local simulated proof). */
  voterAccount: /^\/api\/v1\/voter(\/|$)/,
} as const;

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** A write to a voter path: counted per client IP (a carrier-NAT ceiling) and per voter, never as API traffic. */
export function isVoterWrite(method: string, path: string): boolean {
  if (!WRITE_METHODS.has(method.toUpperCase())) return false;
  return VOTER_WRITE_PATHS.worldIdRequest.test(path) || VOTER_WRITE_PATHS.votes.test(path) || VOTER_WRITE_PATHS.voterAccount.test(path);
}

const PAID_RESOURCE = /^\/api\/v1\/polls\/?$/;

/**
 * A crawler's probe that must never be answered 429 (x402 indexers skip a service that limits them): the
 * unpaid POST of the paid resource, answered with the 402 challenge (or a 400) from memory, without any
 * outside call. /openapi.json and /.well-known/* are outside /api/* and never limited at all.
 */
export function isDiscoveryProbe(c: Context): boolean {
  if (c.req.method !== "POST" || !PAID_RESOURCE.test(c.req.path)) return false;
  return c.req.header("payment-signature") === undefined && c.req.header("x-payment") === undefined;
}
