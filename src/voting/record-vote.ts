// The vote write: one atomic `store.batch` of conditional statements, with no branching between them,
// so it runs unchanged on SQLite and on D1.
//
//   1. INSERT the vote … SELECT … FROM polls WHERE the poll is active, not full, not expired AND the
//      World ID request (nonce) is ours, for this poll and option, unexpired, and either claimed by this
//      vote before its proof went to the portal (src/voting/world-id-nonce.ts: `nonceClaimedAt`) or, for
//      a vote recorded without that step, unused. 0 rows → refused.
//   2. Every other statement is guarded by EXISTS (the vote row), so it only counts when 1. inserted:
//      option counter, poll counter, nonce marked used, reward ledger row, reward balance, demographic
//      counters.
//   3. The lifecycle transition to `completed` (src/polls/lifecycle.ts), guarded by vote_count reaching
//      max_responses — so the vote that fills the poll completes it in the same write, and concurrent
//      votes can never overshoot (SQLite and D1 run batches one at a time; the CHECK on vote_count is
//      a backstop).
// UNIQUE(poll_id, nullifier) makes a second vote by the same human throw: the whole batch rolls back.
import { randomUUID } from "node:crypto";
import { sql, type Compilable, type Kysely } from "kysely";
import { asStatement, bindTemplate, compileTemplate, perDatabaseMemo, placeholder, type Template } from "../db/compiled";
import type { Database, DemographicDimension } from "../db/schema";
import { isUniqueViolation, type Store } from "../db/store";
import { transitionStatements, type TransitionListener } from "../polls";
import { REWARD_PER_VOTE_ATOMIC } from "../payment";

export interface VoteToRecord {
  voteId: string;
  pollId: string;
  optionId: string;
  /** Canonical 0x + 64 hex. */
  nullifier: string;
  nonce: string;
  /** The used_at this vote's claim on the nonce wrote (world-id-nonce.ts); absent: the nonce must be unused. */
  nonceClaimedAt?: string | null;
  shownOrder: readonly string[] | null;
  country: string | null;
  ageBand: string | null;
  /** Lower-case 0x address that is credited. */
  payoutAddress: string;
  /** The network the poll was paid on: rewards accrue there. */
  network: string;
  /** ISO timestamp of the vote (and of the completion if this vote fills the poll). */
  at: string;
}

/**
 * A new vote id: a UUID whose first 48 bits are the vote's time in milliseconds (version 7, RFC 9562),
 * the rest random. Vote ids are keys of two indexes every vote writes (votes' and reward_ledger's): ids
 * that grow with time are appended where the last ones went instead of landing on a random page each, so a
 * vote's write dirties two pages fewer. The id is never shown to a poll's creator:
 * it carries the vote's exact time, which /votes keeps to the minute (src/polls/vote-listing.ts).
 */
export function newVoteId(at: Date): string {
  const random = randomUUID();
  const time = at.getTime().toString(16).padStart(12, "0").slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}

export type RecordOutcome =
  | { accepted: true; completed: boolean }
  | { accepted: false; reason: "already_voted" | "refused" };

export function voteStatements(
  db: Kysely<Database>,
  vote: VoteToRecord,
  listeners: readonly TransitionListener[] = [],
): { statements: Compilable[]; completionUpdateIndex: number } {
  const statements = templatedVoteOnlyStatements(db, vote);
  const completion = transitionStatements(db, { pollId: vote.pollId, to: "completed", at: vote.at }, listeners);
  const completionUpdateIndex = statements.length + completion.updateIndex;
  statements.push(...completion.statements);
  return { statements, completionUpdateIndex };
}

