-- Voting by World ID-verified humans, the poll lifecycle, and the read side.
-- Plain SQL that both better-sqlite3 and Cloudflare D1 (`wrangler d1 migrations apply`) can run.

-- Set to a fresh id by every lifecycle transition (src/polls/lifecycle.ts), so statements appended to
-- the same batch (the webhook outbox) can take effect only when that batch made the transition.
ALTER TABLE polls ADD COLUMN transition_id TEXT;
-- The expiry sweep: active polls whose expires_at has passed.
CREATE INDEX polls_by_status_expiry ON polls (status, expires_at);

-- One row per World ID proof request we signed: the nonce is single-use and binds the proof to one
-- poll, one option and one payout address (through the signal).
CREATE TABLE world_id_requests (
  nonce TEXT PRIMARY KEY,
  poll_id TEXT NOT NULL REFERENCES polls (id),
  option_id TEXT NOT NULL,
  payout_address TEXT NOT NULL,
  signal TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);
CREATE INDEX world_id_requests_by_expiry ON world_id_requests (expires_at);

-- One row per accepted vote. The unique index is the one-vote-per-human rule: the portal answers 200
-- to a reused nullifier, so this constraint is what refuses the second vote.
CREATE TABLE votes (
  id TEXT PRIMARY KEY,
  poll_id TEXT NOT NULL REFERENCES polls (id),
  option_id TEXT NOT NULL REFERENCES poll_options (id),
  nullifier TEXT NOT NULL,
  world_id_nonce TEXT NOT NULL,
  -- JSON array of the option ids in the order the voter was shown them; NULL when the client did not say.
  shown_order TEXT,
  country TEXT,
  age_band TEXT,
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX votes_one_per_human ON votes (poll_id, nullifier);
CREATE INDEX votes_by_poll_time ON votes (poll_id, created_at, id);

-- Per-option demographic counters, so results stay O(options) and never scan votes.
CREATE TABLE poll_demographic_counts (
  poll_id TEXT NOT NULL REFERENCES polls (id),
  dimension TEXT NOT NULL CHECK (dimension IN ('country', 'age_band')),
  value TEXT NOT NULL,
  option_id TEXT NOT NULL,
  count INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0),
  PRIMARY KEY (poll_id, dimension, value, option_id)
);

-- The voter rewards ledger: one credit per accepted vote, on the network the poll was paid on.
CREATE TABLE reward_ledger (
  vote_id TEXT PRIMARY KEY REFERENCES votes (id),
  address TEXT NOT NULL,
  network TEXT NOT NULL,
  amount_atomic TEXT NOT NULL,
  created_at TEXT NOT NULL,
  payout_id TEXT
);
CREATE INDEX reward_ledger_by_address ON reward_ledger (address, network);

-- Running totals of the ledger per payout address and network (atomic USDC as a 64-bit integer).
CREATE TABLE reward_balances (
  address TEXT NOT NULL,
  network TEXT NOT NULL,
  votes INTEGER NOT NULL DEFAULT 0,
  accrued_atomic INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (address, network)
);
