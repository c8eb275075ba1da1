-- Wallet sign-in (x402 sign-in-with-x, src/polls/wallet-sign-in.ts): the nonce of every signed message that
-- was granted access, so the same message is never accepted twice. A row is needed only while its message
-- could still pass the freshness checks (expires_at = issuedAt + the maximum age); the lifecycle sweep
-- deletes older rows through the expiry index. Plain SQL for better-sqlite3 and D1.
CREATE TABLE sign_in_nonces (
  nonce TEXT PRIMARY KEY,
  used_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX sign_in_nonces_by_expiry ON sign_in_nonces (expires_at);
