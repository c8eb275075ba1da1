// Reads the facts we need from a PAYMENT-SIGNATURE header without trusting it: who pays, with which
// EIP-3009 nonce, until when, for which resource. Verification proper is the facilitator's job.
import { decodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload } from "@x402/core/types";

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
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const NONCE = /^0x[0-9a-fA-F]{64}$/;
const UINT = /^\d{1,78}$/;

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
  const authorization = (payload.payload as { authorization?: Record<string, unknown> } | undefined)?.authorization;
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
  const valueText = value as string;
  const validBeforeText = validBefore as string;
  const validBeforeSeconds = Number(validBeforeText);
  return {
    payload,
    network,
    payer: from.toLowerCase(),
    nonce: nonce.toLowerCase(),
    valueAtomic: BigInt(valueText).toString(),
    // Far-future values are clamped: they only matter for "is it expired yet".
    validBefore: Number.isSafeInteger(validBeforeSeconds) ? validBeforeSeconds : Number.MAX_SAFE_INTEGER,
    resourceUrl: typeof payload.resource?.url === "string" ? payload.resource.url : undefined,
  };
}
