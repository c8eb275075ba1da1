-- Indexes the hot list queries walk in their ORDER BY order, stopping at the page size (the
-- plans are asserted by test/query-plans-use-indexes.test.ts). Each replaces a prefix of itself.
-- Plain SQL that both better-sqlite3 and Cloudflare D1 (`wrangler d1 migrations apply`) can run.

-- The voter feed: active polls, newest first, tie-safe on id; the cursor is a row-value range on it.
CREATE INDEX polls_by_status_created ON polls (status, created_at, id);
DROP INDEX polls_by_status;

-- A payer's polls, newest first, tie-safe on id.
CREATE INDEX polls_by_payer_created ON polls (payer, created_at, id);
DROP INDEX polls_by_payer;
