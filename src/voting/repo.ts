// SQL of the voting feature besides the vote write (record-vote.ts): World ID proof requests, the voter
// feed, and reward totals.
import { sql, type Kysely } from "kysely";
import type { Database, PollRow, WorldIdRequestRow } from "../db/schema";
import type { Store } from "../db/store";
import type { CursorPosition } from "../http/pagination";

export function insertWorldIdRequest(db: Kysely<Database>, request: Omit<WorldIdRequestRow, "used_at">) {
  return db.insertInto("world_id_requests").values({ ...request, used_at: null });
}

export function findWorldIdRequest(db: Kysely<Database>, nonce: string): Promise<WorldIdRequestRow | undefined> {
  return db.selectFrom("world_id_requests").selectAll().where("nonce", "=", nonce).executeTakeFirst();
}

/** Forgets requests that can no longer be used: unused ones a day after they expired. */
export async function pruneWorldIdRequests(store: Store, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - 24 * 3600_000).toISOString();
  const [result] = await store.batch([
    store.db.deleteFrom("world_id_requests").where("used_at", "is", null).where("expires_at", "<", cutoff),
  ]);
  return result?.changes ?? 0;
}

/** Active polls a voter can answer now, newest first: settled, not expired, not full. */
export function findVotablePolls(
  db: Kysely<Database>,
  options: { now: string; limit: number; after?: CursorPosition },
): Promise<PollRow[]> {
  let query = db
    .selectFrom("polls")
    .selectAll()
    .where("status", "=", "active")
    .where("expires_at", ">", options.now)
    .where("vote_count", "<", sql<number>`max_responses`);
  const after = options.after;
  if (after) {
    query = query.where((eb) =>
      eb.or([eb("created_at", "<", after.createdAt), eb.and([eb("created_at", "=", after.createdAt), eb("id", "<", after.id)])]),
    );
  }
  return query.orderBy("created_at", "desc").orderBy("id", "desc").limit(options.limit).execute();
}

export function findRewardBalances(db: Kysely<Database>, address: string) {
  return db.selectFrom("reward_balances").selectAll().where("address", "=", address).orderBy("network").execute();
}
