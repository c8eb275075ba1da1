// Builds the World ID verifier from the Config. Production: the real Developer Portal (or
// WORLD_ID_VERIFY_BASE_URL), and no verifier at all when a WORLD_ID_* variable is missing (voting answers
// 503). Local mode: a relying-party key and a simulated World ID network key kept in DATA_DIR (0600, so
// requests and proofs survive a restart), placeholder app/rp ids, the simulated network (World App + the
// nodes: POST /api/v1/voter/simulated-proof) and the portal stand-in started in-process on a loopback
// port, both given the same network key — unless WORLD_ID_VERIFY_BASE_URL points elsewhere (tests that run
// their own stand-in with the key from DATA_DIR/world-id-network-key). Production never has a network
// key and never starts the stand-in.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { privateKeyToAddress } from "viem/accounts";
import type { Config } from "../config";
import { createWorldIdVerifier, type WorldIdVerifier } from "./world-id";
import { createNodeHttpFetch } from "./node-http-fetch";
import { productionWorldIdVerifier } from "./world-id-production";
import { NETWORK_KEY_BYTES, parseNetworkKey, type SimulatedWorldIdNetwork } from "./world-id-simulator";
import { startWorldIdStandin, type WorldIdStandin } from "./world-id-standin";

export const LOCAL_WORLD_ID_APP_ID = "app_local_quali";
export const LOCAL_WORLD_ID_RP_ID = "rp_local_quali";

export interface WorldIdRuntime {
  verifier: WorldIdVerifier | undefined;
  /** The in-process portal stand-in (local mode only). */
  standin: WorldIdStandin | undefined;
  close(): Promise<void>;
}

function localSigningKey(dataDir: string): string {
  const path = join(dataDir, "world-id-rp-signing-key");
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const key = `0x${randomBytes(32).toString("hex")}`;
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return key;
}

/** File in DATA_DIR holding the simulated World ID network key (local mode). */
export const NETWORK_KEY_FILE = "world-id-network-key";

/**
 * The simulated World ID network key of a local data directory: read from DATA_DIR/world-id-network-key,
 * or created there (0600) on first use. Shared by the simulator and the portal stand-in.
 */
export function localNetworkKey(dataDir: string): Uint8Array {
  const path = join(dataDir, NETWORK_KEY_FILE);
  if (existsSync(path)) return parseNetworkKey(readFileSync(path, "utf8"));
  const key = randomBytes(NETWORK_KEY_BYTES);
  writeFileSync(path, `0x${key.toString("hex")}\n`, { mode: 0o600 });
  return new Uint8Array(key);
}

export function signerAddressOf(signingKey: string): string {
  return privateKeyToAddress((signingKey.startsWith("0x") ? signingKey : `0x${signingKey}`) as `0x${string}`);
}

export async function startWorldId(config: Config, options: { dataDir: string; log: (line: string) => void }): Promise<WorldIdRuntime> {
  const w = config.worldId;
  if (config.mode === "production") {
    return { verifier: productionWorldIdVerifier(config, options.log), standin: undefined, close: async () => {} };
  }

  const appId = w.appId ?? LOCAL_WORLD_ID_APP_ID;
  const rpId = w.rpId ?? LOCAL_WORLD_ID_RP_ID;
  const signingKey = w.signingKey ?? localSigningKey(options.dataDir);
  const simulation: SimulatedWorldIdNetwork = {
    key: localNetworkKey(options.dataDir),
    relyingParties: [{ rpId, signerAddress: signerAddressOf(signingKey) }],
  };
  let standin: WorldIdStandin | undefined;
  let verifyBaseUrl = w.verifyBaseUrl;
  if (!verifyBaseUrl) {
    standin = await startWorldIdStandin({
      relyingParties: [{ rpId, appId }],
      networkKey: simulation.key,
      host: "127.0.0.1",
      environment: w.environment,
    });
    verifyBaseUrl = standin.url;
  }
  const portalFetch = createNodeHttpFetch();
  options.log(
    `world id: SIMULATED (local mode) — app ${appId}, rp ${rpId}, ` +
      (standin ? `portal stand-in at ${verifyBaseUrl}` : `verifying at ${verifyBaseUrl}`),
  );
  return {
    verifier: createWorldIdVerifier({
      appId,
      rpId,
      signingKey,
      verifyBaseUrl,
      environment: w.environment,
      timeoutMs: w.timeoutMs,
      portalCallsPerMinute: w.portalCallsPerMinute,
      simulated: true,
      simulation,
      // Plain-http calls (the loopback stand-in) through node:http; anything else through the platform fetch.
      fetch: portalFetch.fetch,
    }),
    standin,
    close: async () => {
      portalFetch.close();
      await standin?.close();
    },
  };
}
