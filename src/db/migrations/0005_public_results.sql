-- Public aggregate results: a poll created with `publicResults: true` serves
-- GET /api/v1/polls/{id}/results without a read token (its votes stay token-only). Default: private.
-- Plain SQL that both better-sqlite3 and Cloudflare D1 (`wrangler d1 migrations apply`) can run.
ALTER TABLE polls ADD COLUMN public_results INTEGER NOT NULL DEFAULT 0 CHECK (public_results IN (0, 1));
