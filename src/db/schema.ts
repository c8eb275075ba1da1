// Kysely table types. Column names are snake_case as in the .sql migrations; money is TEXT holding
// a decimal integer of atomic USDC units.
import type { Generated, Insertable, Selectable, Updateable } from "kysely";

export type PollStatus = "pending_payment" | "active" | "completed" | "expired" | "payment_failed";
export type PaymentStatus = "claimed" | "settled" | "failed";

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
}

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
}

export interface Database {
  polls: PollsTable;
  poll_options: PollOptionsTable;
  payments: PaymentsTable;
}

export type PollRow = Selectable<PollsTable>;
export type NewPoll = Insertable<PollsTable>;
export type PollUpdate = Updateable<PollsTable>;
export type PollOptionRow = Selectable<PollOptionsTable>;
export type PaymentRow = Selectable<PaymentsTable>;
