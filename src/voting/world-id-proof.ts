// What a vote's proof must say about itself before the portal is asked: the World ID environment this
// deployment verifies, stated (a result without one could be from anywhere, the simulator included), and
// the credential the vote asked for (proof of human), in every response. Each refusal is 400
// invalid_proof with `details.reason` saying which rule.
import { ApiError } from "../http/errors";
import { REQUESTED_CREDENTIAL } from "./world-id";

export type ProofPolicyReason = "environment_missing" | "environment_mismatch" | "credential_mismatch";

interface ProofClaims {
  environment?: unknown;
  responses: readonly { identifier?: unknown; issuer_schema_id?: unknown }[];
}

const refuse = (reason: ProofPolicyReason, message: string, param: string) => new ApiError(400, "invalid_proof", message, param, { reason });

/** Throws 400 invalid_proof unless the proof is for `environment` and every response is the requested credential. */
export function checkProofPolicy(proof: ProofClaims, environment: "production" | "staging"): void {
  // A staging proof (World ID simulator, no human behind it) must never count in production, and IDKit
  // always states the environment: a result without it did not come from IDKit unchanged.
  if (proof.environment === undefined || proof.environment === null || proof.environment === "") {
    throw refuse("environment_missing", `proof.environment is required: it must be "${environment}", the environment this deployment verifies.`, "proof.environment");
  }
  if (proof.environment !== environment) {
    throw refuse("environment_mismatch", `proof.environment must be "${environment}", the environment this deployment verifies.`, "proof.environment");
  }
  proof.responses.forEach((item, index) => {
    if (item.identifier !== REQUESTED_CREDENTIAL.identifier || item.issuer_schema_id !== REQUESTED_CREDENTIAL.issuerSchemaId) {
      throw refuse(
        "credential_mismatch",
        `Votes ask for the "${REQUESTED_CREDENTIAL.identifier}" credential (issuer schema ${REQUESTED_CREDENTIAL.issuerSchemaId}); ` +
          `proof.responses[${index}] is for another one.`,
        `proof.responses.${index}.identifier`,
      );
    }
  });
}
