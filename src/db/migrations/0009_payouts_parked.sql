-- Parked payouts (src/payouts/): a payout whose transfer the token refuses before anything is signed
-- (the gas estimate reverts: a blacklisted recipient, an address that cannot receive) is set aside
-- with its reason instead of holding up every payout behind it. It keeps its ledger entries (still
-- owed to that address, never re-queued for anyone else) until an operator retries or releases it
-- (`npm run payouts -- retry|release <id>`).
--
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt: same columns plus
-- parked_at/parked_reason, 'parked' allowed in status, and every index recreated. Nothing references
-- payouts by foreign key (reward_ledger.payout_id is a plain column), so the swap is safe on SQLite
-- and on D1.

CREATE TABLE payouts_with_parked (
  id TEXT PRIMARY KEY,
  address TEXT NOT NULL,
  network TEXT NOT NULL,
  -- claimed, signed, sent, confirmed, failed: as in 0004_payouts.sql.
  -- parked: never signed; the token refused the transfer (parked_reason). Its ledger entries stay
  --         claimed by it; no new payout is claimed for the address on that network meanwhile.
  status TEXT NOT NULL CHECK (status IN ('claimed', 'signed', 'sent', 'confirmed', 'failed', 'parked')),
  trigger TEXT NOT NULL CHECK (trigger IN ('threshold', 'request')),
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
  -- Set when parked (cleared by a retry): when, and what the chain said.
  parked_at TEXT,
  parked_reason TEXT,
  CHECK (status IN ('claimed', 'parked', 'failed') OR (signed_tx IS NOT NULL AND tx_hash IS NOT NULL AND nonce IS NOT NULL)),
  -- Only a payout not yet signed can be parked: no transaction of it can ever be mined.
  CHECK (status <> 'parked' OR (signed_tx IS NULL AND nonce IS NULL AND parked_at IS NOT NULL AND parked_reason IS NOT NULL))
);

INSERT INTO payouts_with_parked (
  id, address, network, status, trigger, amount_atomic, entries, from_address, token, nonce, signed_tx, tx_hash,
  block_number, broadcasts, failure_reason, created_at, signed_at, sent_at, confirmed_at, updated_at
)
SELECT
  id, address, network, status, trigger, amount_atomic, entries, from_address, token, nonce, signed_tx, tx_hash,
  block_number, broadcasts, failure_reason, created_at, signed_at, sent_at, confirmed_at, updated_at
FROM payouts;

DROP TABLE payouts;
ALTER TABLE payouts_with_parked RENAME TO payouts;

-- At most one payout holding unpaid entries per address and network: a parked one counts, so an
-- address the token refuses gets one parked payout, not a new one every round.
CREATE UNIQUE INDEX payouts_one_open ON payouts (address, network) WHERE status IN ('claimed', 'signed', 'sent', 'parked');
CREATE UNIQUE INDEX payouts_wallet_nonce ON payouts (network, from_address, nonce) WHERE nonce IS NOT NULL;
CREATE UNIQUE INDEX payouts_tx_hash ON payouts (tx_hash) WHERE tx_hash IS NOT NULL;
CREATE INDEX payouts_by_address ON payouts (address, network, created_at);
CREATE INDEX payouts_by_status ON payouts (network, status, created_at);
