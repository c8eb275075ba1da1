// Local mode's simulated World ID (World App, the World ID network and the Developer Portal), for the
// composition root and tests. Production code never imports it.
export { startLocalWorldId, LOCAL_WORLD_ID_APP_ID, LOCAL_WORLD_ID_RP_ID, type LocalWorldId } from "./local";
export { localNetworkKey, localSigningKey, NETWORK_KEY_FILE, signerAddressOf } from "./keys";
export { createSimulatedPortal, type PortalControls, type PortalMode, type RecordedVerifyRequest, type SimulatedPortal } from "./portal";
export { startWorldIdStandin, type WorldIdStandin, type WorldIdStandinOptions } from "./standin";
export {
  checkSimulatedProof,
  proofSimulator,
  simulateWorldIdProof,
  SimulationError,
  type SimulatedIdkitResult,
  type SimulatedWorldIdNetwork,
  type SimulationErrorCode,
} from "./simulator";
