// Bulk data for the read scenarios, written straight into the service's SQLite file (one transaction
// each, seconds, not HTTP): 10,000 active polls for the voter feed, and 1,000,000 votes on one poll
// with every counter the vote write maintains set to match them (poll and option counts, per-option
// demographic counts, completion). Seeded votes carry no rewards-ledger rows: no read scenario looks
// at the ledger, and the payout job would otherwise sum a million synthetic rewards mid-bench.
import { randomUUID } from "node:crypto";
import BetterSqlite3 from "better-sqlite3";

const COUNTRIES = ["US", "DE", "IN", "BR", "NG", "JP", "FR", "GB"];
const AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"];

function open(file: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 10000");
  return db;
}

/** `count` active, votable polls (2–4 options each), created over the last hours, newest last. */
export function seedFeedPolls(file: string, input: { count: number; network: string; payer: string }): void {
  const db = open(file);
  try {
    const insertPoll = db.prepare(
      `INSERT INTO polls (id, status, question, description, layout_type, max_responses, vote_count, expires_at, network, payer,
                          cost_atomic, reward_pool_atomic, fee_atomic, created_at, activated_at)
       VALUES (?, 'active', ?, ?, 'list', 100, 0, ?, ?, ?, '500000', '50000', '450000', ?, ?)`,
    );
    const insertOption = db.prepare("INSERT INTO poll_options (poll_id, position, id, text) VALUES (?, ?, ?, ?)");
    const now = Date.now();
    const expiresAt = new Date(now + 7 * 24 * 3600_000).toISOString();
    db.transaction(() => {
      for (let i = 0; i < input.count; i++) {
        const id = randomUUID();
        const createdAt = new Date(now - 6 * 3600_000 + i * 1_000).toISOString();
        insertPoll.run(id, `Seeded question ${i}?`, "Seeded for the voter feed benchmark", expiresAt, input.network, input.payer, createdAt, createdAt);
        for (let position = 0; position < 2 + (i % 3); position++) insertOption.run(id, position, randomUUID(), `Option ${position + 1}`);
      }
    })();
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

/**
 * `count` votes on `pollId` (spread over its options, most with demographics), then the counters the
 * vote write keeps, recomputed from those rows; the poll ends completed if it is now full.
 */
export function seedVotes(file: string, input: { pollId: string; count: number }): void {
  const db = open(file);
  try {
    const options = db.prepare("SELECT id FROM poll_options WHERE poll_id = ? ORDER BY position").all(input.pollId) as { id: string }[];
    if (options.length === 0) throw new Error(`poll ${input.pollId} has no options`);
    const startSeconds = Date.now() / 1000 - 24 * 3600;
    const optionCase = `CASE n % ${options.length} ${options.map((_, i) => `WHEN ${i} THEN @o${i}`).join(" ")} END`;
    // n % 10 = 0 states no country, n % 7 = 0 no age band: "not stated" is exercised too.
    const countryCase = `CASE WHEN n % 10 = 0 THEN NULL ${COUNTRIES.map((c, i) => `WHEN n % ${COUNTRIES.length} = ${i} THEN '${c}'`).join(" ")} END`;
    const ageCase = `CASE WHEN n % 7 = 0 THEN NULL ${AGE_BANDS.map((a, i) => `WHEN n % ${AGE_BANDS.length} = ${i} THEN '${a}'`).join(" ")} END`;
    const params: Record<string, string | number> = { poll: input.pollId, last: input.count - 1, start: startSeconds };
    options.forEach((o, i) => (params[`o${i}`] = o.id));
    db.transaction(() => {
      db.prepare(
        `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < @last)
         INSERT INTO votes (id, poll_id, option_id, nullifier, world_id_nonce, shown_order, country, age_band, created_at)
         SELECT printf('seed-%s-%08d', @poll, n), @poll, ${optionCase}, printf('0x%064x', n), printf('0x%064x', n), NULL,
                ${countryCase}, ${ageCase}, strftime('%Y-%m-%dT%H:%M:%fZ', @start + n * 0.05, 'unixepoch')
         FROM seq`,
      ).run(params);
      db.prepare(
        `UPDATE poll_options SET vote_count = (SELECT count(*) FROM votes WHERE votes.option_id = poll_options.id) WHERE poll_id = ?`,
      ).run(input.pollId);
      db.prepare("DELETE FROM poll_demographic_counts WHERE poll_id = ?").run(input.pollId);
      for (const [dimension, column] of [
        ["country", "country"],
        ["age_band", "age_band"],
      ] as const) {
        db.prepare(
          `INSERT INTO poll_demographic_counts (poll_id, dimension, value, option_id, count)
           SELECT poll_id, '${dimension}', ${column}, option_id, count(*) FROM votes
           WHERE poll_id = ? AND ${column} IS NOT NULL GROUP BY ${column}, option_id`,
        ).run(input.pollId);
      }
      const lastVoteAt = (db.prepare("SELECT max(created_at) AS at FROM votes WHERE poll_id = ?").get(input.pollId) as { at: string }).at;
      db.prepare(
        `UPDATE polls SET vote_count = (SELECT count(*) FROM votes WHERE poll_id = polls.id),
                          status = CASE WHEN (SELECT count(*) FROM votes WHERE poll_id = polls.id) >= max_responses THEN 'completed' ELSE status END,
                          completed_at = CASE WHEN (SELECT count(*) FROM votes WHERE poll_id = polls.id) >= max_responses THEN ? ELSE completed_at END,
                          transition_id = ?
         WHERE id = ?`,
      ).run(lastVoteAt, randomUUID(), input.pollId);
    })();
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}
