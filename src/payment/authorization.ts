// Reads the facts we need from a PAYMENT-SIGNATURE header without trusting it: who pays, with which
// EIP-3009 nonce, until when, for which resource, and exactly what was signed (so cheap checks can run
// before the facilitator is asked). Verification proper is the facilitator's job.
import { decodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload } from "@x402/core/types";
import type { Address, Hex } from "viem";

/** The EIP-3009 TransferWithAuthorization message exactly as presented, with exact integers. */
export interface TransferAuthorization {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
}

export interface PresentedAuthorization {
  payload: PaymentPayload;
  network: string;
  /** Lower-case 0x address. */
  payer: string;
  /** Lower-case 0x-prefixed 32-byte hex. */
  nonce: string;
  valueAtomic: string;
  /** Unix seconds. */
  validBefore: number;
  resourceUrl: string | undefined;
  /** What the signature must cover; addresses lower-case (hashing ignores case). */
  message: TransferAuthorization;
  /** 0x-prefixed hex, any whole number of bytes: 65 for an EOA, longer for smart wallets (ERC-1271/6492). */
  signature: Hex;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const NONCE = /^0x[0-9a-fA-F]{64}$/;
const UINT = /^\d{1,78}$/;
const HEX_BYTES = /^0x(?:[0-9a-fA-F]{2})*$/;

/** Returns undefined when the header is not a decodable exact-EVM V2 payload. */
export function readAuthorization(header: string): PresentedAuthorization | undefined {
  let payload: PaymentPayload;
  try {
    payload = decodePaymentSignatureHeader(header);
  } catch {
    return undefined;
  }
  if (!payload || typeof payload !== "object" || payload.x402Version !== 2) return undefined;
  const network = payload.accepted?.network;
  const exact = payload.payload as { authorization?: Record<string, unknown>; signature?: unknown } | undefined;
  const authorization = exact?.authorization;
  if (typeof network !== "string" || !authorization) return undefined;
  const { from, to, nonce, value, validAfter, validBefore } = authorization;
  if (typeof from !== "string" || !ADDRESS.test(from)) return undefined;
  if (typeof to !== "string" || !ADDRESS.test(to)) return undefined;
  if (typeof nonce !== "string" || !NONCE.test(nonce)) return undefined;
  // Canonical decimal strings only, as the official clients send them: lenient parsing downstream
  // (BigInt("") is 0) must not turn a malformed field into a valid one.
  for (const field of [value, validAfter, validBefore]) {
    if (typeof field !== "string" || !UINT.test(field)) return undefined;
  }
  const signature = exact.signature;
  if (typeof signature !== "string" || !HEX_BYTES.test(signature)) return undefined;
  const message: TransferAuthorization = {
    from: from.toLowerCase() as Address,
    to: to.toLowerCase() as Address,
    value: BigInt(value as string),
    validAfter: BigInt(validAfter as string),
    validBefore: BigInt(validBefore as string),
    nonce: nonce.toLowerCase() as Hex,
  };
  const validBeforeSeconds = Number(message.validBefore);
  return {
    payload,
    network,
    payer: message.from,
    nonce: message.nonce,
    valueAtomic: message.value.toString(),
    // Far-future values are clamped: they only matter for "is it expired yet".
    validBefore: Number.isSafeInteger(validBeforeSeconds) ? validBeforeSeconds : Number.MAX_SAFE_INTEGER,
    resourceUrl: typeof payload.resource?.url === "string" ? payload.resource.url : undefined,
    message,
    signature: signature as Hex,
  };
}
