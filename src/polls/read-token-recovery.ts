// POST /api/v1/polls/{id}/read-token: the 201 that carried the read token can be lost in transit, so the
// wallet that paid can get it again by signing (EIP-191 personal_sign) a message that names the poll and
// a recent timestamp:
//
//   Quali read token recovery
//   Poll: <poll id>
//   Timestamp: <ISO 8601 instant, within the last 10 minutes>
//
// Only externally owned accounts: the signature is recovered, not checked with ERC-1271.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { recoverMessageAddress, type Hex } from "viem";
import type { Store } from "../db/store";
import { createRouter, type AppEnv } from "../http/app-env";
import { need, type Capability } from "../http/capability";
import { ApiError } from "../http/errors";
import { ErrorResponse } from "../http/openapi-shapes";
import type { RouteGuards } from "../http/route-guards";
import { POLLS_PATH } from "./paths";
import type { ReadTokens } from "./read-token";
import { findPoll } from "./repo";
import { READ_TOKEN_RECOVERY_FIRST_LINE, readTokenRecoveryMessage } from "./read-token-message";
import { RecoveryBody, RecoveryResponse } from "./wire";

export { readTokenRecoveryMessage };

export const RECOVERY_MAX_AGE_MS = 10 * 60_000;
export const RECOVERY_MAX_SKEW_MS = 2 * 60_000;
const FIRST_LINE = READ_TOKEN_RECOVERY_FIRST_LINE;

export interface ReadTokenRecoveryDeps {
  store: Store;
  readTokens: Capability<ReadTokens>;
  now: () => Date;
  guards: RouteGuards;
}

const recoveryRoute = (guards: RouteGuards) =>
  createRoute({
    method: "post",
    path: `${POLLS_PATH}/{id}/read-token`,
    summary: "Recover a poll's read token with the paying wallet's signature",
    // Browser agents on other origins may call it: CORS first, so a 429 is readable cross-origin.
    middleware: [guards.openToBrowsers, guards.api],
    request: {
      params: z.object({ id: z.string() }),
      body: { content: { "application/json": { schema: RecoveryBody } }, required: true },
    },
    responses: {
      200: { description: "The read token", content: { "application/json": { schema: RecoveryResponse } } },
      400: { description: "Malformed body, or a message that does not name this poll or is not recent", content: { "application/json": { schema: ErrorResponse } } },
      403: { description: "invalid_signature: not signed by the wallet that paid for the poll", content: { "application/json": { schema: ErrorResponse } } },
      404: { description: "Poll not found or not settled", content: { "application/json": { schema: ErrorResponse } } },
      503: { description: "Read tokens not configured", content: { "application/json": { schema: ErrorResponse } } },
    },
  });

export function readTokenRecoveryRoutes(deps: ReadTokenRecoveryDeps): OpenAPIHono<AppEnv> {
  const router = createRouter();
  router.options(`${POLLS_PATH}/:id/read-token`, deps.guards.preflight);
  router.openapi(recoveryRoute(deps.guards), async (c) => {
    const { id } = c.req.valid("param");
    const { message, signature } = c.req.valid("json");
    const poll = await findPoll(deps.store.db, id);
    if (!poll || poll.status === "pending_payment" || poll.status === "payment_failed") {
      throw new ApiError(404, "poll_not_found", "No settled poll has this id.", "id");
    }
    const readTokens = need(deps.readTokens);
    const match = /^Quali read token recovery\r?\nPoll: (\S+)\r?\nTimestamp: (\S+)$/.exec(message);
    if (!match) {
      throw new ApiError(400, "validation_error", `message: must be exactly "${FIRST_LINE}\\nPoll: <id>\\nTimestamp: <ISO instant>".`, "message");
    }
    if (match[1]!.toLowerCase() !== id.toLowerCase()) throw new ApiError(400, "validation_error", "message: names another poll.", "message");
    const signedAt = Date.parse(match[2]!);
    const now = deps.now().getTime();
    if (!Number.isFinite(signedAt) || signedAt < now - RECOVERY_MAX_AGE_MS || signedAt > now + RECOVERY_MAX_SKEW_MS) {
      throw new ApiError(400, "validation_error", "message: the timestamp must be an ISO instant within the last 10 minutes.", "message");
    }
    let signer: string;
    try {
      signer = await recoverMessageAddress({ message, signature: signature as Hex });
    } catch {
      throw new ApiError(403, "invalid_signature", "The signature does not recover to a wallet.", "signature");
    }
    if (signer.toLowerCase() !== poll.payer.toLowerCase()) {
      throw new ApiError(403, "invalid_signature", "The message was not signed by the wallet that paid for this poll.", "signature");
    }
    return c.json({ pollId: poll.id, readToken: readTokens.tokenFor(poll.id) }, 200);
  });
  return router;
}
