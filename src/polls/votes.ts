// GET /api/v1/polls/{id}/votes?limit=500&cursor=…: the individual votes, anonymised (no nullifiers, no
// payout addresses), by minute. A vote's time is shown to the minute and votes within a minute come in a
// random order fixed when they were cast (src/polls/vote-listing.ts): the list alone never tells which vote
// came first or exactly when, which is what could link a vote to the wallet it paid. `nextCursor` is
// opaque; an ISO timestamp is also accepted as the cursor and means "votes listed after that createdAt".
// With `Accept: text/csv` or `format=csv`: every listed vote as one streamed CSV (src/polls/votes-csv.ts).
import type { Kysely } from "kysely";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Database } from "../db/schema";
import { createRouter, type AppEnv } from "../http/app-env";
import { ErrorResponse } from "../http/openapi-shapes";
import { parseIsoInstant, parseLimit } from "../http/pagination";
import type { RouteGuards } from "../http/route-guards";
import { VoteDemographics } from "./demographics";
import { POLLS_PATH } from "./paths";
import { pollForReader, READ_AUTH_ERROR_RESPONSES, READ_TOKEN_HEADERS_DESCRIPTION, ReadTokenHeaders, type ReadAuthDeps } from "./read-auth";
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
import { CSV_CONTENT_TYPE, VOTES_CSV_COLUMNS, votesCsvFilename, votesCsvStream, votesFormat } from "./votes-csv";
import { PollVote, PollVotesPage } from "./wire";

export { PollVote, PollVotesPage } from "./wire";

export const VOTES_PAGE_MAX = 500;
export const VOTES_PAGE_DEFAULT = 100;

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
      "minute's votes are listed once the minute has ended (about 10 s later), or at once when the poll is completed. " +
      "With `Accept: text/csv` or `format=csv`: every listed vote of the poll as one CSV download (RFC 4180, UTF-8, a header " +
      "row, the same columns with demographics as country and ageBand and shownOrder as space-separated option ids; limit and " +
      "cursor do not apply). A field starting with =, +, -, @, tab, CR, LF or NUL is prefixed with ' so spreadsheets never " +
      "evaluate it. Errors stay JSON.",
    request: {
      params: z.object({ id: z.string() }),
      headers: ReadTokenHeaders,
      query: z.object({
        limit: z.string().optional().openapi({ example: "500" }),
        cursor: z.string().optional().openapi({ description: "nextCursor from the previous page, or an ISO timestamp (votes listed after it)." }),
        format: z
          .enum(["json", "csv"])
          .optional()
          .openapi({ description: "csv: every vote as a CSV download (as Accept: text/csv). Default: JSON pages, or CSV when Accept prefers text/csv." }),
      }),
    },
    responses: {
      200: {
        description: "A page of votes (JSON), or every vote (CSV)",
        content: {
          "application/json": { schema: PollVotesPage },
          "text/csv": {
            schema: z.string().openapi({
              description: "Header row, then one record per vote, CRLF-terminated. Sent as an attachment named poll-<id>-votes.csv.",
              example:
                `${VOTES_CSV_COLUMNS.join(",")}\r\n` +
                "9b2f0c1e-5d3a-4c7b-8e1f-2a6b9c0d3e4f,5a0e7c2b-1f4d-4e8a-9b3c-6d2f8e1a4c7b,Option A,2026-11-23T10:04:00.002Z," +
                "5a0e7c2b-1f4d-4e8a-9b3c-6d2f8e1a4c7b 0c9d3e6f-2a1b-4c5d-8e7f-9a0b1c2d3e4f,0,DE,25-34\r\n",
            }),
          },
        },
      },
      400: { description: "Invalid limit, cursor or format", content: { "application/json": { schema: ErrorResponse } } },
      ...READ_AUTH_ERROR_RESPONSES,
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

async function optionTextsOf(db: Kysely<Database>, pollId: string): Promise<ReadonlyMap<string, string>> {
  return new Map((await findOptions(db, pollId)).map((o) => [o.id, o.text]));
}

/**
 * Up to `limit` listed votes after `start` (keyset: an index range, never an offset), as the API shows
 * them, and the position of the last one when more follow. The JSON pages and the CSV export both read
 * through here, so their rows cannot differ.
 */
async function readVotePage(
  db: Kysely<Database>,
  pollId: string,
  page: { start: Start; before: string | undefined; limit: number; optionTexts: Promise<ReadonlyMap<string, string>> },
): Promise<{ votes: z.infer<typeof PollVote>[]; next: ListingPosition | null }> {
  const { start, before, limit } = page;
  let sqlQuery = db
    .selectFrom("votes")
    .select(["id", "option_id", "shown_order", "country", "age_band", "created_at"])
    .where("poll_id", "=", pollId);
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
  const [rows, textOf] = await Promise.all([sqlQuery.orderBy(LISTED_MINUTE).orderBy(LISTING_KEY).limit(limit + 1).execute(), page.optionTexts]);
  const listed = rows.slice(0, limit);
  // Ranks within each minute, counted on from the start's vote.
  let minute = start && "after" in start ? start.after.minute : "";
  let rank = start && "after" in start ? start.after.rank : -1;
  const positions = listed.map((row) => {
    const rowMinute = row.created_at.slice(0, 16);
    if (rowMinute !== minute) [minute, rank] = [rowMinute, -1];
    return { minute: rowMinute, key: listingKey(row.id), rank: ++rank };
  });
  const last = positions.at(-1);
  return {
    votes: listed.map((row, i) => {
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
    next: rows.length > limit && last ? last : null,
  };
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
    const before = listableBefore(poll, deps.now());
    // One URL, two representations: caches must key on Accept.
    c.header("vary", "Accept");
    if (votesFormat(query.format, c.req.header("accept")) === "csv") {
      // `before` is fixed for the whole export: minutes before it never change, so the file is a consistent
      // snapshot however long the download takes.
      let optionTexts: Promise<ReadonlyMap<string, string>> | undefined;
      const stream = votesCsvStream((after, limit) => {
        optionTexts ??= optionTextsOf(deps.store.db, id);
        return readVotePage(deps.store.db, id, { start: after ? { after } : undefined, before, limit, optionTexts });
      });
      return c.body(stream, 200, {
        "content-type": CSV_CONTENT_TYPE,
        "content-disposition": `attachment; filename="${votesCsvFilename(id)}"`,
        "cache-control": "private, no-store",
      });
    }
    const limit = parseLimit(query.limit, VOTES_PAGE_MAX, VOTES_PAGE_DEFAULT);
    const start = await resolveStart(deps.store.db, id, query.cursor);
    const page = await readVotePage(deps.store.db, id, { start, before, limit, optionTexts: optionTextsOf(deps.store.db, id) });
    return c.json({ votes: page.votes, nextCursor: page.next ? encodeListingCursor(page.next) : null }, 200);
  });
  return router;
}
