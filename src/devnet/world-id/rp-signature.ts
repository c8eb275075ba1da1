// Checks that a relying party's signature on a World ID proof request (EIP-191 over IDKit's rp message)
// was made by a known address — what the simulated World ID network (./simulator.ts) does before it makes
// a proof, as World App and the OPRF nodes do in World ID 4.
//
// The answer is exactly that of recovering the signer (viem's recoverMessageAddress) and comparing
// addresses: the first good signature of an address is recovered once, and its public key Q is kept with
// precomputed multiples; every later signature (r, s, v) over digest z is then checked as an ECDSA
// verification against Q, R = (z/s)·G + (r/s)·Q with R.x = r and R.y's parity = v's recovery bit
// (recovery with v yields Q iff exactly that holds). The simulator runs inside the local server, once
// per simulated vote, so it should not cost a full recovery each time.
import { invert, mod } from "@noble/curves/abstract/modular";
import { secp256k1 } from "@noble/curves/secp256k1";
import { hashMessage, hexToBigInt } from "viem";
import { publicKeyToAddress } from "viem/accounts";
import { BoundedMap } from "../../lib/bounded-map";

type Point = InstanceType<typeof secp256k1.ProjectivePoint>;

const N = secp256k1.CURVE.n;
/** Lower-case address → its public key, with precomputed multiples (only keys proven by a recovery). */
const keys = new BoundedMap<string, Point>(16);

export interface RecoverableSignature {
  r: bigint;
  s: bigint;
  /** 27/28 (or the recovery bit 0/1). */
  v: number;
}

function recover(digest: bigint, signature: RecoverableSignature, recovery: number): Point | undefined {
  try {
    const bytes = digest.toString(16).padStart(64, "0");
    return new secp256k1.Signature(signature.r, signature.s).addRecoveryBit(recovery).recoverPublicKey(bytes);
  } catch {
    return undefined;
  }
}

/** True when `signature` over the personal message `message` (raw bytes) was made by `address`. */
export function isSignedBy(message: Uint8Array, signature: RecoverableSignature, address: string): boolean {
  const { r, s } = signature;
  if (r <= 0n || r >= N || s <= 0n || s >= N) return false;
  const recovery = signature.v >= 27 ? signature.v - 27 : signature.v;
  if (recovery !== 0 && recovery !== 1) return false;
  const digest = hexToBigInt(hashMessage({ raw: message }));
  const key = address.toLowerCase();

  const known = keys.get(key);
  if (!known) {
    const recovered = recover(digest, signature, recovery);
    if (!recovered || publicKeyToAddress(`0x${recovered.toHex(false)}`).toLowerCase() !== key) return false;
    keys.set(key, recovered.precompute(8, false));
    return true;
  }

  const w = invert(s, N);
  const R = secp256k1.ProjectivePoint.BASE.multiplyAndAddUnsafe(known, mod(digest * w, N), mod(r * w, N));
  if (!R) return false;
  const { x, y } = R.toAffine();
  return x === r && Number(y & 1n) === recovery;
}
