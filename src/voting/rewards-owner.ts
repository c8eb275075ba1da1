// POST /api/v1/voter/rewards: the owner's view of a payout address's rewards (vote count, accrued, unpaid,
// pending, paid, payouts), for whoever proves they hold its key by signing (EIP-191 personal_sign) a
// message that names the address and a recent timestamp:
//
//   Quali rewards: show my balance
//   Address: <0x address>
//   Timestamp: <ISO 8601 instant, within the last 10 minutes>
//
// The public GET shows only payouts (src/voting/rewards-public.ts). Only externally owned accounts: the
// signature is recovered, not checked with ERC-1271. A signature can be replayed for 10 minutes by
// whoever sees it; it only ever shows this view, never moves anything.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { recoverMessageAddress, type Hex } from "viem";
import { ApiError } from "../http/errors";
import { ErrorResponse } from "../http/openapi-shapes";
import { EvmAddress, RewardsResponse } from "./schema";

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
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x-hex signature").openapi({ example: "0x…" }),
  })
  .openapi("VoterRewardsOwnerRequest");

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });

export const ownerRewardsRoute = createRoute({
  method: "post",
  path: "/api/v1/voter/rewards",
  summary: "A payout address's rewards in full, for its owner (signed)",
  description:
    "The address's wallet signs (EIP-191 personal_sign) 'Quali rewards: show my balance\\nAddress: <address>\\nTimestamp: " +
    "<ISO instant>' within 10 minutes. Answers what GET /api/v1/voter/rewards keeps private: the vote count, and per " +
    "network accrued (every rewarded vote) = unpaid (not yet in a payout) + pending (a payout on its way) + paid " +
    "(confirmed transfers), with the recent payouts. A wrong or stale signature is a 403 invalid_signature " +
    "(details.reason: signer_mismatch, unrecoverable or expired).",
  request: { body: { content: { "application/json": { schema: OwnerRewardsBody } }, required: true } },
  responses: {
    200: json(RewardsResponse, "The owner's view of the address's rewards"),
    400: json(ErrorResponse, "validation_error: malformed body, or a message that is not the expected three lines for this address"),
    403: json(ErrorResponse, "invalid_signature: not signed by the address (signer_mismatch, unrecoverable) or not recent (expired)"),
  },
});

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

/** Registers the route; `view` builds the owner's view of an address (the same as the public GET builds from). */
export function registerOwnerRewards(
  app: OpenAPIHono,
  deps: { now: () => Date; view: (address: string) => Promise<z.infer<typeof RewardsResponse>> },
): void {
  app.openapi(ownerRewardsRoute, async (c) => {
    const address = await provenOwner(c.req.valid("json"), deps.now());
    return c.json(await deps.view(address), 200);
  });
}
