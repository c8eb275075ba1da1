// Kysely table types. Column names are snake_case as in the .sql migrations; money is TEXT holding
// a decimal integer of atomic USDC units.
import type { Generated, Insertable, Selectable, Updateable } from "kysely";
import type { RefundPolicy } from "../config";

/** closed: ended early by its creator; removed: taken down by the operator (0012). Both final, like expired. */
export type PollStatus = "pending_payment" | "active" | "completed" | "expired" | "payment_failed" | "closed" | "removed";
export type PaymentStatus = "claimed" | "settled" | "failed";
export type PaymentAnswer = "pending" | "created";

export interface PollsTable {
  id: string;
  status: PollStatus;
  question: string;
  description: string | null;
  more_info_url: string | null;
  media_url: string | null;
  media_type: string | null;
  layout_type: "list" | "grid";
  max_responses: number;
  vote_count: Generated<number>;
  expires_at: string;
  callback_url: string | null;
  network: string;
  payer: string;
  cost_atomic: string;
  reward_pool_atomic: string;
  fee_atomic: string;
  created_at: string;
  activated_at: string | null;
  completed_at: string | null;
  /** Id of the last lifecycle transition (0002); see src/polls/lifecycle.ts. */
  transition_id: Generated<string | null>;
  /** 1: aggregate results are public (0005, `publicResults` in the create body); 0: read token only. */
  public_results: Generated<number>;
  /** The refund policy the poll was sold under (0013): 'unfilled' refunds unfilled responses when it ends; 'none' nothing. */
  refund_policy: Generated<RefundPolicy>;
}

/** REFUND_POLICY (src/config.ts), recorded on each poll at creation (src/payouts/refunds.ts). */
export type { RefundPolicy };

export interface PollOptionsTable {
  poll_id: string;
  position: number;
  id: string;
  text: string;
  media_url: string | null;
  vote_count: Generated<number>;
}

export interface PaymentsTable {
  id: string;
  poll_id: string;
  network: string;
  payer: string;
  nonce: string;
  asset: string;
  pay_to: string;
  amount_atomic: string;
  valid_before: number;
  status: PaymentStatus;
  tx_hash: string | null;
  failure_reason: string | null;
  created_at: string;
  settled_at: string | null;
  /** What the agent was told (0008): null while in flight, then 'pending' (202) or 'created' (201). */
  answer: Generated<PaymentAnswer | null>;
  /** x402 payment-identifier the request carried, and a hash of its payment payload and body (0008). */
  payment_identifier: Generated<string | null>;
  request_fingerprint: Generated<string | null>;
}

export interface WorldIdRequestsTable {
  nonce: string;
  poll_id: string;
  option_id: string;
  payout_address: string;
  signal: string;
  /** hashSignal(signal), 0x + 64 hex; null for requests made before migration 0007. */
  signal_hash: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface VotesTable {
  id: string;
  poll_id: string;
  option_id: string;
  nullifier: string;
  world_id_nonce: string;
  /** JSON array of option ids in the order shown, or null. */
  shown_order: string | null;
  country: string | null;
  age_band: string | null;
  created_at: string;
}

export type DemographicDimension = "country" | "age_band";

export interface PollDemographicCountsTable {
  poll_id: string;
  dimension: DemographicDimension;
  value: string;
  option_id: string;
  count: number;
}

export interface RewardLedgerTable {
  vote_id: string;
  address: string;
  network: string;
  amount_atomic: string;
  created_at: string;
  payout_id: string | null;
}

export interface RewardBalancesTable {
  address: string;
  network: string;
  votes: number;
  accrued_atomic: number;
}

export type WebhookEvent = "poll.completed" | "poll.expired";
export type WebhookDeliveryState = "pending" | "delivering" | "delivered" | "failed";

/** The webhook outbox (0003): one row per (poll, event); see src/webhook/outbox.ts. */
export interface WebhookDeliveriesTable {
  id: string;
  poll_id: string;
  event: WebhookEvent;
  url: string;
  body: string;
  state: Generated<WebhookDeliveryState>;
  attempts: Generated<number>;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  lease_until: string | null;
  lease_token: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** Every attempt of every webhook delivery (0003). */
export interface WebhookAttemptsTable {
  delivery_id: string;
  attempt: number;
  started_at: string;
  duration_ms: number | null;
  status: number | null;
  error: string | null;
  response_snippet: string | null;
}

export type PayoutStatus = "claimed" | "signed" | "sent" | "confirmed" | "failed" | "parked";
export type PayoutKind = "reward" | "refund";

/** Voter payouts on chain (0004); see src/payouts/. Money is a decimal string of atomic USDC. */
export interface PayoutsTable {
  id: string;
  /** The queue of outgoing transfers (0013): a voter's reward, or the refund of a poll's unfilled responses. */
  kind: Generated<PayoutKind>;
  /** refund: the poll it refunds; reward: null. */
  poll_id: string | null;
  address: string;
  network: string;
  status: PayoutStatus;
  trigger: "threshold" | "request" | "poll_ended";
  amount_atomic: Generated<string>;
  entries: Generated<number>;
  from_address: string | null;
  token: string | null;
  nonce: number | null;
  signed_tx: string | null;
  tx_hash: string | null;
  block_number: number | null;
  broadcasts: Generated<number>;
  failure_reason: string | null;
  created_at: string;
  signed_at: string | null;
  sent_at: string | null;
  confirmed_at: string | null;
  updated_at: string;
  /** Set while parked (0009): the token refused the transfer before it was signed. */
  parked_at: string | null;
  parked_reason: string | null;
}

export type ReportReason = "spam" | "offensive" | "illegal" | "misleading" | "other";

/** Voters' reports of a poll (0012): one per poll and reporter (a keyed hash of the client IP). */
export interface ReportsTable {
  id: string;
  poll_id: string;
  reason: ReportReason;
  note: string | null;
  reporter_key: string;
  created_at: string;
}

export type AdminActionKind = "takedown";

/** Every operator action (0012): who, what, on which poll, why, when, and whether it changed anything. */
export interface AdminActionsTable {
  id: string;
  action: AdminActionKind;
  poll_id: string | null;
  actor: string;
  reason: string;
  outcome: "applied" | "unchanged";
  created_at: string;
}

/** Nonces of wallet sign-in messages that were granted access (0011); see src/polls/wallet-sign-in.ts. */
export interface SignInNoncesTable {
  nonce: string;
  used_at: string;
  /** After this instant the message is refused as too old anyway: the row may go. */
  expires_at: string;
}

export interface Database {
  polls: PollsTable;
  poll_options: PollOptionsTable;
  payments: PaymentsTable;
  world_id_requests: WorldIdRequestsTable;
  votes: VotesTable;
  poll_demographic_counts: PollDemographicCountsTable;
  reward_ledger: RewardLedgerTable;
  reward_balances: RewardBalancesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  payouts: PayoutsTable;
  reports: ReportsTable;
  admin_actions: AdminActionsTable;
  sign_in_nonces: SignInNoncesTable;
}

export type PollRow = Selectable<PollsTable>;
export type NewPoll = Insertable<PollsTable>;
export type PollUpdate = Updateable<PollsTable>;
export type PollOptionRow = Selectable<PollOptionsTable>;
export type PaymentRow = Selectable<PaymentsTable>;
export type WorldIdRequestRow = Selectable<WorldIdRequestsTable>;
export type VoteRow = Selectable<VotesTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>;
export type PayoutRow = Selectable<PayoutsTable>;
export type ReportRow = Selectable<ReportsTable>;
export type AdminActionRow = Selectable<AdminActionsTable>;
