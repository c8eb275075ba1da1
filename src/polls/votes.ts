// GET /api/v1/polls/{id}/votes?limit=500&cursor=…: the individual votes, anonymised (no nullifiers, no
// payout addresses), by minute. A vote's time is shown to the minute and votes within a minute come in a
// random order fixed when they were cast (src/polls/vote-listing.ts): the list alone never tells which vote
// came first or exactly when, which is what could link a vote to the wallet it paid. `nextCursor` is
// opaque; an ISO timestamp is also accepted as the cursor and means "votes listed after that createdAt".
import type { Kysely } from "kysely";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Database } from "../db/schema";
import { createRouter, type AppEnv } from "../http/app-env";
import { ErrorResponse } from "../http/openapi-shapes";
import { parseIsoInstant, parseLimit } from "../http/pagination";
import type { RouteGuards } from "../http/route-guards";
import { VoteDemographics } from "./demographics";
import { POLLS_PATH } from "./paths";
import { pollForReader, READ_TOKEN_HEADERS_DESCRIPTION, ReadTokenHeaders, type ReadAuthDeps } from "./read-auth";
import { findOptions } from "./repo";
import {
  decodeListingCursor,
  encodeListingCursor,
  instantPosition,
  listableBefore,
  listedTime,
  LISTED_MINUTE,
  listingKey,
  LISTING_KEY,
  publicVoteId,
  RANKS_PER_MINUTE,
  type ListingPosition,
} from "./vote-listing";

export const VOTES_PAGE_MAX = 500;
export const VOTES_PAGE_DEFAULT = 100;

export const PollVote = z
  .object({
    id: z.string().openapi({ description: "Opaque and stable; not the id the voter was given." }),
    optionId: z.string(),
    optionText: z.string(),
    createdAt: z.string().openapi({
      description:
        "The minute the vote was recorded in, plus the vote's rank in the list within that minute as milliseconds " +
        "(not a time: votes of a minute come in a random order). Unique and increasing along the list: pass the last one " +
        "as cursor to page on.",
      example: "2026-11-23T10:04:00.002Z",
    }),
    shownOrder: z.array(z.string()).nullable().openapi({ description: "Option ids in the order the voter saw them, when known." }),
    shownPosition: z.number().int().nullable().openapi({ description: "0-based position of the chosen option in shownOrder." }),
    demographics: VoteDemographics,
  })
  .openapi("PollVote");

export const PollVotesPage = z
  .object({ votes: z.array(PollVote), nextCursor: z.string().nullable() })
  .openapi("PollVotesPage");

