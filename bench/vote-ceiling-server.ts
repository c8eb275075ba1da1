// An anchor of `npm run bench`: the vote ceiling. A bare Hono app on @hono/node-server doing, for
// POST /api/v1/polls/:id/votes, the verification local mode does for a vote and the same durable write,
// by hand and nothing else:
//   - the proof's claims (World ID 4 uniqueness proof, the poll's action, the environment, the requested
//     credential), the World ID request behind its nonce (this poll, this option and payout address,
//     unused, unexpired) and the signal hash it was made for;
//   - the simulated proof's seal, checked in process with the simulated network key (the check local
//     mode's simulated portal runs);
//   - one better-sqlite3 transaction writing what the service's vote writes: the vote row (UNIQUE per
//     human and poll), the option and poll counters (never past maxResponses), the request marked used,
//     the reward ledger row and balance, the demographic counters, and the completion of a full poll.
// It runs on a copy of the service's database taken just before the vote scenario, so it answers the very
// votes the service answers, against the same schema and indexes. In its own process, like the service.
//
// argv[2] (JSON): VoteCeilingInput.
import { Hono } from "hono";
import { randomUUID } from "node:crypto";
import BetterSqlite3 from "better-sqlite3";
import { hashSignal } from "@worldcoin/idkit-core/hashing";
import { REWARD_PER_VOTE_ATOMIC, usdcNumber } from "../src/payment/pricing";
import { checkSimulatedProof } from "../src/devnet/world-id";
import { canonicalFieldHex, pollAction } from "../src/voting";
import { REQUESTED_CREDENTIAL } from "../src/voting/world-id";
import { serveBenchChild } from "./lib/serve-child";

export interface VoteCeilingInput {
  sqliteFile: string;
  /** The simulated World ID network key (hex), from DATA_DIR/world-id-network-key. */
  networkKeyHex: string;
  rpId: string;
  environment: string;
}

const input = JSON.parse(process.argv[2] ?? "{}") as VoteCeilingInput;
const networkKey = new Uint8Array(Buffer.from(input.networkKeyHex.trim().replace(/^0x/i, ""), "hex"));

// The service's pragmas (src/db/sqlite.ts): WAL, synchronous NORMAL.
const db = new BetterSqlite3(input.sqliteFile);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("foreign_keys = ON");
db.pragma("busy_timeout = 5000");
db.pragma("temp_store = MEMORY");

interface PollRow {
  status: string;
  expires_at: string;
  network: string;
}
interface RequestRow {
  poll_id: string;
  option_id: string;
  payout_address: string;
  signal: string;
  signal_hash: string | null;
  expires_at: string;
  used_at: string | null;
}

const selectPoll = db.prepare<[string], PollRow>("SELECT status, expires_at, network FROM polls WHERE id = ?");
const selectOption = db.prepare<[string, string], { one: number }>("SELECT 1 AS one FROM poll_options WHERE poll_id = ? AND id = ?");
const selectRequest = db.prepare<[string], RequestRow>(
  "SELECT poll_id, option_id, payout_address, signal, signal_hash, expires_at, used_at FROM world_id_requests WHERE nonce = ?",
);
const insertVote = db.prepare(
  "INSERT INTO votes (id, poll_id, option_id, nullifier, world_id_nonce, shown_order, country, age_band, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)",
);
const countOption = db.prepare("UPDATE poll_options SET vote_count = vote_count + 1 WHERE id = ?");
const countPoll = db.prepare<[string, string], { vote_count: number; max_responses: number }>(
  "UPDATE polls SET vote_count = vote_count + 1 WHERE id = ? AND status = 'active' AND vote_count < max_responses AND expires_at > ? RETURNING vote_count, max_responses",
);
const useRequest = db.prepare("UPDATE world_id_requests SET used_at = ? WHERE nonce = ? AND used_at IS NULL AND expires_at > ?");
const insertLedger = db.prepare("INSERT INTO reward_ledger (vote_id, address, network, amount_atomic, created_at) VALUES (?, ?, ?, ?, ?)");
const creditBalance = db.prepare(
  "INSERT INTO reward_balances (address, network, votes, accrued_atomic) VALUES (?, ?, 1, ?) " +
    "ON CONFLICT (address, network) DO UPDATE SET votes = votes + 1, accrued_atomic = accrued_atomic + excluded.accrued_atomic",
);
const countDemographic = db.prepare(
  "INSERT INTO poll_demographic_counts (poll_id, dimension, value, option_id, count) VALUES (?, ?, ?, ?, 1) " +
    "ON CONFLICT (poll_id, dimension, value, option_id) DO UPDATE SET count = count + 1",
);
const completePoll = db.prepare("UPDATE polls SET status = 'completed', completed_at = ?, transition_id = ? WHERE id = ? AND status = 'active'");

class Refused extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 409,
    readonly code: string,
  ) {
    super(code);
  }
}

interface Vote {
  voteId: string;
  pollId: string;
  optionId: string;
  nullifier: string;
  nonce: string;
  country: string | null;
  ageBand: string | null;
  payoutAddress: string;
  network: string;
  at: string;
}

const REWARD_ATOMIC = REWARD_PER_VOTE_ATOMIC.toString();
const REWARD_NUMBER = Number(REWARD_PER_VOTE_ATOMIC);

