// An on-demand payout below the threshold costs more gas than it pays, so only the address itself may
// ask for one: it signs (EIP-191 personal_sign) a message naming the address and a recent timestamp,
// like read-token recovery (src/polls/read-token-recovery.ts):
//
//   Quali payout request
//   Address: <the payout address>
//   Timestamp: <ISO 8601 instant, within the last 10 minutes>
//
// Only externally owned accounts: the signature is recovered, not checked with ERC-1271. A replayed
// message can only pay the address its own balance, within the rate limit.
import { recoverMessageAddress, type Hex } from "viem";
import { ApiError } from "../http/errors";

export const PAYOUT_REQUEST_MAX_AGE_MS = 10 * 60_000;
export const PAYOUT_REQUEST_MAX_SKEW_MS = 2 * 60_000;
const FIRST_LINE = "Quali payout request";
const MESSAGE = /^Quali payout request\r?\nAddress: (0x[0-9a-fA-F]{40})\r?\nTimestamp: (\S+)$/;

/** The exact message the payout address signs. */
export function payoutRequestMessage(address: string, at: Date = new Date()): string {
  return `${FIRST_LINE}\nAddress: ${address}\nTimestamp: ${at.toISOString()}`;
}

export interface PayoutRequestSignature {
  /** Lower-case payout address of the request. */
  address: string;
  message: string;
  signature: string;
  now: Date;
}

/** Resolves when `address` signed the message recently; throws 400 (message) or 403 invalid_signature. */
export async function verifyPayoutRequestSignature(input: PayoutRequestSignature): Promise<void> {
  const match = MESSAGE.exec(input.message);
  if (!match) {
    throw new ApiError(400, "validation_error", `message: must be exactly "${FIRST_LINE}\\nAddress: <address>\\nTimestamp: <ISO instant>".`, "message");
  }
  if (match[1]!.toLowerCase() !== input.address) throw new ApiError(400, "validation_error", "message: names another address.", "message");
  const signedAt = Date.parse(match[2]!);
  const now = input.now.getTime();
  if (!Number.isFinite(signedAt) || signedAt < now - PAYOUT_REQUEST_MAX_AGE_MS || signedAt > now + PAYOUT_REQUEST_MAX_SKEW_MS) {
    throw new ApiError(400, "validation_error", "message: the timestamp must be an ISO instant within the last 10 minutes.", "message");
  }
  let signer: string;
  try {
    signer = await recoverMessageAddress({ message: input.message, signature: input.signature as Hex });
  } catch {
    throw new ApiError(403, "invalid_signature", "The signature does not recover to a wallet.", "signature");
  }
  if (signer.toLowerCase() !== input.address) {
    throw new ApiError(403, "invalid_signature", "The message was not signed by the payout address.", "signature");
  }
}