const votesRoute = (guards: RouteGuards) =>
  createRoute({
    method: "get",
    path: `${POLLS_PATH}/{id}/votes`,
    summary: "Individual votes of a poll, anonymised, by minute",
    middleware: [guards.api],
    description:
      `${READ_TOKEN_HEADERS_DESCRIPTION} limit 1–${VOTES_PAGE_MAX} (default ${VOTES_PAGE_DEFAULT}). Pass nextCursor as ` +
      "cursor for the next page; an ISO timestamp is also accepted (the votes listed after that createdAt: exact up to " +
      "60,000 votes a minute). createdAt is the minute a vote was recorded in plus its rank within the minute, and votes " +
      "within a minute come in a random order fixed when they were cast, so the list never tells who voted first. A " +
      "minute's votes are listed once the minute has ended (about 10 s later), or at once when the poll is completed.",
    request: {
      params: z.object({ id: z.string() }),
      headers: ReadTokenHeaders,
      query: z.object({
        limit: z.string().optional().openapi({ example: "500" }),
        cursor: z.string().optional().openapi({ description: "nextCursor from the previous page, or an ISO timestamp (votes listed after it)." }),
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

type Start = { after: ListingPosition } | { afterMinute: string } | undefined;

/** Where the page starts: after the cursor's vote, or after the vote an ISO createdAt names. */
async function resolveStart(db: Kysely<Database>, pollId: string, raw: string | undefined): Promise<Start> {
  if (raw === undefined || raw.trim() === "") return undefined;
  const instant = parseIsoInstant(raw.trim());
  if (!instant) return { after: decodeListingCursor(raw.trim()) };
  // An ISO instant is read as a listed createdAt (minute + rank): never finer than the listing, so it
  // cannot tell apart votes of one minute by their real times.
  const { minute, rank } = instantPosition(instant);
  if (rank >= RANKS_PER_MINUTE - 1) return { afterMinute: minute };
  const named = await db
    .selectFrom("votes")
    .select(LISTING_KEY.as("key"))
    .where("poll_id", "=", pollId)
    .where(LISTED_MINUTE, "=", minute)
    .orderBy(LISTING_KEY)
    .limit(1)
    .offset(rank)
    .executeTakeFirst();
  return named ? { after: { minute, key: named.key, rank } } : { afterMinute: minute };
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

export interface VotesListDeps extends ReadAuthDeps {
  now: () => Date;
  guards: RouteGuards;
}

export function votesListRoutes(deps: VotesListDeps): OpenAPIHono<AppEnv> {
  const router = createRouter();
  router.openapi(votesRoute(deps.guards), async (c) => {
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    const poll = await pollForReader(c, deps, id);
    const limit = parseLimit(query.limit, VOTES_PAGE_MAX, VOTES_PAGE_DEFAULT);
    const start = await resolveStart(deps.store.db, id, query.cursor);
    const before = listableBefore(poll, deps.now());

    let sqlQuery = deps.store.db
      .selectFrom("votes")
      .select(["id", "option_id", "shown_order", "country", "age_band", "created_at"])
      .where("poll_id", "=", id);
    if (before !== undefined) sqlQuery = sqlQuery.where(LISTED_MINUTE, "<", before);
    if (start && "after" in start) {
      const { minute, key } = start.after;
      // Entered at the cursor's minute (an index range); within it, only the keys after the cursor's.
      sqlQuery = sqlQuery
        .where(LISTED_MINUTE, ">=", minute)
        .where((eb) => eb.or([eb(LISTED_MINUTE, ">", minute), eb(LISTING_KEY, ">", key)]));
    } else if (start) {
      sqlQuery = sqlQuery.where(LISTED_MINUTE, ">", start.afterMinute);
    }
    const [rows, options] = await Promise.all([
      sqlQuery.orderBy(LISTED_MINUTE).orderBy(LISTING_KEY).limit(limit + 1).execute(),
      findOptions(deps.store.db, id),
    ]);
    const textOf = new Map(options.map((o) => [o.id, o.text]));
    const page = rows.slice(0, limit);
    // Ranks within each minute, counted on from the start's vote.
    let minute = start && "after" in start ? start.after.minute : "";
    let rank = start && "after" in start ? start.after.rank : -1;
    const positions = page.map((row) => {
      const rowMinute = row.created_at.slice(0, 16);
      if (rowMinute !== minute) [minute, rank] = [rowMinute, -1];
      return { minute: rowMinute, key: listingKey(row.id), rank: ++rank };
    });
    const last = positions.at(-1);
    return c.json(
      {
        votes: page.map((row, i) => {
          const shownOrder = parseShownOrder(row.shown_order);
          const position = shownOrder ? shownOrder.indexOf(row.option_id) : -1;
          return {
            id: publicVoteId(row.id),
            optionId: row.option_id,
            optionText: textOf.get(row.option_id) ?? "",
            createdAt: listedTime(positions[i]!.minute, positions[i]!.rank),
            shownOrder,
            shownPosition: position >= 0 ? position : null,
            demographics: { country: row.country, ageBand: (row.age_band as z.infer<typeof VoteDemographics>["ageBand"]) ?? null },
          };
        }),
        nextCursor: rows.length > limit && last ? encodeListingCursor(last) : null,
      },
      200,
    );
  });
  return router;
}
