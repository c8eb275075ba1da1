// The refund tests' view of the world: what a poll shows of its refund, the refunds rows, what the payout
// wallet sent on chain (the token's Transfer logs), and the money audit of a running local service.
import { auditMoney } from "../../src/audit/money-audit";
import { reportToText } from "../../src/audit/report";
import { planAudit } from "../../src/audit/targets";
import type { MoneyAudit } from "../../src/audit/types";
import type { Address } from "../../src/devnet/chain";
import { DEVNET_PAYOUT_ACCOUNT_INDEX } from "../../src/devnet/payout-wallet";
import { devAccount } from "../../src/devnet/chain";
import type { LocalService } from "./harness";
import { transfersFrom } from "./payouts";

export const PAYOUT_WALLET = devAccount(DEVNET_PAYOUT_ACCOUNT_INDEX).address;

export interface RefundShown {
  status: string;
  amountAtomic: string;
  amountUsdc: number;
  txHash: string | null;
}

export interface RefundRow {
  id: string;
  kind: string;
  poll_id: string;
  address: string;
  status: string;
  amount_atomic: string;
  tx_hash: string | null;
  signed_tx: string | null;
  nonce: number | null;
}

/** GET /api/v1/polls/{id}: its refundPolicy and refund (undefined when the body has none). */
export async function pollRefund(url: string, pollId: string): Promise<{ status: string; refundPolicy: string; refund: RefundShown | undefined }> {
  const body = (await (await fetch(`${url}/api/v1/polls/${pollId}`)).json()) as { status: string; refundPolicy: string; refund?: RefundShown };
  return { status: body.status, refundPolicy: body.refundPolicy, refund: body.refund };
}

/** GET /api/v1/polls/{id}/results with the read token: its refund. */
export async function resultsRefund(url: string, pollId: string, readToken: string): Promise<RefundShown | undefined> {
  const response = await fetch(`${url}/api/v1/polls/${pollId}/results`, { headers: { "x-read-token": readToken } });
  if (response.status !== 200) throw new Error(`results answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { refund?: RefundShown }).refund;
}

/** Every refund row of a poll (kind 'refund'), oldest first. */
export function refundRows(service: LocalService, pollId: string): RefundRow[] {
  return service.store.sqlite
    .prepare("SELECT * FROM payouts WHERE kind = 'refund' AND poll_id = ? ORDER BY created_at")
    .all(pollId) as RefundRow[];
}

/** The payout wallet's transfers on the service's devnet, by recipient (lower-case). */
export function walletTransfers(service: LocalService) {
  const devnet = service.devnet!;
  return transfersFrom(devnet.rpcUrl, devnet.asset, PAYOUT_WALLET as Address);
}

/**
 * The money audit as `npm run audit [--from-block N]` runs it on this service; throws with the report when
 * it is not clean.
 */
export async function expectCleanAudit(service: LocalService, fromBlock?: bigint): Promise<MoneyAudit> {
  const plan = planAudit(service.config, fromBlock === undefined ? {} : { fromBlock });
  const audit = await auditMoney(service.store.db, plan.targets, { skipped: plan.skipped });
  if (!audit.clean) throw new Error(`the money audit is not clean:\n${reportToText(audit)}`);
  return audit;
}

export function moneyAudit(service: LocalService): Promise<MoneyAudit> {
  const plan = planAudit(service.config);
  return auditMoney(service.store.db, plan.targets, { skipped: plan.skipped });
}
