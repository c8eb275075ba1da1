// SQL for polls and their options.
import { sql, type Kysely } from "kysely";
import { runTemplated } from "../db/compiled";
import type { Database, NewPoll, PollOptionRow, PollRow } from "../db/schema";

export interface NewOption {
  id: string;
  position: number;
  text: string;
  mediaUrl: string | null;
}

export function insertPoll(db: Kysely<Database>, poll: NewPoll) {
  return db.insertInto("polls").values(poll);
}

export function insertOptions(db: Kysely<Database>, pollId: string, options: readonly NewOption[]) {
  return db.insertInto("poll_options").values(
    options.map((option) => ({
      poll_id: pollId,
      position: option.position,
      id: option.id,
      text: option.text,
      media_url: option.mediaUrl,
    })),
  );
}

export function activatePoll(db: Kysely<Database>, pollId: string, at: string) {
  return db
    .updateTable("polls")
    .set({ status: "active", activated_at: at })
    .where("id", "=", pollId)
    .where("status", "=", "pending_payment");
}

export function failPoll(db: Kysely<Database>, pollId: string) {
  return db
    .updateTable("polls")
    .set({ status: "payment_failed" })
    .where("id", "=", pollId)
    .where("status", "=", "pending_payment");
}

// The two reads every vote, result and poll page makes: compiled once, then only re-bound.
export async function findPoll(db: Kysely<Database>, pollId: string): Promise<PollRow | undefined> {
  const rows = await runTemplated<PollRow>(db, "findPoll", ["pollId"], (d, p) => d.selectFrom("polls").selectAll().where("id", "=", p.pollId!), [pollId]);
  return rows[0];
}

/** What the read side needs of a poll (access checks and the results header): a third of a row. */
export const READ_SIDE_POLL_COLUMNS = ["id", "status", "vote_count", "max_responses", "expires_at", "completed_at", "public_results", "refund_policy"] as const;
export type ReadSidePollRow = Pick<PollRow, (typeof READ_SIDE_POLL_COLUMNS)[number]>;

export async function findReadSidePoll(db: Kysely<Database>, pollId: string): Promise<ReadSidePollRow | undefined> {
  const rows = await runTemplated<ReadSidePollRow>(
    db,
    "findReadSidePoll",
    ["pollId"],
    (d, p) => d.selectFrom("polls").select(READ_SIDE_POLL_COLUMNS).where("id", "=", p.pollId!),
    [pollId],
  );
  return rows[0];
}

export function findOptions(db: Kysely<Database>, pollId: string): Promise<PollOptionRow[]> {
  return runTemplated<PollOptionRow>(
    db,
    "findOptions",
    ["pollId"],
    (d, p) => d.selectFrom("poll_options").selectAll().where("poll_id", "=", p.pollId!).orderBy("position"),
    [pollId],
  );
}

/**
 * Options of several polls at once (list pages), in display order. The ids travel as one JSON array
 * parameter (json_each, in SQLite and D1), so the statement is the same for any page size: compiled and
 * prepared once instead of once per distinct length.
 */
export function findOptionsOfPolls(db: Kysely<Database>, pollIds: readonly string[]): Promise<PollOptionRow[]> {
  if (pollIds.length === 0) return Promise.resolve([]);
  return runTemplated<PollOptionRow>(
    db,
    "findOptionsOfPolls",
    ["pollIds"],
    (d, p) =>
      d
        .selectFrom("poll_options")
        .selectAll()
        .where(sql<boolean>`poll_id IN (SELECT value FROM json_each(${p.pollIds}))`)
        .orderBy("poll_id")
        .orderBy("position"),
    [JSON.stringify(pollIds)],
  );
}

export function groupOptionsByPoll(options: readonly PollOptionRow[]): Map<string, PollOptionRow[]> {
  const byPoll = new Map<string, PollOptionRow[]>();
  for (const option of options) {
    const list = byPoll.get(option.poll_id);
    if (list) list.push(option);
    else byPoll.set(option.poll_id, [option]);
  }
  return byPoll;
}
