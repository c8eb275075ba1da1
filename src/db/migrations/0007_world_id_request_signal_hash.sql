-- The signal hash of a World ID request, stored when the request is made (its answer carries it anyway),
-- so that a vote compares the proof's signal_hash with it instead of hashing the signal again (keccak in
-- JavaScript, on every vote). NULL for requests made before this migration: the vote then hashes
-- `signal` as before. Plain SQL that both better-sqlite3 and Cloudflare D1 can run.
ALTER TABLE world_id_requests ADD COLUMN signal_hash TEXT;
