-- Refunds of unfilled responses (src/payouts/refunds.ts, docs/refunds.md).
-- Plain SQL that both better-sqlite3 and Cloudflare D1 (`wrangler d1 migrations apply`) can run.
--
-- 1. Each poll records the refund policy it was sold under (REFUND_POLICY at creation): 'unfilled' refunds
--    (maxResponses − voteCount) × the price per response when the poll ends without filling up (expired,
--    closed, removed); 'none' refunds nothing. Polls created before this migration were sold without
--    refunds: they read 'none', and a later change of REFUND_POLICY never touches an existing poll.
ALTER TABLE polls ADD COLUMN refund_policy TEXT NOT NULL DEFAULT 'none' CHECK (refund_policy IN ('unfilled', 'none'));

-- 2. `payouts` becomes the one queue of outgoing transfers from the payout wallet, with a kind:
--      reward: a voter's ledger entries (as before: address = the voter, trigger threshold|request);
--      refund: the unfilled responses of one poll (address = the poll's payer, poll_id set, no ledger
--              entries, trigger 'poll_ended').
--    Both go through the same states (claimed → signed → sent → confirmed | failed | parked), nonces,
--    crash reconciliation, wallet check and pause.
--
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt as 0009 did: same columns
-- plus kind and poll_id, every index recreated. Nothing references payouts by foreign key.
CREATE TABLE payouts_with_kind (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL DEFAULT 'reward' CHECK (kind IN ('reward', 'refund')),
  -- refund: the poll whose unfilled responses it pays back; reward: NULL.
  poll_id TEXT,
  address TEXT NOT NULL,
  network TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('claimed', 'signed', 'sent', 'confirmed', 'failed', 'parked')),
  trigger TEXT NOT NULL CHECK (trigger IN ('threshold', 'request', 'poll_ended')),
  amount_atomic TEXT NOT NULL DEFAULT '0',
  entries INTEGER NOT NULL DEFAULT 0,
  from_address TEXT,
  token TEXT,
  nonce INTEGER,
  signed_tx TEXT,
  tx_hash TEXT,
  block_number INTEGER,
  broadcasts INTEGER NOT NULL DEFAULT 0,
  failure_reason TEXT,
  created_at TEXT NOT NULL,
  signed_at TEXT,
  sent_at TEXT,
  confirmed_at TEXT,
  updated_at TEXT NOT NULL,
  parked_at TEXT,
  parked_reason TEXT,
  CHECK (status IN ('claimed', 'parked', 'failed') OR (signed_tx IS NOT NULL AND tx_hash IS NOT NULL AND nonce IS NOT NULL)),
  CHECK (status <> 'parked' OR (signed_tx IS NULL AND nonce IS NULL AND parked_at IS NOT NULL AND parked_reason IS NOT NULL)),
  CHECK (
    (kind = 'reward' AND poll_id IS NULL AND trigger IN ('threshold', 'request'))
    OR (kind = 'refund' AND poll_id IS NOT NULL AND trigger = 'poll_ended' AND entries = 0)
  )
);

INSERT INTO payouts_with_kind (
  id, kind, poll_id, address, network, status, trigger, amount_atomic, entries, from_address, token, nonce, signed_tx,
  tx_hash, block_number, broadcasts, failure_reason, created_at, signed_at, sent_at, confirmed_at, updated_at,
  parked_at, parked_reason
)
SELECT
  id, 'reward', NULL, address, network, status, trigger, amount_atomic, entries, from_address, token, nonce, signed_tx,
  tx_hash, block_number, broadcasts, failure_reason, created_at, signed_at, sent_at, confirmed_at, updated_at,
  parked_at, parked_reason
FROM payouts;

DROP TABLE payouts;
ALTER TABLE payouts_with_kind RENAME TO payouts;

-- At most one reward payout holding an address's unpaid entries per network (as in 0009). Refunds are
-- not in it: a payer may be owed several refunds at once, and be a voter too.
CREATE UNIQUE INDEX payouts_one_open ON payouts (address, network) WHERE kind = 'reward' AND status IN ('claimed', 'signed', 'sent', 'parked');
-- A poll is refunded exactly once: at most one refund per poll that is not 'failed'. A failed refund
-- moved no money (reverted, or its nonce was taken by another transaction; or a parked one the operator
-- released), so the next payout round queues a new one for the same poll, as a failed reward payout's
-- entries go into a new payout.
CREATE UNIQUE INDEX payouts_one_refund_per_poll ON payouts (poll_id) WHERE kind = 'refund' AND status <> 'failed';
CREATE UNIQUE INDEX payouts_wallet_nonce ON payouts (network, from_address, nonce) WHERE nonce IS NOT NULL;
CREATE UNIQUE INDEX payouts_tx_hash ON payouts (tx_hash) WHERE tx_hash IS NOT NULL;
CREATE INDEX payouts_by_address ON payouts (address, network, created_at);
CREATE INDEX payouts_by_status ON payouts (network, status, created_at);
CREATE INDEX payouts_by_poll ON payouts (poll_id) WHERE poll_id IS NOT NULL;

