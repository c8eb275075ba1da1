// Simulated World ID (local mode only), in two halves that share one secret, the "simulated World ID
// network key":
//
// - `simulateWorldIdProof` plays World App plus the World ID network (OPRF nodes) for one simulated human.
//   As in World ID 4, the relying party's signature is checked when the proof is MADE: the request
//   (IDKit's rp_context) must be signed by the signer registered for its rp_id, else the network refuses
//   with IDKit's request-flow errors (`unknown_rp`, `invalid_rp_signature`, `rp_signature_expired`). It
//   returns an IDKit v4 uniqueness result in the exact wire shape IDKit hands to a page. Behind the
//   local-mode endpoint POST /api/v1/voter/simulated-proof (`proofSimulator`), and used by tests playing
//   World App.
// - `checkSimulatedProof` is what the simulated portal (./portal.ts) runs instead of a Groth16 verifier:
//   like the real portal's verify, it checks the proof against its public inputs, not an ECDSA signature.
//
// How a simulated proof is built (5 elements of 32 bytes, like a real one: 4 proof elements + root):
//   proof[0]     the seal: HMAC-SHA256(network key, public inputs) shifted right by 8 bits (a 248-bit
//                value, below the BN254 field modulus like every real element), where the public inputs
//                are rp_id, nonce, action, signal_hash, nullifier, issuer_schema_id, expires_at_min and
//                the merkle root
//   proof[1..3]  fixed field elements (the simulated circuit's other outputs: constants here)
//   proof[4]     a fixed "merkle root" of the simulated World ID set
// Without the network key nobody can make a proof (so a nonce the RP never signed never gets one), and a
// proof cannot be changed after proving: a swapped signal_hash, nullifier, nonce or action no longer
// matches its seal, nor does an altered element (all four are compared in constant time), and it fails
// with `verification_error`.
// What it cannot model: zero knowledge and sybil resistance. Anyone can simulate any number of humans —
// which is what local mode is for; production never has a network key and never accepts these proofs
// (the real portal verifies).
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";
import { hexToBytes, keccak256, toBytes, type Hex } from "viem";
import { computeRpSignatureMessage } from "@worldcoin/idkit-core/signing";
import {
  canonicalFieldHex,
  hashSignal,
  type IdkitResponseItemV4,
  type IdkitResultV4,
  type ProofRefusalCode,
  type RpContextWire,
  type WorldIdProofSimulator,
} from "../../voting";
import { isSignedBy } from "./rp-signature";

export const SIMULATED_IDENTIFIER = "proof_of_human";
export const SIMULATED_ISSUER_SCHEMA_ID = 1;
const COMMITMENT_DOMAIN = "quali-simulated-world-id-v1";
const SEAL_DOMAIN = "quali-simulated-world-id-v2:seal";
/** proof[0..3]: the seal and three fixed elements. */
const SEAL_ELEMENTS = 4;
const CREDENTIAL_LIFETIME_S = 365 * 24 * 3600;
/** Bytes of the simulated network key. */
export const NETWORK_KEY_BYTES = 32;

/** keccak256 shifted right by 8 bits: a BN254-sized field element, as World ID hashes to the field. */
export function hashToFieldHex(input: string | Uint8Array): Hex {
  const hash = BigInt(keccak256(typeof input === "string" ? toBytes(input) : input)) >> 8n;
  return `0x${hash.toString(16).padStart(64, "0")}`;
}

export const SIMULATED_MERKLE_ROOT = hashToFieldHex(`${COMMITMENT_DOMAIN}:merkle-root`);

/**
 * The simulated World ID network: its secret key (seals every proof it makes; the portal stand-in checks
 * the seals with the same key) and its relying-party registry (the signer each rp_id is registered with).
 */
export interface SimulatedWorldIdNetwork {
  key: Uint8Array;
  relyingParties: readonly { rpId: string; signerAddress: string }[];
}

/** A network key from hex (64 hex digits, 0x optional); throws when it is not exactly 32 bytes. */
export function parseNetworkKey(hex: string): Uint8Array {
  const digits = hex.trim().replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{64}$/.test(digits)) throw new Error(`the simulated World ID network key must be ${NETWORK_KEY_BYTES} bytes of hex`);
  return new Uint8Array(Buffer.from(digits, "hex"));
}

export type { RpContextWire };
export type SimulatedResponseItem = IdkitResponseItemV4;
export type SimulatedIdkitResult = IdkitResultV4;

/** Why the simulated World App / network refused to make a proof (IDKit's request-flow error codes). */
export type SimulationErrorCode = ProofRefusalCode;

