-- Two more final poll statuses, and the moderation records behind one of them:
--   closed:  the payer ended the poll early (POST /api/v1/polls/{id}/close);
--   removed: the operator took the poll down (admin API, `npm run admin -- takedown`).
-- Like `expired`, both are final: no more votes, the webhook fires once, unfilled responses are refunded.
-- Plain SQL that both better-sqlite3 and Cloudflare D1 (`wrangler d1 migrations apply`) can run.
--
-- SQLite cannot change a CHECK constraint in place, so `polls` is rebuilt. Six tables reference polls(id)
-- by foreign key and both SQLite (src/db/sqlite.ts) and D1 enforce them, so the usual "create new, copy,
-- drop old, rename new" would rename a table that nothing references and leave the drop's violations
-- counted. Instead:
--   1. foreign keys are checked at COMMIT, not per statement (defer_foreign_keys resets itself then; it
--      is the pragma D1 documents for migrations; PRAGMA foreign_keys cannot change inside a transaction);
--   2. the rows are copied aside, polls is dropped (its children now dangle: counted, not refused),
--      polls is created again under its own name with the new CHECK, and the rows are copied back,
--      which settles every dangling child again; COMMIT then finds nothing to refuse;
--   3. every index of polls is recreated as it stood (0002, 0006). There are no triggers or views.
-- The columns keep their order and definitions: 0001's, transition_id (0002), public_results (0005).

PRAGMA defer_foreign_keys = ON;

CREATE TABLE polls_before_0012 AS SELECT * FROM polls;

DROP TABLE polls;

CREATE TABLE polls (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('pending_payment', 'active', 'completed', 'expired', 'payment_failed', 'closed', 'removed')),
  question TEXT NOT NULL,
  description TEXT,
  more_info_url TEXT,
  media_url TEXT,
  media_type TEXT,
  layout_type TEXT NOT NULL DEFAULT 'list' CHECK (layout_type IN ('list', 'grid')),
  max_responses INTEGER NOT NULL CHECK (max_responses > 0),
  vote_count INTEGER NOT NULL DEFAULT 0 CHECK (vote_count >= 0 AND vote_count <= max_responses),
  expires_at TEXT NOT NULL,
  callback_url TEXT,
  network TEXT NOT NULL,
  payer TEXT NOT NULL,
  cost_atomic TEXT NOT NULL,
  reward_pool_atomic TEXT NOT NULL,
  fee_atomic TEXT NOT NULL,
  created_at TEXT NOT NULL,
  activated_at TEXT,
  completed_at TEXT,
  transition_id TEXT,
  public_results INTEGER NOT NULL DEFAULT 0 CHECK (public_results IN (0, 1))
);

INSERT INTO polls (
  id, status, question, description, more_info_url, media_url, media_type, layout_type, max_responses, vote_count,
  expires_at, callback_url, network, payer, cost_atomic, reward_pool_atomic, fee_atomic, created_at, activated_at,
  completed_at, transition_id, public_results
)
SELECT
  id, status, question, description, more_info_url, media_url, media_type, layout_type, max_responses, vote_count,
  expires_at, callback_url, network, payer, cost_atomic, reward_pool_atomic, fee_atomic, created_at, activated_at,
  completed_at, transition_id, public_results
FROM polls_before_0012;

DROP TABLE polls_before_0012;

CREATE INDEX polls_by_status_expiry ON polls (status, expires_at);
CREATE INDEX polls_by_status_created ON polls (status, created_at, id);
CREATE INDEX polls_by_payer_created ON polls (payer, created_at, id);

-- Reports from voters (POST /api/v1/polls/{id}/reports, no World ID). One per poll and reporter: a
-- repeat from the same reporter updates nothing. reporter_key is a keyed hash of the client IP, never
-- the IP itself.
CREATE TABLE reports (
  id TEXT PRIMARY KEY,
  poll_id TEXT NOT NULL REFERENCES polls (id),
  reason TEXT NOT NULL CHECK (reason IN ('spam', 'offensive', 'illegal', 'misleading', 'other')),
  note TEXT CHECK (note IS NULL OR length(note) <= 500),
  reporter_key TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (poll_id, reporter_key)
);
CREATE INDEX reports_by_time ON reports (created_at, poll_id);

-- Every action of the operator (admin API): who did what to which poll, why, when, and what came of it.
CREATE TABLE admin_actions (
  id TEXT PRIMARY KEY,
  action TEXT NOT NULL CHECK (action IN ('takedown')),
  poll_id TEXT REFERENCES polls (id),
  actor TEXT NOT NULL,
  reason TEXT NOT NULL,
  -- 'applied': the poll changed; 'unchanged': it already was in that state (a repeat is still logged).
  outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'unchanged')),
  created_at TEXT NOT NULL
);
CREATE INDEX admin_actions_by_poll ON admin_actions (poll_id, created_at);
