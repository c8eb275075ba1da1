// Rewards out, on one network: every payout the database calls confirmed is proven by its receipt (a
// Transfer of exactly its amount from its wallet to the voter, emitted by the token); the ledger entries
// a payout claimed add up to it; no failed payout moved money; and every transfer out of the payout
// wallet(s) on chain is one of those payouts or a refund (refunds-out.ts proves those), or a discrepancy.
import { parseAtomic, sumAtomic, usdc } from "./amounts";
import type { AuditChain, TokenTransfer, TxFacts } from "./chain";
import type { RefundRecord } from "./refunds-ledger";
import { refundLookingLike } from "./refunds-out";
import type { PayoutRecord, RewardsLedger } from "./rewards-ledger";
import type { Discrepancy, RewardsOutTotals } from "./types";

export interface RewardsOutInput {
  network: string;
  asset: string;
  /** The configured payout wallet, if any; wallets recorded on payouts are scanned too. */
  payoutWallet: string | undefined;
  chain: AuditChain;
  ledger: RewardsLedger;
  blocks: { from: bigint; to: bigint } | null;
  /** The refunds (the same queue, kind 'refund'): their wallets are scanned too, and the transfers refunds-out proved are theirs. */
  refunds?: { records: readonly RefundRecord[]; accounted: ReadonlySet<string> };
}

export interface RewardsOutResult {
  totals: RewardsOutTotals;
  payoutWallets: string[];
  discrepancies: Discrepancy[];
}

const logKey = (t: Pick<TokenTransfer, "txHash" | "logIndex">) => `${t.txHash}:${t.logIndex}`;

/** The payout's own transfer in a transaction: from its wallet, to the voter, exactly its amount. */
function payoutTransfer(payout: PayoutRecord, amount: bigint, facts: TxFacts, accounted: ReadonlySet<string>): TokenTransfer | undefined {
  return facts.transfers.find((t) => t.from === payout.fromAddress && t.to === payout.address && t.value === amount && !accounted.has(logKey(t)));
}

