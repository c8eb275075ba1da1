// Which networks the database holds money on (settled or open payments, ledger entries, payouts), so
// that money on a network no audit target covers is reported instead of silently left out.
import { sql, type Kysely } from "kysely";
import type { Database } from "../db/schema";

export interface MoneyOnNetwork {
  network: string;
  payments: number;
  paymentsAtomic: string;
  ledgerEntries: number;
  ledgerAtomic: string;
  payouts: number;
}

const total = sql<string>`CAST(COALESCE(SUM(CAST(amount_atomic AS INTEGER)), 0) AS TEXT)`;
const count = sql<number>`COUNT(*)`;

export async function moneyByNetwork(db: Kysely<Database>): Promise<MoneyOnNetwork[]> {
  const [payments, ledger, payouts] = await Promise.all([
    db
      .selectFrom("payments")
      .select(["network", count.as("rows"), total.as("total")])
      .where("status", "in", ["settled", "claimed"])
      .groupBy("network")
      .execute(),
    db.selectFrom("reward_ledger").select(["network", count.as("rows"), total.as("total")]).groupBy("network").execute(),
    db.selectFrom("payouts").select(["network", count.as("rows")]).groupBy("network").execute(),
  ]);
  const out = new Map<string, MoneyOnNetwork>();
  const entry = (network: string) => {
    let found = out.get(network);
    if (!found) {
      found = { network, payments: 0, paymentsAtomic: "0", ledgerEntries: 0, ledgerAtomic: "0", payouts: 0 };
      out.set(network, found);
    }
    return found;
  };
  for (const row of payments) Object.assign(entry(row.network), { payments: Number(row.rows), paymentsAtomic: row.total });
  for (const row of ledger) Object.assign(entry(row.network), { ledgerEntries: Number(row.rows), ledgerAtomic: row.total });
  for (const row of payouts) entry(row.network).payouts = Number(row.rows);
  return [...out.values()].sort((a, b) => a.network.localeCompare(b.network));
}
