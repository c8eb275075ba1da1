// The money audit: for each network, what the database says came in (settled payments) and went out
// (confirmed payouts and refunds) against what the chain proves, and every unit that does not add up.
//
// Order matters for a service that keeps running during the audit: each chain's head is read first,
// then the database, so every transfer up to that head was already written down when the database was
// read. (Callers that can, read the database inside one read transaction: scripts/audit.ts does.)
import type { Kysely } from "kysely";
import type { Database } from "../db/schema";
import { auditChain, clientFor, type AuditChain } from "./chain";
import { moneyByNetwork } from "./networks-in-db";
import { auditPaymentsIn } from "./payments-in";
import { readPaymentsLedger, type PaymentsLedger } from "./payments-ledger";
import { readRefundsLedger, type RefundsLedger } from "./refunds-ledger";
import { auditRefundsOut } from "./refunds-out";
import { auditRewardsOut } from "./rewards-out";
import { readRewardsLedger, type RewardsLedger } from "./rewards-ledger";
import { AuditSetupError, type AuditTarget, type Discrepancy, type MoneyAudit, type NetworkAudit, type SkippedNetwork } from "./types";

export interface AuditOptions {
  /** Networks deliberately not audited (listed in the report; their money is not a discrepancy). */
  skipped?: readonly SkippedNetwork[];
  /** Blocks per getLogs request (default 2,000). */
  windowBlocks?: bigint;
  /** RPC requests in flight at once per network (default 8). */
  concurrency?: number;
  now?: () => Date;
}

interface OpenedChain {
  target: AuditTarget;
  chain: AuditChain;
  head: bigint;
}

function describeError(error: unknown): string {
  const e = error as { shortMessage?: unknown; message?: unknown };
  const text = typeof e?.shortMessage === "string" ? e.shortMessage : typeof e?.message === "string" ? e.message : String(error);
  return text.split("\n")[0]!.slice(0, 300);
}

