// Voting: the voter feed, World ID proof requests and votes, and the World ID verifier they rely on.
// Other features, the devnet side and the composition roots use voting through this file only.
export { votingRoutes, VOTER_PATH, WORLD_ID_REQUEST_WINDOW_MS, type VotingDeps } from "./routes";
export { pruneWorldIdRequests } from "./repo";
export { productionWorldIdVerifier } from "./world-id-production";
export {
  canonicalFieldHex,
  createWorldIdVerifier,
  DEFAULT_WORLD_ID_VERIFY_BASE_URL,
  hashSignal,
  pollAction,
  voteSignal,
  type IdkitResponseItemV4,
  type IdkitResultV4,
  type PortalFetch,
  type PortalVerdict,
  type ProofRefusalCode,
  type RpContextWire,
  type SimulatedProofOutcome,
  type WorldIdProofSimulator,
  type WorldIdSettings,
  type WorldIdVerifier,
} from "./world-id";