export async function auditRewardsOut(input: RewardsOutInput): Promise<RewardsOutResult> {
  const { network, chain, ledger } = input;
  const discrepancies: Discrepancy[] = [];
  const report = (d: Omit<Discrepancy, "network">) => discrepancies.push({ network, ...d });
  // Outbound transfer logs accounted for: a proven payout's, or one a discrepancy below already names.
  const accounted = new Set<string>(input.refunds?.accounted ?? []);
  const refunds = input.refunds?.records ?? [];
  let paidRecordedAtomic = 0n;
  let paidOnChainAtomic = 0n;
  let confirmedPayouts = 0;
  let inFlightAtomic = 0n;
  let inFlightPayouts = 0;

  for (const payout of ledger.payouts) {
    const id = { payoutId: payout.id };
    const amount = parseAtomic(payout.amountAtomic);
    if (amount === undefined) {
      report({ kind: "malformed_amount", ...id, message: `payout ${payout.id} has amount_atomic ${JSON.stringify(payout.amountAtomic)}, not an integer.` });
      continue;
    }
    const attached = ledger.byPayout.get(payout.id) ?? { totalAtomic: "0", entries: 0 };
    if (payout.status === "failed") {
      if (attached.entries > 0) {
        report({
          kind: "ledger_entries_on_failed_payout",
          ...id,
          amountAtomic: parseAtomic(attached.totalAtomic),
          message: `payout ${payout.id} failed but still holds ${attached.entries} ledger entries (${attached.totalAtomic} atomic): they will never be paid.`,
        });
      }
      const facts = payout.txHash ? await chain.tx(payout.txHash) : undefined;
      const moved = facts?.status === "success" ? facts.transfers.filter((t) => t.from === payout.fromAddress) : [];
      if (moved.length > 0) {
        for (const t of moved) accounted.add(logKey(t));
        const movedAtomic = sumAtomic(moved.map((t) => t.value));
        report({
          kind: "failed_payout_moved_money",
          ...id,
          txHash: payout.txHash!,
          to: payout.address,
          amountAtomic: movedAtomic,
          message: `payout ${payout.id} is 'failed' (its entries released to be paid again) but its tx ${payout.txHash} moved ${usdc(movedAtomic)} out of ${payout.fromAddress}.`,
        });
      }
      continue;
    }

    if (parseAtomic(attached.totalAtomic) !== amount || attached.entries !== payout.entries) {
      report({
        kind: "payout_entries_mismatch",
        ...id,
        amountAtomic: amount,
        message: `payout ${payout.id} is ${usdc(amount)} for ${payout.entries} entries, but the ledger entries attached to it add up to ${attached.totalAtomic} atomic in ${attached.entries} entries.`,
      });
    }

    // Never signed: claimed (about to be), or parked (the token refused the transfer; its votes stay owed).
    if (payout.status === "claimed" || payout.status === "parked") {
      inFlightAtomic += amount;
      inFlightPayouts += 1;
      continue;
    }
    const facts = payout.txHash ? await chain.tx(payout.txHash) : undefined;
    if (payout.status === "signed" || payout.status === "sent") {
      inFlightAtomic += amount;
      inFlightPayouts += 1;
      const transfer = facts?.status === "success" ? payoutTransfer(payout, amount, facts, accounted) : undefined;
      if (transfer) {
        accounted.add(logKey(transfer));
        report({
          kind: "payout_paid_but_not_confirmed",
          ...id,
          txHash: payout.txHash!,
          to: payout.address,
          amountAtomic: amount,
          message: `payout ${payout.id} is still '${payout.status}' but its tx ${payout.txHash} paid ${usdc(amount)} to ${payout.address} (the payout job records it on its next round).`,
        });
      }
      continue;
    }

    // confirmed
    paidRecordedAtomic += amount;
    confirmedPayouts += 1;
    const where = { ...id, to: payout.address, amountAtomic: amount };
    if (!payout.txHash) {
      report({ kind: "payout_without_tx", ...where, message: `payout ${payout.id} is confirmed with no tx hash: nothing proves ${usdc(amount)} reached ${payout.address}.` });
      continue;
    }
    if (!facts) {
      report({ kind: "payout_tx_not_found", ...where, txHash: payout.txHash, message: `payout ${payout.id} is confirmed by tx ${payout.txHash}, which the chain does not know.` });
      continue;
    }
    if (facts.status !== "success") {
      report({ kind: "payout_tx_reverted", ...where, txHash: payout.txHash, message: `payout ${payout.id} is confirmed by tx ${payout.txHash}, which reverted: ${payout.address} was not paid.` });
      continue;
    }
    const transfer = payoutTransfer(payout, amount, facts, accounted);
    if (!transfer) {
      const seen = facts.transfers.map((t) => `Transfer(${t.from} → ${t.to}, ${t.value})`).join(", ") || "no token transfers";
      // The wallet's transfers in that tx are this payout's story: report them here, not again as unmatched.
      for (const t of facts.transfers) if (t.from === payout.fromAddress) accounted.add(logKey(t));
      report({
        kind: "payout_tx_mismatch",
        ...where,
        txHash: payout.txHash,
        message: `payout ${payout.id} is confirmed by tx ${payout.txHash}, which has no Transfer(${payout.fromAddress} → ${payout.address}, ${amount}); the tx has ${seen}.`,
      });
      continue;
    }
    accounted.add(logKey(transfer));
    paidOnChainAtomic += amount;
  }

  for (const [payoutId, sum] of ledger.byPayout) {
    if (ledger.payouts.some((p) => p.id === payoutId)) continue;
    report({
      kind: "ledger_entries_without_payout",
      payoutId,
      amountAtomic: parseAtomic(sum.totalAtomic),
      message: `${sum.entries} ledger entries (${sum.totalAtomic} atomic) point at payout ${payoutId}, which does not exist: they will never be paid.`,
    });
  }

  for (const [address, { ledger: fromLedger, balance }] of ledger.byAddress) {
    if (fromLedger?.totalAtomic === balance?.totalAtomic && fromLedger?.entries === balance?.entries) continue;
    report({
      kind: "reward_balance_mismatch",
      to: address,
      message: `reward balance of ${address} says ${balance?.totalAtomic ?? "nothing"} atomic for ${balance?.entries ?? 0} votes; the ledger has ${fromLedger?.totalAtomic ?? "0"} atomic in ${fromLedger?.entries ?? 0} entries.`,
    });
  }

  for (const poll of ledger.byPoll) {
    const earned = parseAtomic(poll.earnedAtomic);
    const pool = parseAtomic(poll.rewardPoolAtomic);
    if (earned !== undefined && pool !== undefined && earned <= pool) continue;
    report({
      kind: "rewards_exceed_pool",
      pollId: poll.pollId,
      amountAtomic: earned,
      message: `poll ${poll.pollId}'s votes earned ${poll.earnedAtomic} atomic, more than its reward pool ${JSON.stringify(poll.rewardPoolAtomic)}.`,
    });
  }

  // Every transfer out of the payout wallet(s) in the scanned blocks must be a payout or a refund.
  const configured = input.payoutWallet?.toLowerCase();
  const payoutWallets = [
    ...new Set([...(configured ? [configured] : []), ...[...ledger.payouts, ...refunds].flatMap((p) => (p.fromAddress ? [p.fromAddress] : []))]),
  ];
  const outbound =
    input.blocks && payoutWallets.length > 0
      ? await chain.transfers({ from: payoutWallets, fromBlock: input.blocks.from, toBlock: input.blocks.to })
      : [];
  for (const transfer of outbound) {
    if (accounted.has(logKey(transfer))) continue;
    const payout = [...ledger.payouts, ...refunds].find((p) => p.txHash === transfer.txHash);
    // Not recorded anywhere, but the very amount a refund pays its payer: that refund paid a second time?
    const twin = payout ? undefined : refundLookingLike(refunds, transfer);
    const named = payout ?? twin;
    report({
      kind: "unmatched_outbound_transfer",
      txHash: transfer.txHash,
      from: transfer.from,
      to: transfer.to,
      amountAtomic: transfer.value,
      ...(named ? { payoutId: named.id } : {}),
      ...(named && "pollId" in named && named.pollId ? { pollId: named.pollId } : {}),
      message:
        `unmatched outbound transfer: ${usdc(transfer.value)} from payout wallet ${transfer.from} to ${transfer.to} in tx ${transfer.txHash} ` +
        (payout
          ? `is recorded on ${"pollId" in payout ? `refund ${payout.id} (poll ${payout.pollId})` : `payout ${payout.id}`} ('${payout.status}') but does not match it.`
          : twin
            ? `matches no payout or refund; it pays the payer of poll ${twin.pollId} the amount of refund ${twin.id} ('${twin.status}', tx ${twin.txHash ?? "none"}): a second refund?`
            : "matches no payout or refund."),
    });
  }

  const accruedAtomic = parseAtomic(ledger.accrued.totalAtomic) ?? 0n;
  return {
    payoutWallets,
    totals: {
      accruedAtomic,
      ledgerEntries: ledger.accrued.entries,
      paidRecordedAtomic,
      confirmedPayouts,
      paidOnChainAtomic,
      inFlightAtomic,
      inFlightPayouts,
      unpaidAtomic: parseAtomic(ledger.unpaid.totalAtomic) ?? 0n,
      owedAtomic: accruedAtomic - paidOnChainAtomic,
      sentOnChainAtomic: sumAtomic(outbound.map((t) => t.value)),
      outboundTransfers: outbound.length,
    },
    discrepancies,
  };
}
