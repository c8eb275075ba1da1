-- Voter payouts on chain (src/payouts/): the ledger entries of an address are claimed by a payout row,
-- which signs exactly one USDC transfer from the payout wallet; the signed transaction and its hash are
-- stored before broadcast, so a restart re-broadcasts the same transaction and never signs a new one.
-- Plain SQL that both better-sqlite3 and Cloudflare D1 (`wrangler d1 migrations apply`) can run.

CREATE TABLE payouts (
  id TEXT PRIMARY KEY,
  -- The voter's payout address (lower-case) and the network the rewards accrued on.
  address TEXT NOT NULL,
  network TEXT NOT NULL,
  -- claimed:   ledger entries are claimed (reward_ledger.payout_id = id); nothing signed yet.
  -- signed:    signed_tx/tx_hash/nonce recorded; maybe broadcast (a crash can leave it here).
  -- sent:      the node accepted the transaction; waiting for its receipt.
  -- confirmed: receipt with status 1: the voter has the money.
  -- failed:    reverted receipt, or the nonce was consumed by another transaction and ours has no
  --            receipt; the ledger entries are released (payout_id back to NULL) for a new payout.
  status TEXT NOT NULL CHECK (status IN ('claimed', 'signed', 'sent', 'confirmed', 'failed')),
  -- 'threshold' (the job) or 'request' (POST /api/v1/voter/payouts).
  trigger TEXT NOT NULL CHECK (trigger IN ('threshold', 'request')),
  -- Sum of the claimed entries, atomic USDC as a decimal string; set in the claiming batch.
  amount_atomic TEXT NOT NULL DEFAULT '0',
  -- Number of claimed ledger entries (votes).
  entries INTEGER NOT NULL DEFAULT 0,
  -- Set when signing: the payout wallet, the token, the wallet's nonce, the raw signed transaction.
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
  CHECK (status = 'claimed' OR (signed_tx IS NOT NULL AND tx_hash IS NOT NULL AND nonce IS NOT NULL) OR status = 'failed')
);
-- At most one open payout per address and network: a second claim loses (the guarded INSERT matches
-- nothing; this index is the backstop).
CREATE UNIQUE INDEX payouts_one_open ON payouts (address, network) WHERE status IN ('claimed', 'signed', 'sent');
-- One signed transaction per nonce of a payout wallet: two workers can never both record nonce n.
CREATE UNIQUE INDEX payouts_wallet_nonce ON payouts (network, from_address, nonce) WHERE nonce IS NOT NULL;
CREATE UNIQUE INDEX payouts_tx_hash ON payouts (tx_hash) WHERE tx_hash IS NOT NULL;
CREATE INDEX payouts_by_address ON payouts (address, network, created_at);
CREATE INDEX payouts_by_status ON payouts (network, status, created_at);

-- The ledger entries of a payout, and the unpaid entries (the threshold job sums them per address).
CREATE INDEX reward_ledger_by_payout ON reward_ledger (payout_id) WHERE payout_id IS NOT NULL;
CREATE INDEX reward_ledger_unpaid ON reward_ledger (network, address) WHERE payout_id IS NULL;
