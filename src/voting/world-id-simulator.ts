// Simulated World ID (local mode only). `simulateWorldIdProof` plays World App plus the World ID network
// for one simulated human: given the relying party's signed request (IDKit's rp_context), the action and
// the signal, it returns an IDKit v4 uniqueness result in the exact wire shape IDKit hands to a page.
// `checkSimulatedProof` is the other half: what the portal stand-in runs instead of a Groth16 verifier.
//
// How a simulated proof is built (5 elements of 32 bytes, like a real one: 4 proof elements + root):
//   proof[0], proof[1]  r and s of the relying party's signature on the request (EIP-191, signRequest)
//   proof[2]            v, created_at and expires_at of that signature (byte 15, bytes 16–23, 24–31)
//   proof[3]            a commitment: keccak of every public input (rp_id, nonce, action, signal_hash,
//                       nullifier, issuer_schema_id, expires_at_min, proof[0..2], root), shifted to a field
//   proof[4]            a fixed "merkle root" of the simulated World ID set
// So the stand-in can check, like the real network: the nonce was signed by the registered relying party
// for this action (a nonce we never issued has no such signature), and the public inputs were not
// changed after proving (a swapped signal_hash, nullifier, nonce or action breaks the commitment).
// What it cannot model: zero knowledge and sybil resistance. Anyone can simulate any number of humans —
// which is what local mode is for; production never accepts these proofs (the real portal verifies).
import { bytesToHex, hexToBytes, keccak256, toBytes, type Hex } from "viem";
import { computeRpSignatureMessage } from "@worldcoin/idkit-core/signing";
import { isSignedBy } from "./rp-signature";
import { canonicalFieldHex, hashSignal } from "./world-id";

export const SIMULATED_IDENTIFIER = "proof_of_human";
export const SIMULATED_ISSUER_SCHEMA_ID = 1;
const COMMITMENT_DOMAIN = "quali-simulated-world-id-v1";
const CREDENTIAL_LIFETIME_S = 365 * 24 * 3600;

/** keccak256 shifted right by 8 bits: a BN254-sized field element, as World ID hashes to the field. */
export function hashToFieldHex(input: string | Uint8Array): Hex {
  const hash = BigInt(keccak256(typeof input === "string" ? toBytes(input) : input)) >> 8n;
  return `0x${hash.toString(16).padStart(64, "0")}`;
}

export const SIMULATED_MERKLE_ROOT = hashToFieldHex(`${COMMITMENT_DOMAIN}:merkle-root`);

export interface RpContextWire {
  rp_id: string;
  nonce: string;
  created_at: number;
  expires_at: number;
  signature: string;
}

export interface SimulatedResponseItem {
  identifier: string;
  signal_hash: string;
  proof: string[];
  nullifier: string;
  issuer_schema_id: number;
  expires_at_min: number;
}

/** IDKit's `IDKitResultV4` (protocol 4.0 uniqueness proof). */
export interface SimulatedIdkitResult {
  protocol_version: "4.0";
  nonce: string;
  action: string;
  environment: string;
  responses: SimulatedResponseItem[];
}

export class SimulationError extends Error {
  override name = "SimulationError";
  constructor(
    readonly code: "malformed_request" | "rp_signature_expired" | "invalid_rp_signature",
    message: string,
  ) {
    super(message);
  }
}

/** The simulated human's RP- and action-scoped nullifier: stable per (human, rp, action). */
export function simulatedNullifier(human: string, rpId: string, action: string): Hex {
  return hashToFieldHex(`${COMMITMENT_DOMAIN}:nullifier:${rpId}:${action}:${human}`);
}

function commitment(parts: {
  rpId: string;
  nonce: string;
  action: string;
  signalHash: string;
  nullifier: string;
  issuerSchemaId: number;
  expiresAtMin: number;
  proof: readonly string[];
}): Hex {
  const [p0, p1, p2, , root] = parts.proof;
  return hashToFieldHex(
    JSON.stringify([
      COMMITMENT_DOMAIN,
      parts.rpId,
      parts.nonce,
      parts.action,
      parts.signalHash,
      parts.nullifier,
      parts.issuerSchemaId,
      parts.expiresAtMin,
      p0,
      p1,
      p2,
      root,
    ]),
  );
}

function packSignatureExtra(v: number, createdAt: number, expiresAt: number): Hex {
  const bytes = new Uint8Array(32);
  bytes[15] = v;
  const view = new DataView(bytes.buffer);
  view.setBigUint64(16, BigInt(createdAt), false);
  view.setBigUint64(24, BigInt(expiresAt), false);
  return bytesToHex(bytes);
}

