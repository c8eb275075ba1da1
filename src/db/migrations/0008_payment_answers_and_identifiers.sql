-- What the agent was told about a claim, and the x402 payment-identifier it was made under.
-- answer: NULL while the creating request is in flight; 'pending' once a 202 "being confirmed" was sent;
-- 'created' once a 201 (with the read token) was. A retry of the same signature is answered from it.
ALTER TABLE payments ADD COLUMN answer TEXT CHECK (answer IN ('pending', 'created'));
-- payment-identifier extension: the client's idempotency key and a hash of what it was sent with
-- (payment payload and body), so a retry gets the same answer and a different request under the same id a 409.
ALTER TABLE payments ADD COLUMN payment_identifier TEXT;
ALTER TABLE payments ADD COLUMN request_fingerprint TEXT;
CREATE UNIQUE INDEX payments_identifier ON payments (payer, payment_identifier)
  WHERE payment_identifier IS NOT NULL AND status <> 'failed';