async function openChain(target: AuditTarget, options: AuditOptions): Promise<OpenedChain> {
  const client = target.client ?? (target.rpcUrl ? clientFor(target.rpcUrl) : undefined);
  if (!client) throw new AuditSetupError(`${target.label} (${target.network}): no RPC to read the chain from.`);
  const chain = auditChain(client, target.asset, {
    ...(options.windowBlocks ? { windowBlocks: options.windowBlocks } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
  let chainId: number;
  let head: bigint;
  try {
    [chainId, head] = await Promise.all([chain.chainId(), chain.latestBlock()]);
  } catch (error) {
    throw new AuditSetupError(`${target.label} (${target.network}): the RPC${target.rpcUrl ? ` at ${target.rpcUrl}` : ""} did not answer: ${describeError(error)}`);
  }
  const expected = /^eip155:(\d+)$/.exec(target.network)?.[1];
  if (expected !== undefined && Number(expected) !== chainId) {
    throw new AuditSetupError(`${target.label} (${target.network}): the RPC answers for chain id ${chainId}, not ${expected}.`);
  }
  return { target, chain, head };
}

/** Blocks of the recorded settlement, payout and refund transactions (receipts fetched in parallel, then cached). */
async function recordedTxBlocks(chain: AuditChain, payments: PaymentsLedger, rewards: RewardsLedger, refunds: RefundsLedger) {
  const blockOf = async (hash: string | null) => (hash ? (await chain.tx(hash))?.blockNumber : undefined);
  const [settlements, payouts] = await Promise.all([
    Promise.all(payments.payments.filter((p) => p.status === "settled").map((p) => blockOf(p.txHash))),
    Promise.all([...rewards.payouts, ...refunds.refunds].map((p) => blockOf(p.txHash))),
  ]);
  const known = (blocks: (bigint | undefined)[]) => blocks.filter((b): b is bigint => b !== undefined);
  return { settlements: known(settlements), all: [...known(settlements), ...known(payouts)] };
}

async function auditNetwork(opened: OpenedChain, payments: PaymentsLedger, rewards: RewardsLedger, refunds: RefundsLedger): Promise<NetworkAudit> {
  const { target, chain, head } = opened;
  const notes: string[] = [];
  const recorded = await recordedTxBlocks(chain, payments, rewards, refunds);
  // Money recorded by us starts at the earliest recorded settlement or payout.
  const from = target.fromBlock ?? recorded.all.reduce<bigint | undefined>((min, b) => (min === undefined || b < min ? b : min), undefined);
  const blocks = from === undefined ? null : { from, to: head };
  if (!blocks) notes.push("No settlement or payout is recorded here, so no blocks were scanned for transfers; give a first block to scan anyway.");
  else if (blocks.from > blocks.to) notes.push(`The first block ${blocks.from} is past the chain's head ${blocks.to}: no blocks were scanned.`);
  else {
    const settledBefore = recorded.settlements.filter((b) => b < blocks.from).length;
    if (settledBefore > 0) notes.push(`${settledBefore} settled payment(s) are before block ${blocks.from}: proven by their receipts, not matched against the scanned transfers.`);
  }
  if (!target.payoutWallet) notes.push("No payout wallet is configured: only the wallets recorded on payouts were scanned for outbound transfers.");

  const paymentsIn = await auditPaymentsIn({ network: target.network, asset: target.asset, payTo: target.payTo, chain, ledger: payments, blocks });
  // Refunds first: the transfers they prove are theirs when the payout wallet's transfers are matched.
  const refundsOut = await auditRefundsOut({ network: target.network, chain, ledger: refunds });
  const rewardsOut = await auditRewardsOut({
    network: target.network,
    asset: target.asset,
    payoutWallet: target.payoutWallet,
    chain,
    ledger: rewards,
    blocks,
    refunds: { records: refunds.refunds, accounted: refundsOut.accounted },
  });

  return {
    network: target.network,
    label: target.label,
    asset: target.asset,
    payTo: target.payTo,
    payoutWallets: rewardsOut.payoutWallets,
    blocks,
    notes,
    paymentsIn: paymentsIn.totals,
    rewardsOut: rewardsOut.totals,
    refundsOut: refundsOut.totals,
    split: refundsOut.split,
    discrepancies: [...paymentsIn.discrepancies, ...rewardsOut.discrepancies, ...refundsOut.discrepancies],
  };
}

export async function auditMoney(db: Kysely<Database>, targets: readonly AuditTarget[], options: AuditOptions = {}): Promise<MoneyAudit> {
  const generatedAt = (options.now?.() ?? new Date()).toISOString();
  const skipped = [...(options.skipped ?? [])];
  // Chain heads first, then the database (see the top of this file).
  const opened = await Promise.all(targets.map((target) => openChain(target, options)));
  const ledgers: { payments: PaymentsLedger; rewards: RewardsLedger; refunds: RefundsLedger }[] = [];
  for (const { target } of opened) {
    ledgers.push({
      payments: await readPaymentsLedger(db, target.network),
      rewards: await readRewardsLedger(db, target.network),
      refunds: await readRefundsLedger(db, target.network),
    });
  }
  const onNetworks = await moneyByNetwork(db);

  const networks: NetworkAudit[] = [];
  for (const [index, chain] of opened.entries()) {
    const ledger = ledgers[index]!;
    networks.push(await auditNetwork(chain, ledger.payments, ledger.rewards, ledger.refunds));
  }

  const holdings = (money: (typeof onNetworks)[number]) =>
    `${money.payments} settled or open payment(s) (${money.paymentsAtomic} atomic), ${money.ledgerEntries} ledger entries ` +
    `(${money.ledgerAtomic} atomic) and ${money.payouts} payout(s)`;
  const skippedWithMoney = skipped.map((s) => {
    const money = onNetworks.find((m) => m.network === s.network);
    return money ? { ...s, holds: holdings(money) } : s;
  });
  const unaudited: Discrepancy[] = onNetworks
    .filter((money) => !targets.some((t) => t.network === money.network) && !skipped.some((s) => s.network === money.network))
    .map((money) => ({
      network: money.network,
      kind: "network_not_audited" as const,
      message: `${money.network} holds ${holdings(money)}, but this audit does not read that chain.`,
    }));

  const discrepancies = [...networks.flatMap((n) => n.discrepancies), ...unaudited];
  return { generatedAt, networks, skipped: skippedWithMoney, discrepancies, clean: discrepancies.length === 0 };
}