function unpackSignatureExtra(hex: string): { v: number; createdAt: number; expiresAt: number } {
  const bytes = hexToBytes(hex as Hex);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { v: bytes[15] ?? 0, createdAt: Number(view.getBigUint64(16, false)), expiresAt: Number(view.getBigUint64(24, false)) };
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/;

/**
 * World App for a simulated human: checks the request is well formed and its relying-party signature
 * is still valid, then returns the IDKit result a real World App would hand back.
 * `human` is any string; the same human always gets the same nullifier for the same action.
 */
export function simulateWorldIdProof(input: {
  rpContext: RpContextWire;
  action: string;
  signal: string;
  human: string;
  environment?: string;
  nowSeconds?: number;
}): SimulatedIdkitResult {
  const { rpContext, action, signal, human } = input;
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (!HEX32.test(rpContext.nonce)) throw new SimulationError("malformed_request", "rp_context.nonce must be a 32-byte hex field element.");
  if (!/^0x[0-9a-fA-F]{130}$/.test(rpContext.signature)) {
    throw new SimulationError("malformed_request", "rp_context.signature must be a 65-byte hex signature.");
  }
  if (!Number.isSafeInteger(rpContext.created_at) || !Number.isSafeInteger(rpContext.expires_at) || rpContext.created_at < 0) {
    throw new SimulationError("malformed_request", "rp_context.created_at and expires_at must be unix seconds.");
  }
  if (rpContext.expires_at <= now) throw new SimulationError("rp_signature_expired", "The relying party's request has expired.");
  if (rpContext.created_at > now + 60) throw new SimulationError("malformed_request", "rp_context.created_at is in the future.");
  if (action.length === 0) throw new SimulationError("malformed_request", "action is required for a uniqueness proof.");

  const signature = rpContext.signature.toLowerCase();
  const r = `0x${signature.slice(2, 66)}`;
  const s = `0x${signature.slice(66, 130)}`;
  const v = Number.parseInt(signature.slice(130, 132), 16);
  const nonce = canonicalFieldHex(rpContext.nonce)!;
  const signalHash = hashSignal(signal);
  const nullifier = simulatedNullifier(human, rpContext.rp_id, action);
  const expiresAtMin = now + CREDENTIAL_LIFETIME_S;
  const proof = [r, s, packSignatureExtra(v, rpContext.created_at, rpContext.expires_at), "", SIMULATED_MERKLE_ROOT];
  proof[3] = commitment({
    rpId: rpContext.rp_id,
    nonce,
    action,
    signalHash,
    nullifier,
    issuerSchemaId: SIMULATED_ISSUER_SCHEMA_ID,
    expiresAtMin,
    proof,
  });
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

export type SimulatedProofCheck = { ok: true; nullifier: string } | { ok: false; code: string; detail: string };

/**
 * The portal stand-in's proof check for one response item of a 4.0 result: well formed, bound to a
 * nonce the registered relying party signed for this action, public inputs unchanged, credential valid.
 */
export async function checkSimulatedProof(
  item: unknown,
  context: { rpId: string; rpSigner: string; nonce: string; action: string; nowSeconds: number },
): Promise<SimulatedProofCheck> {
  const fail = (code: string, detail: string): SimulatedProofCheck => ({ ok: false, code, detail });
  const i = item as Partial<Record<keyof SimulatedResponseItem, unknown>> | null;
  if (typeof i !== "object" || i === null) return fail("invalid_proof", "Each response must be an object.");
  if (!Array.isArray(i.proof) || i.proof.length !== 5 || !i.proof.every((e) => typeof e === "string" && HEX32.test(e))) {
    return fail("invalid_proof", "proof must be an array of exactly 5 32-byte hex strings.");
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
  const proof = (i.proof as string[]).map((e) => e.toLowerCase());

  const expected = commitment({
    rpId: context.rpId,
    nonce,
    action: context.action,
    signalHash,
    nullifier,
    issuerSchemaId: i.issuer_schema_id,
    expiresAtMin: i.expires_at_min,
    proof,
  });
  if (expected !== proof[3] || proof[4] !== SIMULATED_MERKLE_ROOT) {
    return fail("verification_error", "Proof verification failed: the proof does not match its public inputs (signal_hash, nullifier, nonce or action).");
  }
  const { v, createdAt, expiresAt } = unpackSignatureExtra(proof[2]!);
  // Same verdict as recovering the signer and comparing addresses, without a recovery per vote.
  const message = computeRpSignatureMessage(hexToBytes(nonce as Hex), createdAt, expiresAt, context.action);
  if (!isSignedBy(message, { r: BigInt(proof[0]!), s: BigInt(proof[1]!), v }, context.rpSigner)) {
    return fail("invalid_rp_signature", "The nonce is not signed by this relying party.");
  }
  if (i.expires_at_min <= context.nowSeconds) return fail("credential_expired", "The credential has expired.");
  return { ok: true, nullifier };
}
