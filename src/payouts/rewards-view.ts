// An address's rewards in full, per network: what the votes earned (reward_balances) and where it stands
// on its way to the wallet (unpaid, pending, paid, with the recent and parked payouts). The owner gets
// all of it; the public GET answers the cut of rewards-public.ts.
import type { Kysely } from "kysely";
import type { Database } from "../db/schema";
import { usdcNumber } from "../payment";
import { findRewardBalances, payoutSummaries, unpaidByNetwork } from "./repo";
import type { Rewards } from "./schema";
import { parkedPayoutView, payoutView } from "./views";

export async function rewardsOf(db: Kysely<Database>, address: string, networkLabel: (network: string) => string): Promise<Rewards> {
  const balances = await findRewardBalances(db, address);
  const [unpaid, payouts] = await Promise.all([unpaidByNetwork(db, address), payoutSummaries(db, address)]);
  return {
    address,
    totalVotes: balances.reduce((sum, b) => sum + b.votes, 0),
    rewards: balances.map((b) => {
      const accrued = BigInt(b.accrued_atomic);
      const summary = payouts.get(b.network);
      const unpaidAtomic = unpaid.get(b.network) ?? 0n;
      const pending = summary?.pendingAtomic ?? 0n;
      const paid = summary?.paidAtomic ?? 0n;
      return {
        network: b.network,
        networkLabel: networkLabel(b.network),
        votes: b.votes,
        accruedAtomic: accrued.toString(),
        accruedUsdc: usdcNumber(accrued),
        unpaidAtomic: unpaidAtomic.toString(),
        unpaidUsdc: usdcNumber(unpaidAtomic),
        pendingAtomic: pending.toString(),
        pendingUsdc: usdcNumber(pending),
        paidAtomic: paid.toString(),
        paidUsdc: usdcNumber(paid),
        payouts: (summary?.recent ?? []).map(payoutView),
        parked: (summary?.parked ?? []).map(parkedPayoutView),
      };
    }),
  };
}
