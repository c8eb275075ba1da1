// Payments in, on one network: every settled payment is proven by its own receipt (a Transfer from the
// payer to payTo of exactly its amount and the AuthorizationUsed of its nonce, both emitted by the
// token), and every transfer to payTo on chain is one of those, or the charge of an open claim
// (reported as "charged but poll not active"), or a discrepancy.
import { parseAtomic, sumAtomic, usdc } from "./amounts";
import type { AuditChain, TokenTransfer, TxFacts } from "./chain";
import { LIVE_POLL_STATUSES, POLL_COST_PARTS, type PaymentRecord, type PaymentsLedger } from "./payments-ledger";
import type { Discrepancy, OpenClaim, PaymentsInTotals } from "./types";

export interface PaymentsInInput {
  network: string;
  asset: string;
  payTo: string;
  chain: AuditChain;
  ledger: PaymentsLedger;
  /** Blocks scanned for inbound transfers; null: nothing scanned. */
  blocks: { from: bigint; to: bigint } | null;
}

export interface PaymentsInResult {
  totals: PaymentsInTotals;
  discrepancies: Discrepancy[];
}

const logKey = (t: Pick<TokenTransfer, "txHash" | "logIndex">) => `${t.txHash}:${t.logIndex}`;

function describeTx(facts: TxFacts): string {
  const transfers = facts.transfers.map((t) => `Transfer(${t.from} → ${t.to}, ${t.value})`);
  const used = facts.authorizationsUsed.map((a) => `AuthorizationUsed(${a.authorizer}, ${a.nonce})`);
  const events = [...transfers, ...used];
  return events.length > 0 ? events.join(", ") : "no token events";
}

/** Which payments row (if any) a transfer's authorization belongs to: open claims first, then settled, then failed. */
function rowsUsingAuthorization(payments: readonly PaymentRecord[], transfer: TokenTransfer, facts: TxFacts | undefined): PaymentRecord[] {
  if (!facts) return [];
  const nonces = new Set(facts.authorizationsUsed.filter((a) => a.authorizer === transfer.from).map((a) => a.nonce));
  const rank = { claimed: 0, settled: 1, failed: 2 } as const;
  return payments.filter((p) => p.payer === transfer.from && nonces.has(p.nonce)).sort((a, b) => rank[a.status] - rank[b.status]);
}

