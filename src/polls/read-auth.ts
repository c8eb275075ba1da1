// Access to a poll's private endpoints (results, votes, and every route that calls pollForReader): the
// read token as `X-Read-Token` or `Authorization: Bearer <token>`, or a wallet sign-in by the wallet that
// paid for the poll (`SIGN-IN-WITH-X`, src/polls/wallet-sign-in.ts). Unknown or unsettled poll → 404,
// neither → 401 read_token_missing (its details carry the sign-in challenge), wrong token → 403
// read_token_invalid, another wallet → 403 wallet_not_payer, an invalid or replayed sign-in → 401.
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Store } from "../db/store";
import { need, type Capability } from "../http/capability";
import { ApiError } from "../http/errors";
import { ErrorResponse } from "../http/openapi-shapes";
import type { PaymentServer } from "../payment";
import type { ReadTokens } from "./read-token";
import { findReadSidePoll, type ReadSidePollRow } from "./repo";
import {
  assertNonceUnused,
  claimSignIn,
  isWallet,
  presentedSignIn,
  SIGN_IN_HEADER,
  signInDetails,
  verifySignIn,
  walletSignInOf,
  type WalletSignInDeps,
} from "./wallet-sign-in";

export interface ReadAuthDeps {
  store: Store;
  readTokens: Capability<ReadTokens>;
  /** The service's public URL: given, wallet sign-in is accepted (messages must name it). */
  publicBaseUrl?: string;
  now?: () => Date;
  /** The networks a sign-in challenge declares. */
  payments?: Capability<PaymentServer>;
}

export function presentedReadToken(c: Context): string | undefined {
  const header = c.req.header("x-read-token")?.trim();
  if (header) return header;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization")?.trim() ?? "");
  return match?.[1];
}

/** The wallet of a valid sign-in must be the poll's payer; its nonce is used up only when it is. */
async function admitPayer(signIn: WalletSignInDeps, header: string, path: string, pollId: string): Promise<void> {
  const wallet = await verifySignIn(signIn, header, path);
  await assertNonceUnused(signIn, wallet, path);
  const row = await signIn.store.db.selectFrom("polls").select("payer").where("id", "=", pollId).executeTakeFirst();
  if (!row || !isWallet(wallet.address, row.payer)) {
    throw new ApiError(403, "wallet_not_payer", "The signed-in wallet did not pay for this poll: sign in with the paying wallet or send the read token.", SIGN_IN_HEADER);
  }
  await claimSignIn(signIn, wallet, path);
}

/**
 * A settled poll the caller may read; throws the contract's 404/401/403 (or 503).
 * A presented read token decides alone (exactly as before sign-in existed); without one, a sign-in does.
 * `allowPublic` (aggregate results only): a poll created with `publicResults: true` is answered without
 * credentials; one that is presented anyway must still be valid.
 */
export async function pollForReader(
  c: Context,
  deps: ReadAuthDeps,
  pollId: string,
  options: { allowPublic?: boolean } = {},
): Promise<ReadSidePollRow> {
  const poll = await findReadSidePoll(deps.store.db, pollId);
  if (!poll || poll.status === "pending_payment" || poll.status === "payment_failed") {
    throw new ApiError(404, "poll_not_found", "No settled poll has this id.", "id");
  }
  const token = presentedReadToken(c);
  const signIn = walletSignInOf(deps);
  const signInHeader = token === undefined && signIn ? presentedSignIn(c) : undefined;
  // A poll taken down is no longer public: its results stay readable with its read token (or sign-in) only.
  if (options.allowPublic && poll.public_results === 1 && poll.status !== "removed" && token === undefined && signInHeader === undefined) return poll;
  if (token !== undefined) {
    if (!need(deps.readTokens).matches(pollId, token)) throw new ApiError(403, "read_token_invalid", "This read token does not match this poll.");
    return poll;
  }
  if (signIn && signInHeader !== undefined) {
    await admitPayer(signIn, signInHeader, c.req.path, pollId);
    return poll;
  }
  need(deps.readTokens);
  throw new ApiError(
    401,
    "read_token_missing",
    signIn
      ? `Send the poll's read token as X-Read-Token or Authorization: Bearer <readToken>, or sign in with the wallet that paid for the poll (${SIGN_IN_HEADER}; challenge in details.extensions).`
      : "Send the poll's read token as X-Read-Token or Authorization: Bearer <readToken>.",
    undefined,
    signIn ? signInDetails(signIn, c.req.path) : undefined,
  );
}

/** OpenAPI: the ways to read a poll's private endpoints. */
export const READ_TOKEN_HEADERS_DESCRIPTION =
  "Requires the poll's read token as `X-Read-Token: <readToken>` or `Authorization: Bearer <readToken>`, or a wallet " +
  "sign-in by the wallet that paid for the poll: `SIGN-IN-WITH-X: <base64 JSON>` (x402 sign-in-with-x, CAIP-122/EIP-4361, " +
  "one fresh message per request; the 401 carries a challenge in `error.details.extensions[\"sign-in-with-x\"]`).";

/** OpenAPI: the 401 and 403 of every route that calls pollForReader. */
export const READ_AUTH_ERROR_RESPONSES = {
  401: {
    description: "Missing read token (a private poll), or a refused wallet sign-in (sign_in_invalid, sign_in_replayed)",
    content: { "application/json": { schema: ErrorResponse } },
  },
  403: {
    description: "Read token does not match this poll, or the signed-in wallet did not pay for it (wallet_not_payer)",
    content: { "application/json": { schema: ErrorResponse } },
  },
} as const;

/** The request headers of the read-token routes (documented; read by presentedReadToken and presentedSignIn). */
export const ReadTokenHeaders = z.object({
  "x-read-token": z.string().optional().openapi({ description: "The poll's read token." }),
  authorization: z.string().optional().openapi({ description: "Bearer <readToken>" }),
  "sign-in-with-x": z.string().optional().openapi({
    description:
      "Wallet sign-in (instead of a read token): base64 of the JSON sign-in-with-x payload (domain, address, uri, version, chainId, type, " +
      "nonce, issuedAt, expirationTime?, signature…) signed (EIP-191) by the wallet that paid for the poll. Ignored when a read token is sent.",
  }),
});
