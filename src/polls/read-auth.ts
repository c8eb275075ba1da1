// Read-token access to a poll's private endpoints (results, votes): the token comes as `X-Read-Token`
// or `Authorization: Bearer <token>`. Unknown or unsettled poll → 404, no token → 401, wrong token → 403.
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Store } from "../db/store";
import { need, type Capability } from "../http/capability";
import { ApiError } from "../http/errors";
import type { ReadTokens } from "./read-token";
import { findReadSidePoll, type ReadSidePollRow } from "./repo";

export interface ReadAuthDeps {
  store: Store;
  readTokens: Capability<ReadTokens>;
}

export function presentedReadToken(c: Context): string | undefined {
  const header = c.req.header("x-read-token")?.trim();
  if (header) return header;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization")?.trim() ?? "");
  return match?.[1];
}

/**
 * A settled poll the caller holds the read token of; throws the contract's 404/401/403 (or 503).
 * `allowPublic` (aggregate results only): a poll created with `publicResults: true` is answered without
 * a token; a token that is presented anyway must still match.
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
  // A poll taken down is no longer public: its results stay readable with its read token only.
  if (options.allowPublic && poll.public_results === 1 && poll.status !== "removed" && presentedReadToken(c) === undefined) return poll;
  const readTokens = need(deps.readTokens);
  const token = presentedReadToken(c);
  if (!token) {
    throw new ApiError(401, "read_token_missing", "Send the poll's read token as X-Read-Token or Authorization: Bearer <readToken>.");
  }
  if (!readTokens.matches(pollId, token)) throw new ApiError(403, "read_token_invalid", "This read token does not match this poll.");
  return poll;
}

/** OpenAPI: the two ways to present a read token. */
export const READ_TOKEN_HEADERS_DESCRIPTION =
  "Requires the poll's read token as `X-Read-Token: <readToken>` or `Authorization: Bearer <readToken>`.";

/** The request headers of the read-token routes (documented; read by presentedReadToken). */
export const ReadTokenHeaders = z.object({
  "x-read-token": z.string().optional().openapi({ description: "The poll's read token." }),
  authorization: z.string().optional().openapi({ description: "Bearer <readToken>" }),
});
