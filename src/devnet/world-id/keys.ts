// The keys of local mode's World ID, kept in DATA_DIR (0600) so that proof requests and proofs survive a
// restart: the relying party's signing key (unless WORLD_ID_SIGNING_KEY is set) and the simulated World ID
// network key, which the simulator and the simulated portal share (a test running its own portal reads it
// from DATA_DIR/world-id-network-key).
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { privateKeyToAddress } from "viem/accounts";
import { NETWORK_KEY_BYTES, parseNetworkKey } from "./simulator";

/** File in DATA_DIR holding the simulated World ID network key. */
export const NETWORK_KEY_FILE = "world-id-network-key";
const SIGNING_KEY_FILE = "world-id-rp-signing-key";

/** The relying party's signing key of a local data directory, created there on first use. */
export function localSigningKey(dataDir: string): string {
  const path = join(dataDir, SIGNING_KEY_FILE);
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const key = `0x${randomBytes(32).toString("hex")}`;
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return key;
}

/** The simulated World ID network key of a local data directory, created there on first use. */
export function localNetworkKey(dataDir: string): Uint8Array {
  const path = join(dataDir, NETWORK_KEY_FILE);
  if (existsSync(path)) return parseNetworkKey(readFileSync(path, "utf8"));
  const key = randomBytes(NETWORK_KEY_BYTES);
  writeFileSync(path, `0x${key.toString("hex")}\n`, { mode: 0o600 });
  return new Uint8Array(key);
}

/** The address a relying party's signing key (hex, 0x optional) signs as. */
export function signerAddressOf(signingKey: string): string {
  return privateKeyToAddress((signingKey.startsWith("0x") ? signingKey : `0x${signingKey}`) as `0x${string}`);
}
