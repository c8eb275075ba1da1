// GET /api/v1/polls?payer=0x…: the settled polls a wallet paid for (checksum-insensitive), newest first,
// cursor-paginated. Public fields only: read tokens are never listed (recover one with
// POST /api/v1/polls/{id}/read-token). Without `payer`, a wallet sign-in (SIGN-IN-WITH-X,
// src/polls/wallet-sign-in.ts) lists the signer's own polls; with `payer`, the header is not read.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Store } from "../db/store";
import { createRouter, type AppEnv } from "../http/app-env";
import type { Capability } from "../http/capability";
import { ApiError } from "../http/errors";
import { ErrorResponse } from "../http/openapi-shapes";
import { decodeCursor, encodeCursor, parseLimit } from "../http/pagination";
import type { RouteGuards } from "../http/route-guards";
import { FINAL_STATUSES } from "./lifecycle";
import type { PaymentServer } from "../payment";
import { POLLS_PATH } from "./paths";
import { toPublicPoll } from "./read";
import { findOptionsOfPolls, groupOptionsByPoll } from "./repo";
import { presentedSignIn, SIGN_IN_HEADER, signedInWallet, signInDetails, walletSignInOf } from "./wallet-sign-in";
import { PollList } from "./wire";

export { PollList };

export interface PollListDeps {
  store: Store;
  publicBaseUrl: string;
  now: () => Date;
  guards: RouteGuards;
  /** The networks a sign-in challenge declares. */
  payments?: Capability<PaymentServer>;
}

/** Anonymous with `payer`; wallet sign-in (the scheme src/discovery/openapi.ts names) without it. */
const LIST_SECURITY: Record<string, string[]>[] = [{}, { SignInWithX: [] }];

const listRoute = (guards: RouteGuards) =>
  createRoute({
    method: "get",
    path: POLLS_PATH,
    summary: "Settled polls paid by a wallet",
    middleware: [guards.api],
    description:
      "Newest first; limit 1–100 (default 20); pass nextCursor as cursor for the next page. No read tokens. " +
      "Either `payer` (public), or no `payer` and a wallet sign-in (`SIGN-IN-WITH-X`, x402 sign-in-with-x): the signer's own polls. " +
      "A 400 for a missing payer carries a sign-in challenge in `error.details.extensions[\"sign-in-with-x\"]`.",
    security: LIST_SECURITY,
    request: {
      query: z.object({
        payer: z.string().optional().openapi({
          example: "0x1111111111111111111111111111111111111111",
          description: "The paying wallet, any letter case. Required unless the request carries a wallet sign-in.",
        }),
        limit: z.string().optional().openapi({ example: "20" }),
        cursor: z.string().optional(),
      }),
      headers: z.object({
        "sign-in-with-x": z.string().optional().openapi({
          description: "Wallet sign-in, read only when `payer` is absent: base64 of the JSON sign-in-with-x payload signed (EIP-191) by the wallet whose polls to list.",
        }),
      }),
    },
    responses: {
      200: { description: "A page of polls", content: { "application/json": { schema: PollList } } },
      400: { description: "Missing or invalid payer, limit or cursor", content: { "application/json": { schema: ErrorResponse } } },
      401: { description: "sign_in_invalid or sign_in_replayed: the wallet sign-in was refused", content: { "application/json": { schema: ErrorResponse } } },
    },
  });

export function pollListRoutes(deps: PollListDeps): OpenAPIHono<AppEnv> {
  const router = createRouter();
  router.openapi(listRoute(deps.guards), async (c) => {
    const query = c.req.valid("query");
    const signIn = walletSignInOf(deps);
    const header = query.payer === undefined && signIn ? presentedSignIn(c) : undefined;
    // Input is checked before the sign-in is verified: a refused request never uses up its nonce.
    const limit = parseLimit(query.limit, 100, 20);
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    let payer = query.payer?.trim() ?? "";
    if (signIn && header !== undefined) {
      payer = (await signedInWallet(signIn, header, c.req.path)).address;
    } else if (!/^0x[0-9a-fA-F]{40}$/.test(payer)) {
      throw new ApiError(
        400,
        "validation_error",
        signIn
          ? `payer: a 0x-prefixed 20-byte wallet address is required (or, to list your own polls, a wallet sign-in in ${SIGN_IN_HEADER}).`
          : "payer: a 0x-prefixed 20-byte wallet address is required.",
        "payer",
        query.payer === undefined && signIn ? signInDetails(signIn, c.req.path) : undefined,
      );
    }
    let sqlQuery = deps.store.db
      .selectFrom("polls")
      .selectAll()
      .where("payer", "=", payer.toLowerCase())
      .where("status", "in", ["active", ...FINAL_STATUSES]);
    if (after) {
      // A row-value range: polls_by_payer_created is entered at the cursor.
      sqlQuery = sqlQuery.where((eb) => eb(eb.refTuple("created_at", "id"), "<", eb.tuple(after.createdAt, after.id)));
    }
    const rows = await sqlQuery.orderBy("created_at", "desc").orderBy("id", "desc").limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const byPoll = groupOptionsByPoll(await findOptionsOfPolls(deps.store.db, page.map((p) => p.id)));
    const now = deps.now();
    const last = page.at(-1);
    return c.json(
      {
        polls: page.map((poll) => toPublicPoll(poll, byPoll.get(poll.id) ?? [], deps.publicBaseUrl, now)),
        nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
      },
      200,
    );
  });
  return router;
}
