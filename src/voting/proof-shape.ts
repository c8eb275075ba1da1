// Structural checks on a vote's IDKit result before anything is asked of the portal.
import type { z } from "@hono/zod-openapi";
import { ApiError } from "../http/errors";
import type { IdkitResult } from "./schema";
import { canonicalFieldHex, pollAction } from "./world-id";
import { checkProofPolicy } from "./world-id-proof";

export interface ProofView {
  /** Canonical 0x + 64 hex. */
  nonce: string;
  responses: { signalHash: string | undefined }[];
}

/** Throws 400 invalid_proof unless the result is a 4.0 uniqueness proof for the poll, of this deployment's environment. */
export function readProof(proof: z.infer<typeof IdkitResult>, pollId: string, environment: "production" | "staging"): ProofView {
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