export async function auditPaymentsIn(input: PaymentsInInput): Promise<PaymentsInResult> {
  const { network, chain, ledger } = input;
  const asset = input.asset.toLowerCase();
  const discrepancies: Discrepancy[] = [];
  const report = (d: Omit<Discrepancy, "network">) => discrepancies.push({ network, ...d });

  // Transfer logs already accounted for: proven by a settled payment, or explained by a discrepancy
  // that names them (so one fact is reported once).
  const matched = new Set<string>();
  const explained = new Set<string>();
  const settled = ledger.payments.filter((p) => p.status === "settled");
  const withoutTx = new Map<string, Discrepancy>();
  let settledAtomic = 0n;
  let provenAtomic = 0n;
  let provenPayments = 0;

  for (const payment of settled) {
    const ids = { pollId: payment.pollId, paymentId: payment.id, paymentStatus: payment.status };
    const amount = parseAtomic(payment.amountAtomic);
    if (amount === undefined) {
      report({ kind: "malformed_amount", ...ids, message: `payment ${payment.id} (poll ${payment.pollId}) has amount_atomic ${JSON.stringify(payment.amountAtomic)}, not an integer.` });
      continue;
    }
    settledAtomic += amount;
    checkPoll(payment, amount, report);

    if (payment.txHash === null) {
      const discrepancy: Discrepancy = {
        network,
        kind: "settled_payment_without_tx",
        ...ids,
        amountAtomic: amount,
        message: `payment ${payment.id} (poll ${payment.pollId}) is settled with no tx hash: nothing in the database proves ${usdc(amount)} arrived.`,
      };
      discrepancies.push(discrepancy);
      withoutTx.set(payment.id, discrepancy);
      continue;
    }
    const where = { ...ids, txHash: payment.txHash, from: payment.payer, amountAtomic: amount };
    const facts = await chain.tx(payment.txHash);
    if (!facts) {
      report({ kind: "settlement_tx_not_found", ...where, message: `payment ${payment.id} (poll ${payment.pollId}) is settled by tx ${payment.txHash}, which the chain does not know.` });
      continue;
    }
    if (facts.status !== "success") {
      report({ kind: "settlement_tx_reverted", ...where, message: `payment ${payment.id} (poll ${payment.pollId}) is settled by tx ${payment.txHash}, which reverted.` });
      continue;
    }
    const transfer = facts.transfers.find(
      (t) => t.from === payment.payer && t.to === payment.payTo && t.value === amount && !matched.has(logKey(t)),
    );
    const authorizationUsed = facts.authorizationsUsed.some((a) => a.authorizer === payment.payer && a.nonce === payment.nonce);
    const problems = [
      ...(payment.asset === asset ? [] : [`its asset ${payment.asset} is not ${asset}`]),
      ...(transfer ? [] : [`no Transfer(${payment.payer} → ${payment.payTo}, ${amount})`]),
      ...(authorizationUsed ? [] : [`no AuthorizationUsed(${payment.payer}, ${payment.nonce})`]),
    ];
    if (problems.length > 0 || !transfer) {
      // The payer's own transfers in that tx are this row's story: report them here, not again as unmatched.
      for (const t of facts.transfers) if (t.from === payment.payer && !matched.has(logKey(t))) explained.add(logKey(t));
      report({
        kind: "settlement_tx_mismatch",
        ...where,
        message: `payment ${payment.id} (poll ${payment.pollId}) is settled by tx ${payment.txHash}, which has ${problems.join(" and ")}; the tx has ${describeTx(facts)}.`,
      });
      continue;
    }
    matched.add(logKey(transfer));
    provenAtomic += amount;
    provenPayments += 1;
  }

  for (const poll of ledger.livePollsWithoutSettledPayment) {
    report({ kind: "live_poll_without_settled_payment", pollId: poll.pollId, message: `poll ${poll.pollId} is ${poll.status} but no settled payment paid for it.` });
  }

  // Every transfer to payTo (and to any pay_to the rows name) in the scanned blocks.
  const receivers = [...new Set([input.payTo.toLowerCase(), ...ledger.payments.map((p) => p.payTo)])];
  const inbound = input.blocks ? await chain.transfers({ to: receivers, fromBlock: input.blocks.from, toBlock: input.blocks.to }) : [];
  const charged = new Map<string, TokenTransfer>();
  for (const transfer of inbound) {
    const key = logKey(transfer);
    if (matched.has(key) || explained.has(key)) continue;
    const rows = rowsUsingAuthorization(ledger.payments, transfer, await chain.tx(transfer.txHash));
    const row = rows[0];
    const where = { txHash: transfer.txHash, from: transfer.from, to: transfer.to, amountAtomic: transfer.value };
    if (row?.status === "claimed") {
      charged.set(row.id, transfer);
      report({
        kind: "charged_but_poll_not_active",
        ...where,
        pollId: row.pollId,
        paymentId: row.id,
        paymentStatus: row.status,
        message: `payment ${row.id} (poll ${row.pollId}) is still 'claimed' but its authorization moved ${usdc(transfer.value)} from ${transfer.from} to ${transfer.to} in tx ${transfer.txHash}: charged, poll not active.`,
      });
      continue;
    }
    const missingTx = row ? withoutTx.get(row.id) : undefined;
    if (missingTx) {
      // Reconciliation can settle a payment without finding its tx: the chain still has it.
      missingTx.txHash = transfer.txHash;
      missingTx.message += ` Its authorization was used by tx ${transfer.txHash} (${usdc(transfer.value)} from ${transfer.from}).`;
      continue;
    }
    const whose = row ? ` It used the authorization of payment ${row.id} (poll ${row.pollId}, status '${row.status}').` : "";
    report({
      kind: "unmatched_inbound_transfer",
      ...where,
      ...(row ? { pollId: row.pollId, paymentId: row.id, paymentStatus: row.status } : {}),
      message: `unmatched inbound transfer: ${usdc(transfer.value)} from ${transfer.from} to ${transfer.to} in tx ${transfer.txHash} matches no settled payment.${whose}`,
    });
  }

  const openClaims: OpenClaim[] = [];
  for (const claim of ledger.payments.filter((p) => p.status === "claimed")) {
    openClaims.push({
      paymentId: claim.id,
      pollId: claim.pollId,
      payer: claim.payer,
      amountAtomic: claim.amountAtomic,
      createdAt: claim.createdAt,
      authorizationUsed: charged.has(claim.id) || (await chain.authorizationUsed(claim.payer, claim.nonce)),
    });
  }

  return {
    totals: {
      receivedOnChainAtomic: sumAtomic(inbound.map((t) => t.value)),
      inboundTransfers: inbound.length,
      matchedTransfers: inbound.filter((t) => matched.has(logKey(t))).length,
      settledAtomic,
      settledPayments: settled.length,
      provenAtomic,
      provenPayments,
      openClaims,
    },
    discrepancies,
  };
}

/** A settled payment's poll: live, costing exactly the payment, and split into parts that add up to its cost. */
function checkPoll(payment: PaymentRecord, amount: bigint, report: (d: Omit<Discrepancy, "network">) => void): void {
  const ids = { pollId: payment.pollId, paymentId: payment.id, paymentStatus: payment.status };
  const poll = payment.poll;
  if (!poll || !LIVE_POLL_STATUSES.includes(poll.status)) {
    report({
      kind: "settled_poll_not_live",
      ...ids,
      amountAtomic: amount,
      message: `payment ${payment.id} is settled (${usdc(amount)}) but its poll ${payment.pollId} is ${poll ? `'${poll.status}'` : "missing"}.`,
    });
    if (!poll) return;
  }
  const cost = parseAtomic(poll.costAtomic);
  if (cost !== amount) {
    report({
      kind: "poll_cost_mismatch",
      ...ids,
      amountAtomic: amount,
      message: `poll ${payment.pollId} costs ${JSON.stringify(poll.costAtomic)} but payment ${payment.id} is ${amount}.`,
    });
  }
  const parts = POLL_COST_PARTS.map((part) => parseAtomic(poll.parts[part]));
  const split = parts.every((p) => p !== undefined) ? sumAtomic(parts as bigint[]) : undefined;
  if (cost === undefined || split !== cost) {
    const shown = POLL_COST_PARTS.map((part) => `${part} ${JSON.stringify(poll.parts[part])}`).join(" + ");
    report({
      kind: "poll_split_mismatch",
      ...ids,
      message: `poll ${payment.pollId}: ${shown} does not add up to cost_atomic ${JSON.stringify(poll.costAtomic)}.`,
    });
  }
}
