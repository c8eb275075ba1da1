// The money audit's report: what the database says, what the chain proves, and every place they differ.
// Amounts are atomic USDC (6 decimals) as bigint; reportToJson turns them into decimal strings.
import type { PublicClient } from "viem";

export type Address = `0x${string}`;

/** One network to audit: where payments arrive, where rewards leave from, and how to read that chain. */
export interface AuditTarget {
  /** CAIP-2 id as stored in the database (eip155:8453). */
  network: string;
  label: string;
  /** The USDC contract. */
  asset: Address;
  /** The address payments are made to. */
  payTo: Address;
  /** The payout wallet; wallets recorded on payouts are scanned as well. */
  payoutWallet?: Address;
  /** A viem client, or the RPC URL to make one for. */
  client?: PublicClient;
  rpcUrl?: string;
  /** First block to scan for transfers; default: the earliest block of any recorded settlement or payout. */
  fromBlock?: bigint;
}

/** A network the database may hold money on that this run does not read (e.g. testnets without an RPC). */
export interface SkippedNetwork {
  network: string;
  label: string;
  reason: string;
  /** In the report: what the database holds there, when it holds anything. */
  holds?: string;
}

export type DiscrepancyKind =
  // payments in
  | "settled_payment_without_tx"
  | "settlement_tx_not_found"
  | "settlement_tx_reverted"
  | "settlement_tx_mismatch"
  | "unmatched_inbound_transfer"
  | "charged_but_poll_not_active"
  | "settled_poll_not_live"
  | "live_poll_without_settled_payment"
  | "poll_cost_mismatch"
  | "poll_split_mismatch"
  | "malformed_amount"
  // rewards out
  | "payout_without_tx"
  | "payout_tx_not_found"
  | "payout_tx_reverted"
  | "payout_tx_mismatch"
  | "payout_entries_mismatch"
  | "payout_paid_but_not_confirmed"
  | "failed_payout_moved_money"
  | "ledger_entries_on_failed_payout"
  | "ledger_entries_without_payout"
  | "unmatched_outbound_transfer"
  | "rewards_exceed_pool"
  | "reward_balance_mismatch"
  // refunds out
  | "refund_not_queued"
  | "refund_not_owed"
  | "refund_mismatch"
  | "refund_without_tx"
  | "refund_tx_not_found"
  | "refund_tx_reverted"
  | "refund_tx_mismatch"
  | "refund_paid_but_not_confirmed"
  | "failed_refund_moved_money"
  | "refund_exceeds_payment"
  // either
  | "network_not_audited";

export interface Discrepancy {
  network: string;
  kind: DiscrepancyKind;
  /** One readable sentence, ids included. */
  message: string;
  pollId?: string;
  paymentId?: string;
  /** The payments row's status, when a row is involved. */
  paymentStatus?: string;
  /** The payouts row: a voter's payout, or a refund (its poll in pollId). */
  payoutId?: string;
  txHash?: string;
  from?: string;
  to?: string;
  amountAtomic?: bigint;
}

/** A payment whose outcome is not known yet (status 'claimed'): informational. */
export interface OpenClaim {
  paymentId: string;
  pollId: string;
  payer: string;
  amountAtomic: string;
  createdAt: string;
  /** The token says the authorization was used (or canceled). */
  authorizationUsed: boolean;
}

export interface PaymentsInTotals {
  /** Sum of the token's Transfer logs to payTo in the scanned blocks. */
  receivedOnChainAtomic: bigint;
  inboundTransfers: number;
  /** Inbound transfers matched to a settled payment. */
  matchedTransfers: number;
  /** Sum of payments with status 'settled'. */
  settledAtomic: bigint;
  settledPayments: number;
  /** Settled payments whose receipt proves exactly their transfer and authorization. */
  provenAtomic: bigint;
  provenPayments: number;
  openClaims: OpenClaim[];
}

export interface RewardsOutTotals {
  /** Sum of the reward ledger (one entry per accepted vote). */
  accruedAtomic: bigint;
  ledgerEntries: number;
  /** Payouts the database calls confirmed. */
  paidRecordedAtomic: bigint;
  confirmedPayouts: number;
  /** Confirmed payouts whose receipt proves the transfer to the voter. */
  paidOnChainAtomic: bigint;
  /** Payouts claimed, signed, sent or parked: owed and not yet paid. */
  inFlightAtomic: bigint;
  inFlightPayouts: number;
  /** Ledger entries no payout has claimed yet. */
  unpaidAtomic: bigint;
  /** accrued − paid on chain: what voters are still owed. */
  owedAtomic: bigint;
  /** Sum of the token's Transfer logs out of the payout wallet(s) in the scanned blocks. */
  sentOnChainAtomic: bigint;
  outboundTransfers: number;
}

export interface RefundsOutTotals {
  /** What ended polls owe back under the 'unfilled' policy: (maxResponses − voteCount) × the price per response. */
  owedAtomic: bigint;
  pollsOwed: number;
  /** Refunds the database calls confirmed. */
  paidRecordedAtomic: bigint;
  confirmedRefunds: number;
  /** Confirmed refunds whose receipt proves the transfer to the payer. */
  paidOnChainAtomic: bigint;
  /** Refunds claimed, signed, sent or parked: owed and not yet paid. */
  inFlightAtomic: bigint;
  inFlightRefunds: number;
  /** Owed by polls that have no refund queued. */
  notQueuedAtomic: bigint;
}

/** How the price of the polls paid for on this network splits (database; each part ≥ 0 per poll). */
export interface MoneySplit {
  /** The price of every poll a settled payment paid for: what came in. */
  receivedAtomic: bigint;
  /** What their votes earned voters (the reward ledger). */
  rewardsAccruedAtomic: bigint;
  /** What the service keeps: the rest. */
  feesKeptAtomic: bigint;
  /** What ended polls owe back to their payers. */
  refundsOwedAtomic: bigint;
  /** The price of the missing responses of polls still taking votes: rewards or a refund to come. */
  heldForOpenPollsAtomic: bigint;
}

export interface NetworkAudit {
  network: string;
  label: string;
  asset: Address;
  payTo: Address;
  /** Wallets whose outbound transfers were scanned (configured and recorded). */
  payoutWallets: string[];
  /** The blocks scanned for transfers; null when there was nothing to scan from. */
  blocks: { from: bigint; to: bigint } | null;
  notes: string[];
  paymentsIn: PaymentsInTotals;
  rewardsOut: RewardsOutTotals;
  refundsOut: RefundsOutTotals;
  /** received = rewards accrued + fees kept + refunds owed + held for open polls. */
  split: MoneySplit;
  discrepancies: Discrepancy[];
}

export interface MoneyAudit {
  generatedAt: string;
  networks: NetworkAudit[];
  skipped: SkippedNetwork[];
  /** Every network's discrepancies, plus money on networks nobody audited. */
  discrepancies: Discrepancy[];
  clean: boolean;
}

/** The audit could not run: a chain that cannot be read or answers for another chain id. */
export class AuditSetupError extends Error {
  override name = "AuditSetupError";
}