export class SimulationError extends Error {
  override name = "SimulationError";
  constructor(
    readonly code: SimulationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The simulated human's RP- and action-scoped nullifier: stable per (human, rp, action). */
export function simulatedNullifier(human: string, rpId: string, action: string): Hex {
  return hashToFieldHex(`${COMMITMENT_DOMAIN}:nullifier:${rpId}:${action}:${human}`);
}

interface PublicInputs {
  rpId: string;
  /** Canonical (0x + 64 lower-case hex) field elements. */
  nonce: string;
  signalHash: string;
  nullifier: string;
  action: string;
  issuerSchemaId: number;
  expiresAtMin: number;
  root: string;
}

/** proof[1..3]: fixed field elements (computed once). */
const FIXED_ELEMENTS = [1, 2, 3].map((i) => hashToFieldHex(`${SEAL_DOMAIN}:element:${i}`));
const FIXED_BYTES = Buffer.from(FIXED_ELEMENTS.map((hex) => hex.slice(2)).join(""), "hex");

/** The network key as a KeyObject (imported once per key). */
const keyObjects = new WeakMap<Uint8Array, KeyObject>();
function keyObjectOf(key: Uint8Array): KeyObject {
  let object = keyObjects.get(key);
  if (!object) {
    object = createSecretKey(key);
    keyObjects.set(key, object);
  }
  return object;
}

/** proof[0..3] for these public inputs: the seal, then the fixed elements (SEAL_ELEMENTS × 32 bytes). */
function sealedElements(key: Uint8Array, inputs: PublicInputs): Buffer {
  const message = JSON.stringify([
    SEAL_DOMAIN,
    inputs.rpId,
    inputs.nonce,
    inputs.action,
    inputs.signalHash,
    inputs.nullifier,
    inputs.issuerSchemaId,
    inputs.expiresAtMin,
    inputs.root,
  ]);
  const out = Buffer.alloc(32 * SEAL_ELEMENTS);
  // Shifted right by 8 bits: the first byte stays 0, so the element is below the BN254 modulus.
  createHmac("sha256", keyObjectOf(key)).update(message).digest().copy(out, 1, 0, 31);
  FIXED_BYTES.copy(out, 32);
  return out;
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/;

/**
 * World App plus the network for a simulated human: checks the request is well formed, signed by the
 * relying party registered for its rp_id and still valid, then returns the IDKit result a real World App
 * would hand back, sealed with the network key. Throws a SimulationError when it refuses.
 * `human` is any string; the same human always gets the same nullifier for the same action.
 */
export function simulateWorldIdProof(input: {
  network: SimulatedWorldIdNetwork;
  rpContext: RpContextWire;
  action: string;
  signal: string;
  human: string;
  environment?: string;
  nowSeconds?: number;
}): SimulatedIdkitResult {
  const { network, rpContext, action, signal, human } = input;
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (!HEX32.test(rpContext.nonce)) throw new SimulationError("malformed_request", "rp_context.nonce must be a 32-byte hex field element.");
  if (!/^0x[0-9a-fA-F]{130}$/.test(rpContext.signature)) {
    throw new SimulationError("malformed_request", "rp_context.signature must be a 65-byte hex signature.");
  }
  if (!Number.isSafeInteger(rpContext.created_at) || !Number.isSafeInteger(rpContext.expires_at) || rpContext.created_at < 0) {
    throw new SimulationError("malformed_request", "rp_context.created_at and expires_at must be unix seconds.");
  }
  if (action.length === 0) throw new SimulationError("malformed_request", "action is required for a uniqueness proof.");
  const rp = network.relyingParties.find((p) => p.rpId === rpContext.rp_id);
  if (!rp) throw new SimulationError("unknown_rp", `rp_context.rp_id "${rpContext.rp_id}" is not a registered relying party.`);
  if (rpContext.expires_at <= now) throw new SimulationError("rp_signature_expired", "The relying party's request has expired.");
  if (rpContext.created_at > now + 60) throw new SimulationError("malformed_request", "rp_context.created_at is in the future.");

  const nonce = canonicalFieldHex(rpContext.nonce)!;
  const signature = rpContext.signature.toLowerCase();
  const message = computeRpSignatureMessage(hexToBytes(nonce as Hex), rpContext.created_at, rpContext.expires_at, action);
  const signed = isSignedBy(
    message,
    { r: BigInt(`0x${signature.slice(2, 66)}`), s: BigInt(`0x${signature.slice(66, 130)}`), v: Number.parseInt(signature.slice(130, 132), 16) },
    rp.signerAddress,
  );
  if (!signed) {
    throw new SimulationError("invalid_rp_signature", "rp_context is not signed by the relying party registered for this rp_id (nonce, action and times are signed).");
  }

  const signalHash = hashSignal(signal);
  const nullifier = simulatedNullifier(human, rp.rpId, action);
  const expiresAtMin = now + CREDENTIAL_LIFETIME_S;
  const sealed = sealedElements(network.key, {
    rpId: rp.rpId,
    nonce,
    action,
    signalHash,
    nullifier,
    issuerSchemaId: SIMULATED_ISSUER_SCHEMA_ID,
    expiresAtMin,
    root: SIMULATED_MERKLE_ROOT,
  });
  const proof: string[] = [];
  for (let i = 0; i < SEAL_ELEMENTS; i++) proof.push(`0x${sealed.toString("hex", 32 * i, 32 * (i + 1))}`);
  proof.push(SIMULATED_MERKLE_ROOT);
  return {
    protocol_version: "4.0",
    nonce: rpContext.nonce,
    action,
    environment: input.environment ?? "production",
    responses: [
      {
        identifier: SIMULATED_IDENTIFIER,
        signal_hash: signalHash,
        proof,
        nullifier,
        issuer_schema_id: SIMULATED_ISSUER_SCHEMA_ID,
        expires_at_min: expiresAtMin,
      },
    ],
  };
}

/** The simulated World App for the local-mode endpoint: refusals are answers, not exceptions. */
export function proofSimulator(network: SimulatedWorldIdNetwork, environment: "production" | "staging"): WorldIdProofSimulator {
  return {
    prove(request) {
      try {
        return { made: true, result: simulateWorldIdProof({ network, ...request, environment }) };
      } catch (error) {
        if (error instanceof SimulationError) return { made: false, code: error.code, message: error.message };
        throw error;
      }
    },
  };
}

export type SimulatedProofCheck = { ok: true; nullifier: string } | { ok: false; code: string; detail: string };

/**
 * The simulated portal's proof check for one response item of a 4.0 result: well formed, sealed by the
 * simulated network for exactly these public inputs (rp_id, nonce, action, signal_hash, nullifier,
 * issuer_schema_id, expires_at_min, root), for the known root, credential still valid.
 */
export function checkSimulatedProof(
  item: unknown,
  context: { networkKey: Uint8Array; rpId: string; nonce: string; action: string; nowSeconds: number },
): SimulatedProofCheck {
  const fail = (code: string, detail: string): SimulatedProofCheck => ({ ok: false, code, detail });
  const i = item as Partial<Record<keyof SimulatedResponseItem, unknown>> | null;
  if (typeof i !== "object" || i === null) return fail("invalid_proof", "Each response must be an object.");
  const elements = i.proof;
  if (!Array.isArray(elements) || elements.length !== SEAL_ELEMENTS + 1 || !elements.every((e) => typeof e === "string" && HEX32.test(e))) {
    return fail("invalid_proof", `proof must be an array of exactly ${SEAL_ELEMENTS + 1} 32-byte hex strings.`);
  }
  const nullifier = canonicalFieldHex(i.nullifier);
  if (!nullifier) return fail("invalid_proof", "nullifier must be a hex field element.");
  if (typeof i.issuer_schema_id !== "number" || !Number.isSafeInteger(i.issuer_schema_id)) {
    return fail("invalid_proof", "issuer_schema_id must be an integer.");
  }
  if (typeof i.expires_at_min !== "number" || !Number.isSafeInteger(i.expires_at_min)) {
    return fail("invalid_proof", "expires_at_min must be unix seconds.");
  }
  const signalHash = canonicalFieldHex(i.signal_hash ?? "0x0");
  if (!signalHash) return fail("invalid_proof", "signal_hash must be a hex field element.");
  const nonce = canonicalFieldHex(context.nonce);
  if (!nonce) return fail("invalid_proof", "nonce must be a hex field element.");

  const root = (elements[SEAL_ELEMENTS] as string).toLowerCase();
  const expected = sealedElements(context.networkKey, {
    rpId: context.rpId,
    nonce,
    action: context.action,
    signalHash,
    nullifier,
    issuerSchemaId: i.issuer_schema_id,
    expiresAtMin: i.expires_at_min,
    root,
  });
  const given = Buffer.alloc(32 * SEAL_ELEMENTS);
  for (let e = 0; e < SEAL_ELEMENTS; e++) given.write((elements[e] as string).slice(2), 32 * e, 32, "hex");
  if (!timingSafeEqual(given, expected) || root !== SIMULATED_MERKLE_ROOT) {
    return fail("verification_error", "Proof verification failed: the proof does not match its public inputs (signal_hash, nullifier, nonce or action).");
  }
  if (i.expires_at_min <= context.nowSeconds) return fail("credential_expired", "The credential has expired.");
  return { ok: true, nullifier };
}
