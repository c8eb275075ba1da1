// The reads of a vote (POST /api/v1/polls/{id}/votes), narrowed to what it uses: every vote makes them,
// so each is compiled once (src/db/compiled.ts) and returns only the columns the route reads.
import type { Kysely } from "kysely";
import { runTemplated } from "../db/compiled";
import { BoundedMap } from "../lib/bounded-map";
import type { Database, PollRow } from "../db/schema";

/** What a vote needs of its poll (before the write, and again for the answer). */
export type VotePollRow = Pick<PollRow, "id" | "status" | "vote_count" | "max_responses" | "expires_at" | "completed_at" | "network">;

export async function findVotePoll(db: Kysely<Database>, pollId: string): Promise<VotePollRow | undefined> {
  const rows = await runTemplated<VotePollRow>(
    db,
    "findVotePoll",
    ["pollId"],
    (d, p) =>
      d
        .selectFrom("polls")
        .select(["id", "status", "vote_count", "max_responses", "expires_at", "completed_at", "network"])
        .where("id", "=", p.pollId!),
    [pollId],
  );
  return rows[0];
}

/** Option ids per poll, per database: a poll's options never change once it is created. */
const optionIdCache = new WeakMap<Kysely<Database>, BoundedMap<string, readonly string[]>>();
/** How many of the latest polls voted on keep their option ids. */
const OPTION_ID_POLLS = 1024;

/** The ids of a poll's options (remembered for the latest polls voted on). */
export async function findOptionIds(db: Kysely<Database>, pollId: string): Promise<readonly string[]> {
  let cache = optionIdCache.get(db);
  if (!cache) {
    cache = new BoundedMap(OPTION_ID_POLLS);
    optionIdCache.set(db, cache);
  }
  const cached = cache.get(pollId);
  if (cached) return cached;
  const rows = await runTemplated<{ id: string }>(
    db,
    "findOptionIds",
    ["pollId"],
    (d, p) => d.selectFrom("poll_options").select("id").where("poll_id", "=", p.pollId!).orderBy("position"),
    [pollId],
  );
  const ids = rows.map((row) => row.id);
  // Options are written with their poll in one batch, so a poll that has any has all of them.
  if (ids.length > 0) cache.set(pollId, ids);
  return ids;
}
