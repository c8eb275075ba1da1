// Refunds out, on one network: every poll that ended without filling up under the 'unfilled' policy has
// its refund queued, for exactly what it owes, to the address that paid; every refund the database calls
// confirmed is proven by its receipt (a Transfer of exactly its amount from the payout wallet to the
// payer, emitted by the token); no failed refund moved money; no refund exists for a poll that owes none.
// And each paid-for poll's price splits into rewards accrued + fees kept + refunds owed (+ what is still
// held for polls that take votes), none of them negative.
// The transfers it proves are returned, so that the scan of the payout wallet (rewards-out.ts) counts
// every transfer out of it as a payout or a refund, or a discrepancy.
import { REFUNDABLE_STATUSES, unfilledRefundAtomic } from "../payouts";
import { parseAtomic, sumAtomic, usdc } from "./amounts";
import type { AuditChain, TokenTransfer } from "./chain";
import type { RefundRecord, RefundsLedger } from "./refunds-ledger";
import type { Discrepancy, MoneySplit, RefundsOutTotals } from "./types";

export interface RefundsOutInput {
  network: string;
  chain: AuditChain;
  ledger: RefundsLedger;
}

export interface RefundsOutResult {
  totals: RefundsOutTotals;
  split: MoneySplit;
  /** Transfer logs (txHash:logIndex) proven to be a refund, or already named by a discrepancy here. */
  accounted: Set<string>;
  discrepancies: Discrepancy[];
}

export const logKey = (t: Pick<TokenTransfer, "txHash" | "logIndex">) => `${t.txHash}:${t.logIndex}`;

const IN_FLIGHT = new Set(["claimed", "signed", "sent", "parked"]);

