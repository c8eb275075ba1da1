// GET /api/v1/polls/{id}/votes?limit=500&cursor=…: the individual votes, anonymised (no nullifiers, no
// payout addresses), in time order. `nextCursor` is opaque and tie-safe (ordered by (created_at, id));
// an ISO timestamp is also accepted as the cursor and means "votes recorded after that instant".
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { ErrorResponse } from "../http/openapi-shapes";
import { decodeCursor, encodeCursor, parseIsoInstant, parseLimit, type CursorPosition } from "../http/pagination";
import { POLLS_PATH } from "../payment/payment-server";
import { VoteDemographics } from "../voting/demographics";
import { pollForReader, READ_TOKEN_HEADERS_DESCRIPTION, type ReadAuthDeps } from "./read-auth";
import { findOptions } from "./repo";
import { ReadTokenHeaders } from "./results";

export const VOTES_PAGE_MAX = 500;
export const VOTES_PAGE_DEFAULT = 100;

export const PollVote = z
  .object({
    id: z.string(),
    optionId: z.string(),
    optionText: z.string(),
    createdAt: z.string(),
    shownOrder: z.array(z.string()).nullable().openapi({ description: "Option ids in the order the voter saw them, when known." }),
    shownPosition: z.number().int().nullable().openapi({ description: "0-based position of the chosen option in shownOrder." }),
    demographics: VoteDemographics,
  })
  .openapi("PollVote");

export const PollVotesPage = z
  .object({ votes: z.array(PollVote), nextCursor: z.string().nullable() })
  .openapi("PollVotesPage");

const votesRoute = createRoute({
  method: "get",
  path: `${POLLS_PATH}/{id}/votes`,
  summary: "Individual votes of a poll, anonymised, in time order",
  description:
    `${READ_TOKEN_HEADERS_DESCRIPTION} limit 1–${VOTES_PAGE_MAX} (default ${VOTES_PAGE_DEFAULT}). Pass nextCursor as ` +
    "cursor for the next page; an ISO timestamp is also accepted (votes after that instant).",
  request: {
    params: z.object({ id: z.string() }),
    headers: ReadTokenHeaders,
    query: z.object({
      limit: z.string().optional().openapi({ example: "500" }),
      cursor: z.string().optional().openapi({ description: "nextCursor from the previous page, or an ISO timestamp." }),
    }),
  },
  responses: {
    200: { description: "A page of votes", content: { "application/json": { schema: PollVotesPage } } },
    400: { description: "Invalid limit or cursor", content: { "application/json": { schema: ErrorResponse } } },
    401: { description: "Missing read token", content: { "application/json": { schema: ErrorResponse } } },
    403: { description: "Read token does not match this poll", content: { "application/json": { schema: ErrorResponse } } },
    404: { description: "Poll not found or not settled", content: { "application/json": { schema: ErrorResponse } } },
    503: { description: "Read tokens not configured", content: { "application/json": { schema: ErrorResponse } } },
  },
});

type Start = { after: CursorPosition } | { afterInstant: string } | undefined;

function parseStart(raw: string | undefined): Start {
  if (raw === undefined || raw.trim() === "") return undefined;
  const instant = parseIsoInstant(raw.trim());
  if (instant) return { afterInstant: instant };
  return { after: decodeCursor(raw.trim()) };
}

function parseShownOrder(raw: string | null): string[] | null {
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as unknown;
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : null;
  } catch {
    return null;
  }
}

export function registerVotesList(app: OpenAPIHono, deps: ReadAuthDeps): void {
  app.openapi(votesRoute, async (c) => {
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    await pollForReader(c, deps, id);
    const limit = parseLimit(query.limit, VOTES_PAGE_MAX, VOTES_PAGE_DEFAULT);
    const start = parseStart(query.cursor);

    let sqlQuery = deps.store.db
      .selectFrom("votes")
      .select(["id", "option_id", "shown_order", "country", "age_band", "created_at"])
      .where("poll_id", "=", id);
    if (start && "after" in start) {
      const { createdAt, id: lastId } = start.after;
      // A row-value range: votes_by_poll_time is entered at the cursor, not walked from the first vote.
      sqlQuery = sqlQuery.where((eb) => eb(eb.refTuple("created_at", "id"), ">", eb.tuple(createdAt, lastId)));
    } else if (start) {
      sqlQuery = sqlQuery.where("created_at", ">", start.afterInstant);
    }
    const [rows, options] = await Promise.all([
      sqlQuery.orderBy("created_at").orderBy("id").limit(limit + 1).execute(),
      findOptions(deps.store.db, id),
    ]);
    const textOf = new Map(options.map((o) => [o.id, o.text]));
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return c.json(
      {
        votes: page.map((row) => {
          const shownOrder = parseShownOrder(row.shown_order);
          const position = shownOrder ? shownOrder.indexOf(row.option_id) : -1;
          return {
            id: row.id,
            optionId: row.option_id,
            optionText: textOf.get(row.option_id) ?? "",
            createdAt: row.created_at,
            shownOrder,
            shownPosition: position >= 0 ? position : null,
            demographics: { country: row.country, ageBand: (row.age_band as z.infer<typeof VoteDemographics>["ageBand"]) ?? null },
          };
        }),
        nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
      },
      200,
    );
  });
}
