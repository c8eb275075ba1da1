// The wallet-facing shapes every feature shares: an EVM address as a request names it, and the
// signature a wallet makes of a message (EIP-191 personal_sign).
import { z } from "@hono/zod-openapi";
import { isAddress } from "viem";

/** A 0x address, checked (a mixed-case one must carry its checksum) and stored lower case. */
export const EvmAddress = z
  .string()
  .trim()
  .refine((value) => isAddress(value, { strict: true }), "must be a 0x-prefixed 20-byte address (a mixed-case one must carry a valid checksum)")
  .transform((value) => value.toLowerCase())
  .openapi({ example: "0x1111111111111111111111111111111111111111" });

/** A 65-byte signature as wallets return it (r, s, v) in 0x hex. */
export const WalletSignature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x-hex signature");
