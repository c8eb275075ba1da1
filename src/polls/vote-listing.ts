// How GET /api/v1/polls/{id}/votes lists votes so that a poll's creator cannot tell when exactly each one
// was cast, nor in which order (a vote's exact time is what would link it to a payout address):
//
// - Within a minute, votes come in the order of their listing key: the random part of the vote id
//   (the id's first 48 bits are its time in milliseconds, the rest is random), so the order says
//   nothing about who voted first. The index votes_by_poll_listing (migration 0010) serves this order.
// - `createdAt` is the minute the vote was recorded in plus its rank in that order as milliseconds: no
//   time finer than the minute, yet unique and increasing along the list, so a client of the contract
//   that passes the last `createdAt` it saw as `cursor=ISO` pages exactly (up to 60,000 votes a minute).
// - The `id` served is derived from the listing key only: the stored id, which carries the time, is
//   never shown.
// - A minute is listed once it has ended (plus a grace for writes in flight), so its list never changes
//   afterwards and a reader at the end never misses a vote that lands later in a minute it has read. A
//   completed poll takes no more votes: all of it is listed at once.
import { createHash } from "node:crypto";
import { sql } from "kysely";
import { ApiError } from "../http/errors";

/** Time a vote's write may take after its timestamp was taken: its minute is listed only after this. */
export const LISTING_GRACE_MS = 10_000;

/** `substr(created_at, 1, 16)`: "YYYY-MM-DDTHH:MM", the minute a vote was recorded in (created_at is an ISO instant in UTC). */
export const LISTED_MINUTE = sql<string>`substr(${sql.ref("created_at")}, 1, 16)`;
/** `substr(id, 16)`: the random part of a vote id. The same expressions as the index, so SQLite walks it. */
export const LISTING_KEY = sql<string>`substr(${sql.ref("id")}, 16)`;

const MINUTE_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;
const KEY_PATTERN = /^[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The minute key of an instant. */
export function minuteKeyOf(at: Date): string {
  return at.toISOString().slice(0, 16);
}

/** Ranks that fit in a minute's milliseconds; later votes of a huge minute share the last one. */
export const RANKS_PER_MINUTE = 60_000;

/** What a vote shows as its time: its minute, plus its rank within the minute as milliseconds. */
export function listedTime(minute: string, rank: number): string {
  return new Date(Date.parse(`${minute}:00.000Z`) + Math.min(rank, RANKS_PER_MINUTE - 1)).toISOString();
}

/** Where an ISO instant falls in the listing: a minute and a rank in it (see listedTime). */
export function instantPosition(instant: string): { minute: string; rank: number } {
  const at = new Date(instant);
  const minute = minuteKeyOf(at);
  return { minute, rank: at.getTime() - Date.parse(`${minute}:00.000Z`) };
}

/** The listing key of a stored vote id (what LISTING_KEY computes in SQL). */
export function listingKey(voteId: string): string {
  return voteId.slice(15);
}

/**
 * The id a reader sees: a UUID-shaped hash of the listing key. Stable, unique like the key, and free of
 * the time the stored id carries.
 */
export function publicVoteId(voteId: string): string {
  const h = createHash("sha256").update(`quali-vote-listing:${listingKey(voteId)}`).digest("hex");
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Minutes strictly before this key may be listed; undefined when every vote may be (a completed poll
 * takes no more votes).
 */
export function listableBefore(poll: { status: string }, now: Date): string | undefined {
  if (poll.status === "completed") return undefined;
  return minuteKeyOf(new Date(now.getTime() - LISTING_GRACE_MS));
}

/** A vote's place in the listing: its minute, its listing key and its rank in the minute. */
export interface ListingPosition {
  minute: string;
  key: string;
  rank: number;
}

/** The opaque cursor: base64url of "<minute>|<listing key>|<rank>" of the last vote served (no time finer than its minute). */
export function encodeListingCursor(position: ListingPosition): string {
  return Buffer.from(`${position.minute}|${position.key}|${position.rank}`, "utf8").toString("base64url");
}

/** Decodes a cursor this endpoint issued; 400 invalid_cursor otherwise. */
export function decodeListingCursor(raw: string): ListingPosition {
  const invalid = () => new ApiError(400, "invalid_cursor", "cursor is not a cursor this API issued.", "cursor");
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(raw)) throw invalid();
  const [minute, key, rank, extra] = Buffer.from(raw, "base64url").toString("utf8").split("|");
  if (extra !== undefined || !minute || !key || !rank || !MINUTE_KEY.test(minute) || !KEY_PATTERN.test(key) || !/^\d{1,9}$/.test(rank)) {
    throw invalid();
  }
  return { minute, key, rank: Number(rank) };
}
