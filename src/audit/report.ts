// The audit report for people (text, per network) and for machines (JSON: amounts as decimal strings
// of atomic units, so no reader ever parses money as a float).
import { getAddress } from "viem";
import { usdc } from "./amounts";
import type { Discrepancy, MoneyAudit, NetworkAudit } from "./types";

export function reportToJson(audit: MoneyAudit): string {
  return JSON.stringify(audit, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value), 2);
}

const row = (label: string, value: string) => `    ${label.padEnd(20)} ${value}`;

function idsOf(d: Discrepancy): string {
  const ids = [
    d.pollId ? `poll ${d.pollId}` : undefined,
    d.paymentId ? `payment ${d.paymentId}${d.paymentStatus ? ` (${d.paymentStatus})` : ""}` : undefined,
    d.payoutId ? `${d.kind.includes("refund") ? "refund" : "payout"} ${d.payoutId}` : undefined,
    d.txHash ? `tx ${d.txHash}` : undefined,
  ].filter((x) => x !== undefined);
  return ids.length > 0 ? ` [${ids.join(", ")}]` : "";
}

export function discrepancyLines(d: Discrepancy, indent = "    "): string[] {
  return [`${indent}✗ ${d.kind}${idsOf(d)}`, `${indent}  ${d.message}`];
}

function networkLines(n: NetworkAudit): string[] {
  const p = n.paymentsIn;
  const r = n.rewardsOut;
  const blocks = n.blocks ? `blocks ${n.blocks.from}–${n.blocks.to}` : "no blocks scanned";
  const lines = [
    `${n.label} (${n.network}), ${blocks}`,
    `  Payments in: token ${n.asset} → payTo ${n.payTo}`,
    row("received on chain", `${usdc(p.receivedOnChainAtomic)} in ${p.inboundTransfers} transfer(s), ${p.matchedTransfers} matched to settled payments`),
    row("settled (database)", `${usdc(p.settledAtomic)} in ${p.settledPayments} payment(s)`),
    row("proven by receipts", `${usdc(p.provenAtomic)} in ${p.provenPayments} payment(s)`),
    row("open claims", p.openClaims.length === 0 ? "none" : `${p.openClaims.length} (outcome not known yet)`),
    ...p.openClaims.map(
      (c) =>
        `      payment ${c.paymentId}, poll ${c.pollId}: ${usdc(BigInt(c.amountAtomic))} from ${c.payer} since ${c.createdAt}; ` +
        `authorization ${c.authorizationUsed ? "USED on chain" : "not used on chain"}`,
    ),
    `  Rewards out: payout wallet ${n.payoutWallets.length > 0 ? n.payoutWallets.map((w) => getAddress(w)).join(", ") : "none"}`,
    row("accrued", `${usdc(r.accruedAtomic)} in ${r.ledgerEntries} ledger entries`),
    row("paid (database)", `${usdc(r.paidRecordedAtomic)} in ${r.confirmedPayouts} confirmed payout(s)`),
    row("paid on chain", `${usdc(r.paidOnChainAtomic)} proven by receipts`),
    row("sent on chain", `${usdc(r.sentOnChainAtomic)} out of the payout wallet in ${r.outboundTransfers} transfer(s)`),
    row("in flight", `${usdc(r.inFlightAtomic)} in ${r.inFlightPayouts} open payout(s)`),
    row("unpaid", `${usdc(r.unpaidAtomic)} not claimed by any payout`),
    row("owed", `${usdc(r.owedAtomic)} (accrued − paid on chain)`),
    `  Refunds out (same wallet): unfilled responses of polls that ended without filling up`,
    row("owed", `${usdc(n.refundsOut.owedAtomic)} by ${n.refundsOut.pollsOwed} poll(s)`),
    row("paid (database)", `${usdc(n.refundsOut.paidRecordedAtomic)} in ${n.refundsOut.confirmedRefunds} confirmed refund(s)`),
    row("paid on chain", `${usdc(n.refundsOut.paidOnChainAtomic)} proven by receipts`),
    row("in flight", `${usdc(n.refundsOut.inFlightAtomic)} in ${n.refundsOut.inFlightRefunds} open refund(s)`),
    row("not queued", usdc(n.refundsOut.notQueuedAtomic)),
    `  Split of what was paid for: received = rewards accrued + fees kept + refunds owed + held for open polls`,
    row(
      "received",
      `${usdc(n.split.receivedAtomic)} = ${usdc(n.split.rewardsAccruedAtomic)} + ${usdc(n.split.feesKeptAtomic)} + ` +
        `${usdc(n.split.refundsOwedAtomic)} + ${usdc(n.split.heldForOpenPollsAtomic)}`,
    ),
  ];
  for (const note of n.notes) lines.push(`  note: ${note}`);
  if (n.discrepancies.length === 0) lines.push("  discrepancies: none");
  else {
    lines.push(`  discrepancies (${n.discrepancies.length}):`);
    for (const d of n.discrepancies) lines.push(...discrepancyLines(d));
  }
  return lines;
}

export function reportToText(audit: MoneyAudit): string {
  const lines = [`Money audit at ${audit.generatedAt}`, ""];
  for (const n of audit.networks) lines.push(...networkLines(n), "");
  for (const s of audit.skipped) lines.push(`Not audited: ${s.label} (${s.network}): ${s.reason}${s.holds ? ` The database holds ${s.holds} there.` : ""}`);
  const elsewhere = audit.discrepancies.filter((d) => !audit.networks.some((n) => n.network === d.network));
  if (elsewhere.length > 0) {
    lines.push("Networks nobody audited:");
    for (const d of elsewhere) lines.push(...discrepancyLines(d, "  "));
  }
  if (audit.skipped.length > 0 || elsewhere.length > 0) lines.push("");
  lines.push(
    audit.clean
      ? "Result: CLEAN. Every unit recorded is proven on chain and every transfer on chain is recorded."
      : `Result: ${audit.discrepancies.length} DISCREPANC${audit.discrepancies.length === 1 ? "Y" : "IES"}.`,
  );
  return `${lines.join("\n")}\n`;
}
