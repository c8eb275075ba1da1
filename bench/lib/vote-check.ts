// The vote scenario's checks on a database after a run (the service's, or the vote ceiling's copy): every
// accepted vote is one vote row, counted once on the poll and its options, credited once in the ledger,
// and the poll never went past maxResponses. And the copy the ceiling starts from: the service's database
// as it is just before the vote run, taken with SQLite's online backup (the service keeps running).
import BetterSqlite3 from "better-sqlite3";

export interface VoteCounters {
  pollVoteCount: number;
  maxResponses: number;
  voteRows: number;
  optionSum: number;
  ledgerRows: number;
  /** All of the above agree with the number of 201s, within maxResponses. */
  consistent: boolean;
}

export function voteCounters(file: string, pollId: string, accepted201: number): VoteCounters {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const poll = db.prepare("SELECT vote_count, max_responses FROM polls WHERE id = ?").get(pollId) as { vote_count: number; max_responses: number };
    const count = (sql: string) => (db.prepare(sql).get(pollId) as { n: number | null }).n ?? 0;
    const voteRows = count("SELECT count(*) AS n FROM votes WHERE poll_id = ?");
    const optionSum = count("SELECT sum(vote_count) AS n FROM poll_options WHERE poll_id = ?");
    const ledgerRows = count("SELECT count(*) AS n FROM reward_ledger JOIN votes ON votes.id = reward_ledger.vote_id WHERE votes.poll_id = ?");
    const consistent =
      poll.vote_count === accepted201 && voteRows === accepted201 && optionSum === accepted201 && ledgerRows === accepted201 && poll.vote_count <= poll.max_responses;
    return { pollVoteCount: poll.vote_count, maxResponses: poll.max_responses, voteRows, optionSum, ledgerRows, consistent };
  } finally {
    db.close();
  }
}

/** A consistent copy of a live SQLite database (WAL included) at `destination`. */
export async function copyDatabase(source: string, destination: string): Promise<void> {
  const db = new BetterSqlite3(source, { readonly: true });
  try {
    await db.backup(destination);
  } finally {
    db.close();
  }
}
