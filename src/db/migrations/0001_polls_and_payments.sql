-- Polls paid for over x402, their options, and the payment authorizations that paid for them.
-- Plain SQL that both better-sqlite3 and Cloudflare D1 (`wrangler d1 migrations apply`) can run.

CREATE TABLE polls (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('pending_payment', 'active', 'completed', 'expired', 'payment_failed')),
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
  completed_at TEXT
);

CREATE INDEX polls_by_payer ON polls (payer, created_at);
CREATE INDEX polls_by_status ON polls (status, created_at);

CREATE TABLE poll_options (
  poll_id TEXT NOT NULL REFERENCES polls (id),
  position INTEGER NOT NULL,
  id TEXT NOT NULL UNIQUE,
  text TEXT NOT NULL,
  media_url TEXT,
  vote_count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (poll_id, position)
);

-- One row per EIP-3009 authorization we accepted. The partial unique index is the replay guard:
-- two requests carrying the same authorization can never both claim it, yet an authorization whose
-- settlement definitively failed (never reached the chain) may be presented again.
CREATE TABLE payments (
  id TEXT PRIMARY KEY,
  poll_id TEXT NOT NULL REFERENCES polls (id),
  network TEXT NOT NULL,
  payer TEXT NOT NULL,
  nonce TEXT NOT NULL,
  asset TEXT NOT NULL,
  pay_to TEXT NOT NULL,
  amount_atomic TEXT NOT NULL,
  valid_before INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('claimed', 'settled', 'failed')),
  tx_hash TEXT,
  failure_reason TEXT,
  created_at TEXT NOT NULL,
  settled_at TEXT
);

CREATE UNIQUE INDEX payments_authorization ON payments (network, payer, nonce) WHERE status <> 'failed';
CREATE INDEX payments_by_poll ON payments (poll_id);
CREATE INDEX payments_by_status ON payments (status);