const writeVote = db.transaction((vote: Vote) => {
  try {
    insertVote.run(vote.voteId, vote.pollId, vote.optionId, vote.nullifier, vote.nonce, vote.country, vote.ageBand, vote.at);
  } catch (error) {
    if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") throw new Refused(409, "already_voted");
    throw error;
  }
  const poll = countPoll.get(vote.pollId, vote.at);
  if (!poll) throw new Refused(409, "poll_not_active");
  if (useRequest.run(vote.at, vote.nonce, vote.at).changes !== 1) throw new Refused(409, "nonce_used");
  countOption.run(vote.optionId);
  insertLedger.run(vote.voteId, vote.payoutAddress, vote.network, REWARD_ATOMIC, vote.at);
  creditBalance.run(vote.payoutAddress, vote.network, REWARD_NUMBER);
  if (vote.country !== null) countDemographic.run(vote.pollId, "country", vote.country, vote.optionId);
  if (vote.ageBand !== null) countDemographic.run(vote.pollId, "age_band", vote.ageBand, vote.optionId);
  const completed = poll.vote_count >= poll.max_responses;
  if (completed) completePoll.run(vote.at, randomUUID(), vote.pollId);
  return { voteCount: poll.vote_count, maxResponses: poll.max_responses, completed };
});

/** A time-ordered vote id (UUID version 7), as the service's: appended to the id indexes, not scattered. */
function newVoteId(at: number): string {
  const time = at.toString(16).padStart(12, "0").slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}

interface VoteBody {
  optionId?: unknown;
  payoutAddress?: unknown;
  demographics?: { country?: unknown; ageBand?: unknown } | null;
  proof?: { protocol_version?: unknown; action?: unknown; nonce?: unknown; environment?: unknown; responses?: unknown };
}

function castVote(pollId: string, body: VoteBody) {
  const { optionId, payoutAddress, proof } = body;
  if (typeof optionId !== "string" || typeof payoutAddress !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(payoutAddress)) throw new Refused(400, "validation_error");
  if (typeof proof !== "object" || proof === null) throw new Refused(400, "validation_error");
  const country = typeof body.demographics?.country === "string" ? body.demographics.country : null;
  const ageBand = typeof body.demographics?.ageBand === "string" ? body.demographics.ageBand : null;
  const now = Date.now();
  const at = new Date(now).toISOString();

  const poll = selectPoll.get(pollId);
  if (!poll) throw new Refused(404, "not_found");
  if (poll.status !== "active" || poll.expires_at <= at) throw new Refused(409, "poll_not_active");
  if (!selectOption.get(pollId, optionId)) throw new Refused(400, "validation_error");

  // The proof's claims.
  const action = pollAction(pollId);
  const responses = proof.responses;
  if (proof.protocol_version !== "4.0" || proof.action !== action || proof.environment !== input.environment) throw new Refused(400, "invalid_proof");
  if (!Array.isArray(responses) || responses.length === 0 || responses.length > 8) throw new Refused(400, "invalid_proof");
  const nonce = canonicalFieldHex(proof.nonce);
  if (!nonce) throw new Refused(400, "invalid_proof");
  for (const item of responses as { identifier?: unknown; issuer_schema_id?: unknown }[]) {
    if (item?.identifier !== REQUESTED_CREDENTIAL.identifier || item.issuer_schema_id !== REQUESTED_CREDENTIAL.issuerSchemaId) throw new Refused(400, "invalid_proof");
  }

  // The request behind the nonce, and the signal it was made for.
  const request = selectRequest.get(nonce);
  if (!request || request.poll_id !== pollId) throw new Refused(400, "nonce_unknown");
  if (request.used_at !== null) throw new Refused(409, "nonce_used");
  if (request.expires_at <= at) throw new Refused(400, "nonce_expired");
  if (request.option_id !== optionId || request.payout_address.toLowerCase() !== payoutAddress.toLowerCase()) throw new Refused(400, "signal_mismatch");
  const signalHash = request.signal_hash ?? hashSignal(request.signal);
  for (const item of responses as { signal_hash?: unknown }[]) {
    if (canonicalFieldHex(item.signal_hash) !== signalHash) throw new Refused(400, "signal_mismatch");
  }

  // The proof itself: sealed by the simulated network for these public inputs.
  let nullifier: string | undefined;
  const nowSeconds = Math.floor(now / 1000);
  for (const item of responses) {
    const check = checkSimulatedProof(item, { networkKey, rpId: input.rpId, nonce: proof.nonce as string, action, nowSeconds });
    if (check.ok) nullifier ??= check.nullifier;
  }
  if (!nullifier) throw new Refused(401, "proof_rejected");

  const voteId = newVoteId(now);
  const written = writeVote({ voteId, pollId, optionId, nullifier, nonce, country, ageBand, payoutAddress: payoutAddress.toLowerCase(), network: poll.network, at });
  return {
    voteId,
    pollId,
    optionId,
    poll: { status: written.completed ? "completed" : "active", voteCount: written.voteCount, maxResponses: written.maxResponses, completedAt: written.completed ? at : null },
    reward: { network: poll.network, payoutAddress: payoutAddress.toLowerCase(), amountUsdc: usdcNumber(REWARD_PER_VOTE_ATOMIC), amountAtomic: REWARD_ATOMIC },
  };
}

const app = new Hono();
app.post("/api/v1/polls/:id/votes", async (c) => {
  let body: VoteBody;
  try {
    body = (await c.req.json()) as VoteBody;
  } catch {
    return c.json({ error: { code: "validation_error" } }, 400);
  }
  try {
    return c.json(castVote(c.req.param("id"), body), 201);
  } catch (error) {
    if (error instanceof Refused) return c.json({ error: { code: error.code } }, error.status);
    throw error;
  }
});

serveBenchChild(app.fetch, () => db.close());