// The vote's own statements are the same SQL for every vote of a shape (demographics and shown order
// stated or not): compiled once per shape with placeholders, then only their parameters change
// (src/db/compiled.ts), rather than building the same SQL again for every vote. The transition's
// statements come from transitionStatements and its listeners, per vote; those of this codebase template
// themselves (the status UPDATE in src/polls/lifecycle.ts, the outbox INSERT in src/webhook/outbox.ts).
const PLACEHOLDER_FIELDS = ["voteId", "pollId", "optionId", "nullifier", "nonce", "nonceClaimedAt", "country", "ageBand", "payoutAddress", "network", "at"] as const;
const SHOWN_ORDER_JSON = JSON.stringify([placeholder("shownOrder")]);
const voteTemplates = perDatabaseMemo<Template | null>();

function templatedVoteOnlyStatements(db: Kysely<Database>, vote: VoteToRecord): Compilable[] {
  const shape = `${vote.shownOrder === null ? 0 : 1}${vote.country === null ? 0 : 1}${vote.ageBand === null ? 0 : 1}`;
  const template = voteTemplates(db, shape, () => {
    const p = (field: (typeof PLACEHOLDER_FIELDS)[number]) => placeholder(field);
    const sample: VoteToRecord = {
      voteId: p("voteId"),
      pollId: p("pollId"),
      optionId: p("optionId"),
      nullifier: p("nullifier"),
      nonce: p("nonce"),
      nonceClaimedAt: p("nonceClaimedAt"),
      shownOrder: vote.shownOrder === null ? null : [placeholder("shownOrder")],
      country: vote.country === null ? null : p("country"),
      ageBand: vote.ageBand === null ? null : p("ageBand"),
      payoutAddress: p("payoutAddress"),
      network: p("network"),
      at: p("at"),
    };
    return compileTemplate(voteOnlyStatements(db, sample), PLACEHOLDER_FIELDS, [SHOWN_ORDER_JSON]) ?? null;
  });
  if (template === null) return voteOnlyStatements(db, vote);
  // The template's keys are the placeholder names (fields of the vote) and the shown-order JSON.
  const values: Record<string, unknown> = {
    ...vote,
    nonceClaimedAt: vote.nonceClaimedAt ?? null,
    [SHOWN_ORDER_JSON]: vote.shownOrder === null ? null : JSON.stringify(vote.shownOrder),
  };
  return bindTemplate(template, values).map(asStatement);
}

