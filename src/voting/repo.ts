// SQL of the voting feature besides the vote write (record-vote.ts): World ID proof requests and the
// voter feed.
import { sql, type Kysely } from "kysely";
import type { Database, PollRow, WorldIdRequestRow } from "../db/schema";
import { runTemplated } from "../db/compiled";
import type { Store } from "../db/store";
import type { CursorPosition } from "../http/pagination";

export function insertWorldIdRequest(db: Kysely<Database>, request: Omit<WorldIdRequestRow, "used_at">) {
  return db.insertInto("world_id_requests").values({ ...request, used_at: null });
}

export async function findWorldIdRequest(db: Kysely<Database>, nonce: string): Promise<WorldIdRequestRow | undefined> {
  const rows = await runTemplated<WorldIdRequestRow>(
    db,
    "findWorldIdRequest",
    ["nonce"],
    (d, p) => d.selectFrom("world_id_requests").selectAll().where("nonce", "=", p.nonce!),
    [nonce],
  );
  return rows[0];
}

/** Forgets requests that can no longer be used: unused ones a day after they expired. */
export async function pruneWorldIdRequests(store: Store, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - 24 * 3600_000).toISOString();
  const [result] = await store.batch([
    store.db.deleteFrom("world_id_requests").where("used_at", "is", null).where("expires_at", "<", cutoff),
  ]);
  return result?.changes ?? 0;
}

/** The columns a feed card shows: the feed is read often, and a whole row is twice as many values per poll. */
export const FEED_POLL_COLUMNS = [
  "id",
  "status",
  "question",
  "description",
  "more_info_url",
  "media_url",
  "media_type",
  "layout_type",
  "max_responses",
  "vote_count",
  "expires_at",
  "network",
  "created_at",
] as const satisfies readonly (keyof PollRow)[];

export type FeedPollRow = Pick<PollRow, (typeof FEED_POLL_COLUMNS)[number]>;

/** Active polls a voter can answer now, newest first: settled, not expired, not full. */
export function findVotablePolls(
  db: Kysely<Database>,
  options: { now: string; limit: number; after?: CursorPosition },
): Promise<FeedPollRow[]> {
  // Walks polls_by_status_created newest first and stops after `limit` matches. The unary + keeps
  // SQLite from picking polls_by_status_expiry instead (which would read and sort every active poll);
  // the cursor is a row-value range, so a later page starts where the last one ended. Compiled once.
  const after = options.after;
  const build = (d: Kysely<Database>, p: Record<string, string>) => {
    let query = d
      .selectFrom("polls")
      .select(FEED_POLL_COLUMNS)
      .where("status", "=", "active")
      .where(sql<string>`+expires_at`, ">", p.now!)
      .where("vote_count", "<", sql<number>`max_responses`);
    if (after) query = query.where((eb) => eb(eb.refTuple("created_at", "id"), "<", eb.tuple(p.createdAt!, p.id!)));
    return query
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(sql<number>`${p.limit}`);
  };
  return after
    ? runTemplated<FeedPollRow>(db, "findVotablePolls:after", ["now", "limit", "createdAt", "id"], build, [options.now, options.limit, after.createdAt, after.id])
    : runTemplated<FeedPollRow>(db, "findVotablePolls", ["now", "limit"], build, [options.now, options.limit]);
}
