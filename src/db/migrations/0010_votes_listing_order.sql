-- The order GET /api/v1/polls/{id}/votes lists votes in (src/polls/vote-listing.ts): by the minute they
-- were recorded in, then by the random part of their id, so the list never tells in which order votes
-- were cast within a minute. The expressions are the ones the query uses, so SQLite walks this index in
-- order from the cursor on instead of sorting the poll's votes. Plain SQL for better-sqlite3 and D1.
CREATE INDEX votes_by_poll_listing ON votes (poll_id, substr(created_at, 1, 16), substr(id, 16));
