// Local mode's World ID: the production verifier's code with placeholder app/rp ids, the keys of DATA_DIR
// (./keys.ts), a simulated World ID network that makes proofs for simulated humans (POST
// /api/v1/voter/simulated-proof) and a simulated portal that verifies them in process, both holding the
// same network key. WORLD_ID_VERIFY_BASE_URL sends verification to another portal instead (tests that
// run their own stand-in over HTTP, ./standin.ts). Production builds its verifier in src/voting and never
// reaches this file.
import type { Config } from "../../config";
import { createWorldIdVerifier, type WorldIdVerifier } from "../../voting";
import { localNetworkKey, localSigningKey, signerAddressOf } from "./keys";
import { createSimulatedPortal, type PortalControls } from "./portal";
import { proofSimulator, type SimulatedWorldIdNetwork } from "./simulator";

export const LOCAL_WORLD_ID_APP_ID = "app_local_quali";
export const LOCAL_WORLD_ID_RP_ID = "rp_local_quali";
/** Never resolved: the in-process portal answers calls to it before any network is involved. */
const IN_PROCESS_PORTAL_URL = "http://world-id-portal.invalid";

export interface LocalWorldId {
  verifier: WorldIdVerifier;
  /** The in-process portal (its requests and failure modes, for tests); absent with WORLD_ID_VERIFY_BASE_URL. */
  portal: PortalControls | undefined;
}

export function startLocalWorldId(config: Config, options: { dataDir: string; log: (line: string) => void }): LocalWorldId {
  const w = config.worldId;
  const appId = w.appId ?? LOCAL_WORLD_ID_APP_ID;
  const rpId = w.rpId ?? LOCAL_WORLD_ID_RP_ID;
  const signingKey = w.signingKey ?? localSigningKey(options.dataDir);
  const network: SimulatedWorldIdNetwork = {
    key: localNetworkKey(options.dataDir),
    relyingParties: [{ rpId, signerAddress: signerAddressOf(signingKey) }],
  };
  const portal = w.verifyBaseUrl ? undefined : createSimulatedPortal({ relyingParties: [{ rpId, appId }], networkKey: network.key, environment: w.environment });
  options.log(`world id: SIMULATED (local mode) — app ${appId}, rp ${rpId}, ` + (portal ? "portal simulated in process" : `verifying at ${w.verifyBaseUrl}`));
  const verifier = createWorldIdVerifier({
    appId,
    rpId,
    signingKey,
    verifyBaseUrl: w.verifyBaseUrl ?? IN_PROCESS_PORTAL_URL,
    environment: w.environment,
    timeoutMs: w.timeoutMs,
    portalCallsPerMinute: w.portalCallsPerMinute,
    simulated: true,
    simulator: proofSimulator(network, w.environment),
    ...(portal ? { fetch: portal.fetch } : {}),
  });
  return { verifier, portal };
}
