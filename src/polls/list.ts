// GET /api/v1/polls?payer=0x…: the settled polls a wallet paid for (checksum-insensitive), newest first,
// cursor-paginated. Public fields only: read tokens are never listed (recover one with
// POST /api/v1/polls/{id}/read-token).
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Store } from "../db/store";
import { createRouter, type AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import { ErrorResponse } from "../http/openapi-shapes";
import { decodeCursor, encodeCursor, parseLimit } from "../http/pagination";
import type { RouteGuards } from "../http/route-guards";
import { FINAL_STATUSES } from "./lifecycle";
import { POLLS_PATH } from "./paths";
import { PublicPoll, toPublicPoll } from "./read";
import { findOptionsOfPolls, groupOptionsByPoll } from "./repo";

export interface PollListDeps {
  store: Store;
  publicBaseUrl: string;
  now: () => Date;
  guards: RouteGuards;
}

export const PollList = z.object({ polls: z.array(PublicPoll), nextCursor: z.string().nullable() }).openapi("PollList");

const listRoute = (guards: RouteGuards) =>
  createRoute({
    method: "get",
    path: POLLS_PATH,
    summary: "Settled polls paid by a wallet",
    middleware: [guards.api],
    description: "Newest first; limit 1–100 (default 20); pass nextCursor as cursor for the next page. No read tokens.",
    request: {
      query: z.object({
        payer: z.string().optional().openapi({ example: "0x1111111111111111111111111111111111111111", description: "Required. Any letter case." }),
        limit: z.string().optional().openapi({ example: "20" }),
        cursor: z.string().optional(),
      }),
    },
    responses: {
      200: { description: "A page of polls", content: { "application/json": { schema: PollList } } },
      400: { description: "Missing or invalid payer, limit or cursor", content: { "application/json": { schema: ErrorResponse } } },
    },
  });

export function pollListRoutes(deps: PollListDeps): OpenAPIHono<AppEnv> {
  const router = createRouter();
  router.openapi(listRoute(deps.guards), async (c) => {
    const query = c.req.valid("query");
    const payer = query.payer?.trim() ?? "";
    if (!/^0x[0-9a-fA-F]{40}$/.test(payer)) {
      throw new ApiError(400, "validation_error", "payer: a 0x-prefixed 20-byte wallet address is required.", "payer");
    }
    const limit = parseLimit(query.limit, 100, 20);
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
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
