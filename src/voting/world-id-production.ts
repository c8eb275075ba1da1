// The production World ID verifier from the Config, with no runtime module of its own, so the Node
// server and the Workers entry build it the same way: the real
// Developer Portal (or WORLD_ID_VERIFY_BASE_URL), and no verifier at all when a WORLD_ID_* variable is
// missing (voting answers 503 world_id_not_configured). Never a stand-in, never simulated proofs, never the
// staging environment (the World ID simulator's proofs have no human behind them).
import type { Config } from "../config";
import { createWorldIdVerifier, DEFAULT_WORLD_ID_VERIFY_BASE_URL, type WorldIdVerifier } from "./world-id";

export function productionWorldIdVerifier(config: Config, log: (line: string) => void): WorldIdVerifier | undefined {
  const w = config.worldId;
  if (config.problems.some((p) => p.area === "world_id") || !w.appId || !w.rpId || !w.signingKey || w.environment !== "production") {
    log(`world id: not configured (voting answers 503)${w.environment !== "production" ? `: WORLD_ID_ENVIRONMENT=${w.environment} is refused in production` : ""}`);
    return undefined;
  }
  const verifyBaseUrl = w.verifyBaseUrl ?? DEFAULT_WORLD_ID_VERIFY_BASE_URL;
  log(`world id: app ${w.appId}, rp ${w.rpId}, verifying at ${verifyBaseUrl}`);
  return createWorldIdVerifier({
    appId: w.appId,
    rpId: w.rpId,
    signingKey: w.signingKey,
    verifyBaseUrl,
    environment: w.environment,
    timeoutMs: w.timeoutMs,
    portalCallsPerMinute: w.portalCallsPerMinute,
    simulated: false,
  });
}