/** The vote's own statements (1. and 2. above), without the completion transition. */
function voteOnlyStatements(db: Kysely<Database>, vote: VoteToRecord): Compilable[] {
  const { voteId, pollId, optionId, at } = vote;
  const voteExists = () => db.selectFrom("votes").select(sql<number>`1`.as("one")).where("votes.id", "=", voteId);
  const rewardAtomic = REWARD_PER_VOTE_ATOMIC;

  const insertVote = db
    .insertInto("votes")
    .columns(["id", "poll_id", "option_id", "nullifier", "world_id_nonce", "shown_order", "country", "age_band", "created_at"])
    .expression((eb) =>
      eb
        .selectFrom("polls")
        .select([
          eb.val(voteId).as("id"),
          eb.val(pollId).as("poll_id"),
          eb.val(optionId).as("option_id"),
          eb.val(vote.nullifier).as("nullifier"),
          eb.val(vote.nonce).as("world_id_nonce"),
          eb.val(vote.shownOrder ? JSON.stringify(vote.shownOrder) : null).as("shown_order"),
          eb.val(vote.country).as("country"),
          eb.val(vote.ageBand).as("age_band"),
          eb.val(at).as("created_at"),
        ])
        .where("polls.id", "=", pollId)
        .where("polls.status", "=", "active")
        .where("polls.vote_count", "<", sql<number>`polls.max_responses`)
        .where("polls.expires_at", ">", at)
        .where((w) =>
          w.exists(
            w
              .selectFrom("world_id_requests")
              .select(sql<number>`1`.as("one"))
              .where("world_id_requests.nonce", "=", vote.nonce)
              .where("world_id_requests.poll_id", "=", pollId)
              .where("world_id_requests.option_id", "=", optionId)
              // `used_at = NULL` is never true: without a claim, only an unused request passes.
              .where((u) => u.or([u("world_id_requests.used_at", "is", null), u("world_id_requests.used_at", "=", vote.nonceClaimedAt ?? null)]))
              .where("world_id_requests.expires_at", ">", at),
          ),
        ),
    );

  const statements: Compilable[] = [
    insertVote,
    db
      .updateTable("poll_options")
      .set((eb) => ({ vote_count: eb("vote_count", "+", 1) }))
      .where("id", "=", optionId)
      .where("poll_id", "=", pollId)
      .where((w) => w.exists(voteExists())),
    db
      .updateTable("polls")
      .set((eb) => ({ vote_count: eb("vote_count", "+", 1) }))
      .where("id", "=", pollId)
      .where((w) => w.exists(voteExists())),
    db
      .updateTable("world_id_requests")
      .set({ used_at: at })
      .where("nonce", "=", vote.nonce)
      .where((w) => w.exists(voteExists())),
    db
      .insertInto("reward_ledger")
      .columns(["vote_id", "address", "network", "amount_atomic", "created_at"])
      .expression((eb) =>
        eb
          .selectFrom("votes")
          .select([
            "votes.id as vote_id",
            eb.val(vote.payoutAddress).as("address"),
            eb.val(vote.network).as("network"),
            eb.val(rewardAtomic.toString()).as("amount_atomic"),
            eb.val(at).as("created_at"),
          ])
          .where("votes.id", "=", voteId),
      ),
    db
      .insertInto("reward_balances")
      .columns(["address", "network", "votes", "accrued_atomic"])
      .expression((eb) =>
        eb
          .selectFrom("votes")
          .select([
            eb.val(vote.payoutAddress).as("address"),
            eb.val(vote.network).as("network"),
            eb.val(1).as("votes"),
            eb.val(Number(rewardAtomic)).as("accrued_atomic"),
          ])
          .where("votes.id", "=", voteId),
      )
      .onConflict((oc) =>
        oc.columns(["address", "network"]).doUpdateSet({
          votes: sql<number>`reward_balances.votes + 1`,
          accrued_atomic: sql<number>`reward_balances.accrued_atomic + excluded.accrued_atomic`,
        }),
      ),
  ];

  const dimensions: [DemographicDimension, string | null][] = [
    ["country", vote.country],
    ["age_band", vote.ageBand],
  ];
  for (const [dimension, value] of dimensions) {
    if (value === null) continue;
    statements.push(
      db
        .insertInto("poll_demographic_counts")
        .columns(["poll_id", "dimension", "value", "option_id", "count"])
        .expression((eb) =>
          eb
            .selectFrom("votes")
            .select([
              eb.val(pollId).as("poll_id"),
              eb.val(dimension).as("dimension"),
              eb.val(value).as("value"),
              eb.val(optionId).as("option_id"),
              eb.val(1).as("count"),
            ])
            .where("votes.id", "=", voteId),
        )
        .onConflict((oc) =>
          oc.columns(["poll_id", "dimension", "value", "option_id"]).doUpdateSet({
            count: sql<number>`poll_demographic_counts.count + 1`,
          }),
        ),
    );
  }

  return statements;
}

export async function recordVote(
  store: Store,
  vote: VoteToRecord,
  listeners: readonly TransitionListener[] = [],
): Promise<RecordOutcome> {
  const { statements, completionUpdateIndex } = voteStatements(store.db, vote, listeners);
  try {
    const results = await store.batch(statements);
    if ((results[0]?.changes ?? 0) !== 1) return { accepted: false, reason: "refused" };
    return { accepted: true, completed: (results[completionUpdateIndex]?.changes ?? 0) === 1 };
  } catch (error) {
    if (isUniqueViolation(error)) return { accepted: false, reason: "already_voted" };
    throw error;
  }
}