export async function auditRefundsOut(input: RefundsOutInput): Promise<RefundsOutResult> {
  const { network, chain, ledger } = input;
  const discrepancies: Discrepancy[] = [];
  const report = (d: Omit<Discrepancy, "network">) => discrepancies.push({ network, ...d });
  const accounted = new Set<string>();
  const name = (refund: RefundRecord) => `refund ${refund.id} (poll ${refund.pollId ?? "none"})`;

  // What each paid-for poll owes back, and the split of its price.
  const owed = new Map<string, { payer: string; amount: bigint }>();
  const split: MoneySplit = { receivedAtomic: 0n, rewardsAccruedAtomic: 0n, feesKeptAtomic: 0n, refundsOwedAtomic: 0n, heldForOpenPollsAtomic: 0n };
  for (const poll of ledger.polls) {
    const cost = parseAtomic(poll.costAtomic);
    const earned = parseAtomic(poll.earnedAtomic);
    if (cost === undefined || earned === undefined) continue; // payments-in / rewards-out report malformed amounts
    const ended = REFUNDABLE_STATUSES.includes(poll.status);
    const refund = ended && poll.refundPolicy === "unfilled" ? unfilledRefundAtomic(poll.maxResponses, poll.voteCount) : 0n;
    if (refund > 0n) owed.set(poll.pollId, { payer: poll.payer, amount: refund });
    // A poll that still takes votes holds the price of its missing responses: rewards or refund to come.
    const held = poll.status === "active" ? unfilledRefundAtomic(poll.maxResponses, poll.voteCount) : 0n;
    const fees = cost - earned - refund - held;
    if (fees < 0n) {
      report({
        kind: "refund_exceeds_payment",
        pollId: poll.pollId,
        amountAtomic: -fees,
        message: `poll ${poll.pollId} cost ${cost} atomic, but its rewards (${earned}), refund (${refund}) and held price (${held}) add up to more.`,
      });
    }
    split.receivedAtomic += cost;
    split.rewardsAccruedAtomic += earned;
    split.feesKeptAtomic += fees;
    split.refundsOwedAtomic += refund;
    split.heldForOpenPollsAtomic += held;
  }

  let paidRecordedAtomic = 0n;
  let paidOnChainAtomic = 0n;
  let confirmedRefunds = 0;
  let inFlightAtomic = 0n;
  let inFlightRefunds = 0;
  const covered = new Set<string>();

  for (const refund of ledger.refunds) {
    const ids = { payoutId: refund.id, ...(refund.pollId ? { pollId: refund.pollId } : {}) };
    const amount = parseAtomic(refund.amountAtomic);
    if (amount === undefined) {
      report({ kind: "malformed_amount", ...ids, message: `${name(refund)} has amount_atomic ${JSON.stringify(refund.amountAtomic)}, not an integer.` });
      continue;
    }
    const facts = refund.txHash ? await chain.tx(refund.txHash) : undefined;
    if (refund.status === "failed") {
      const moved = facts?.status === "success" ? facts.transfers.filter((t) => t.from === refund.fromAddress) : [];
      if (moved.length > 0) {
        for (const t of moved) accounted.add(logKey(t));
        const movedAtomic = sumAtomic(moved.map((t) => t.value));
        report({
          kind: "failed_refund_moved_money",
          ...ids,
          txHash: refund.txHash!,
          to: refund.address,
          amountAtomic: movedAtomic,
          message: `${name(refund)} is 'failed' (a new refund is queued for the poll) but its tx ${refund.txHash} moved ${usdc(movedAtomic)} out of ${refund.fromAddress}.`,
        });
      }
      continue;
    }

    const due = refund.pollId ? owed.get(refund.pollId) : undefined;
    if (!due) {
      report({
        kind: "refund_not_owed",
        ...ids,
        to: refund.address,
        amountAtomic: amount,
        message: `${name(refund)} is '${refund.status}' for ${usdc(amount)}, but that poll owes no refund (not paid for here, not ended, filled up, or sold under the policy 'none').`,
      });
    } else {
      covered.add(refund.pollId!);
      if (due.amount !== amount || due.payer !== refund.address) {
        report({
          kind: "refund_mismatch",
          ...ids,
          to: refund.address,
          amountAtomic: amount,
          message: `${name(refund)} pays ${usdc(amount)} to ${refund.address}; the poll owes ${usdc(due.amount)} to its payer ${due.payer}.`,
        });
      }
    }

    const own = (value: bigint) =>
      facts?.status === "success"
        ? facts.transfers.find((t) => t.from === refund.fromAddress && t.to === refund.address && t.value === value && !accounted.has(logKey(t)))
        : undefined;
    if (IN_FLIGHT.has(refund.status)) {
      inFlightAtomic += amount;
      inFlightRefunds += 1;
      const transfer = own(amount);
      if (transfer) {
        accounted.add(logKey(transfer));
        report({
          kind: "refund_paid_but_not_confirmed",
          ...ids,
          txHash: refund.txHash!,
          to: refund.address,
          amountAtomic: amount,
          message: `${name(refund)} is still '${refund.status}' but its tx ${refund.txHash} paid ${usdc(amount)} to ${refund.address} (the payout job records it on its next round).`,
        });
      }
      continue;
    }

    // confirmed
    paidRecordedAtomic += amount;
    confirmedRefunds += 1;
    const where = { ...ids, to: refund.address, amountAtomic: amount };
    if (!refund.txHash) {
      report({ kind: "refund_without_tx", ...where, message: `${name(refund)} is confirmed with no tx hash: nothing proves ${usdc(amount)} reached ${refund.address}.` });
      continue;
    }
    if (!facts) {
      report({ kind: "refund_tx_not_found", ...where, txHash: refund.txHash, message: `${name(refund)} is confirmed by tx ${refund.txHash}, which the chain does not know.` });
      continue;
    }
    if (facts.status !== "success") {
      report({ kind: "refund_tx_reverted", ...where, txHash: refund.txHash, message: `${name(refund)} is confirmed by tx ${refund.txHash}, which reverted: ${refund.address} was not refunded.` });
      continue;
    }
    const transfer = own(amount);
    if (!transfer) {
      for (const t of facts.transfers) if (t.from === refund.fromAddress) accounted.add(logKey(t));
      const seen = facts.transfers.map((t) => `Transfer(${t.from} → ${t.to}, ${t.value})`).join(", ") || "no token transfers";
      report({
        kind: "refund_tx_mismatch",
        ...where,
        txHash: refund.txHash,
        message: `${name(refund)} is confirmed by tx ${refund.txHash}, which has no Transfer(${refund.fromAddress} → ${refund.address}, ${amount}); the tx has ${seen}.`,
      });
      continue;
    }
    accounted.add(logKey(transfer));
    paidOnChainAtomic += amount;
  }

  let notQueuedAtomic = 0n;
  for (const [pollId, due] of owed) {
    if (covered.has(pollId)) continue;
    notQueuedAtomic += due.amount;
    report({
      kind: "refund_not_queued",
      pollId,
      to: due.payer,
      amountAtomic: due.amount,
      message: `poll ${pollId} ended without filling up and owes ${usdc(due.amount)} to ${due.payer}, but no refund is queued for it (the payout round queues it; if this persists, it is lost).`,
    });
  }

  return {
    totals: {
      owedAtomic: split.refundsOwedAtomic,
      pollsOwed: owed.size,
      paidRecordedAtomic,
      confirmedRefunds,
      paidOnChainAtomic,
      inFlightAtomic,
      inFlightRefunds,
      notQueuedAtomic,
    },
    split,
    accounted,
    discrepancies,
  };
}

/** A transfer out of the payout wallet that no payout or refund accounts for, but that pays a refund's payer that refund's amount: paid twice? */
export function refundLookingLike(refunds: readonly RefundRecord[], transfer: TokenTransfer): RefundRecord | undefined {
  return refunds.find((r) => r.status !== "failed" && r.address === transfer.to && parseAtomic(r.amountAtomic) === transfer.value);
}
