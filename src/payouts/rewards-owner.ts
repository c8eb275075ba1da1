// POST /api/v1/voter/rewards: the owner's view of a payout address's rewards (vote count, accrued, unpaid,
// pending, paid, payouts), for whoever proves they hold its key by signing (EIP-191 personal_sign) a
// message that names the address and a recent timestamp:
//
//   Quali rewards: show my balance
//   Address: <0x address>
//   Timestamp: <ISO 8601 instant, within the last 10 minutes>
//
// The public GET shows only payouts (rewards-public.ts). Only externally owned accounts: the signature is
// recovered, not checked with ERC-1271. A signature can be replayed for 10 minutes by whoever sees it; it
// only ever shows this view, never moves anything.
import { z } from "@hono/zod-openapi";
import { recoverMessageAddress, type Hex } from "viem";
import { ApiError } from "../http/errors";
import { EvmAddress, WalletSignature } from "../lib/address";

export const OWNER_PROOF_MAX_AGE_MS = 10 * 60_000;
/** Clocks disagree a little: a timestamp this far in the future is accepted. */
export const OWNER_PROOF_MAX_SKEW_MS = 2 * 60_000;
const FIRST_LINE = "Quali rewards: show my balance";
const MESSAGE = /^Quali rewards: show my balance\r?\nAddress: (\S+)\r?\nTimestamp: (\S+)$/;

/** The exact message the address's wallet signs. */
export function rewardsOwnerMessage(address: string, at: Date = new Date()): string {
  return `${FIRST_LINE}\nAddress: ${address.toLowerCase()}\nTimestamp: ${at.toISOString()}`;
}

export const OwnerRewardsBody = z
  .strictObject({
    address: EvmAddress,
    message: z.string().max(500).openapi({
      example: "Quali rewards: show my balance\nAddress: 0x1111111111111111111111111111111111111111\nTimestamp: 2026-11-23T10:00:00.000Z",
      description:
        "Exactly three lines: 'Quali rewards: show my balance', 'Address: <the address>', 'Timestamp: <ISO instant within 10 minutes>'.",
    }),
    signature: WalletSignature.openapi({ example: "0x…" }),
  })
  .openapi("VoterRewardsOwnerRequest");

/** The address the body proves ownership of; throws 400 validation_error or 403 invalid_signature. */
export async function provenOwner(body: z.infer<typeof OwnerRewardsBody>, now: Date): Promise<string> {
  const match = MESSAGE.exec(body.message);
  if (!match) {
    throw new ApiError(400, "validation_error", `message: must be exactly "${FIRST_LINE}\\nAddress: <address>\\nTimestamp: <ISO instant>".`, "message");
  }
  if (match[1]!.toLowerCase() !== body.address) throw new ApiError(400, "validation_error", "message: names another address.", "message");
  const signedAt = Date.parse(match[2]!);
  if (!Number.isFinite(signedAt)) throw new ApiError(400, "validation_error", "message: the timestamp must be an ISO instant.", "message");
  if (signedAt < now.getTime() - OWNER_PROOF_MAX_AGE_MS || signedAt > now.getTime() + OWNER_PROOF_MAX_SKEW_MS) {
    throw new ApiError(403, "invalid_signature", "The signed message is not recent: sign a new one (its timestamp must be within the last 10 minutes).", "message", {
      reason: "expired",
    });
  }
  let signer: string;
  try {
    signer = await recoverMessageAddress({ message: body.message, signature: body.signature as Hex });
  } catch {
    throw new ApiError(403, "invalid_signature", "The signature does not recover to a wallet.", "signature", { reason: "unrecoverable" });
  }
  if (signer.toLowerCase() !== body.address) {
    throw new ApiError(403, "invalid_signature", "The message was not signed by this address's wallet.", "signature", { reason: "signer_mismatch" });
  }
  return body.address;
}
