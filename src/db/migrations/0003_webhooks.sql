-- Webhooks: a durable outbox of deliveries and the history of every attempt (src/webhook/).
-- Plain SQL that both better-sqlite3 and Cloudflare D1 (`wrangler d1 migrations apply`) can run.

-- One row per (poll, event), inserted in the same batch as the lifecycle transition that causes it, so
-- a crash can never lose a delivery. `body` is the exact JSON sent, serialised once at enqueue time:
-- every retry sends the same bytes, so signatures over it verify on every attempt.
CREATE TABLE webhook_deliveries (
  -- The X-Quali-Delivery id: the same on every attempt.
  id TEXT PRIMARY KEY,
  poll_id TEXT NOT NULL REFERENCES polls (id),
  event TEXT NOT NULL CHECK (event IN ('poll.completed', 'poll.expired')),
  url TEXT NOT NULL,
  body TEXT NOT NULL,
  -- pending: waiting for its (next) attempt; delivering: an attempt holds the lease;
  -- delivered: a 2xx was received; failed: gave up (non-retryable answer or attempts exhausted).
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivering', 'delivered', 'failed')),
  -- Attempts started (an attempt is counted when its lease is taken).
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  -- When the next attempt is due; NULL once delivered or failed.
  next_attempt_at TEXT,
  last_attempt_at TEXT,
  -- A dispatcher owns the row until lease_until; lease_token guards its result write.
  lease_until TEXT,
  lease_token TEXT,
  last_status INTEGER,
  last_error TEXT,
  created_at TEXT NOT NULL,
  delivered_at TEXT,
  -- A double transition can never enqueue twice.
  UNIQUE (poll_id, event)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);

-- Every attempt of every delivery. No secrets: no headers, no body, a short response snippet only.
CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
  attempt INTEGER NOT NULL CHECK (attempt >= 1),
  started_at TEXT NOT NULL,
  -- NULL when the attempt was interrupted (the process died while it was in flight).
  duration_ms INTEGER,
  -- The HTTP status when a response arrived, else NULL.
  status INTEGER,
  -- NULL on a 2xx; otherwise a stable kind (see src/webhook/dispatcher.ts).
  error TEXT,
  -- At most 500 characters of the response body, for operators.
  response_snippet TEXT,
  PRIMARY KEY (delivery_id, attempt)
);
