// What anyone may see of a payout address's rewards (GET /api/v1/voter/rewards?address=…): its payouts
// only — what was paid or is being paid to it, per network. Nothing here changes when the address is
// credited for a vote: the vote count, the accrued and the unpaid balance (and whether it has any vote on a
// network before its first payout there) stay with the owner (POST, signed: rewards-owner.ts).
// Otherwise a poll's creator, who reads each vote with its read token, could watch an address's count go
// up at the moment a vote appears, and learn who cast it.
import { z } from "@hono/zod-openapi";
import { RewardsResponse, type Rewards } from "./schema";

type OwnerNetwork = Rewards["rewards"][number];

/** The per-vote fields of a network's entry: owner only. */
const PER_VOTE = { votes: true, accruedAtomic: true, accruedUsdc: true, unpaidAtomic: true, unpaidUsdc: true } as const;

// Derived from the owner's shape, so a field added there (one that moves only per payout) is public too.
const PublicNetwork = RewardsResponse.shape.rewards.element.omit(PER_VOTE);

export const PublicRewardsResponse = RewardsResponse.omit({ totalVotes: true })
  .extend({
    rewards: z.array(PublicNetwork).openapi({
      description:
        "Networks where this address has had a payout, with its payout totals and recent payouts. Empty until the first " +
        "payout: votes credited since the last payout are visible to the owner only (POST /api/v1/voter/rewards).",
    }),
  })
  .openapi("VoterRewardsPublic");

export type PublicRewards = z.infer<typeof PublicRewardsResponse>;

function hasPayout(network: OwnerNetwork): boolean {
  return network.payouts.length > 0 || network.paidAtomic !== "0" || network.pendingAtomic !== "0";
}

/** The public cut of the owner's view. */
export function publicRewards(owner: Rewards): PublicRewards {
  const { totalVotes: _perVote, rewards, ...rest } = owner;
  return {
    ...rest,
    rewards: rewards.filter(hasPayout).map((network) => {
      const { votes: _v, accruedAtomic: _a, accruedUsdc: _au, unpaidAtomic: _u, unpaidUsdc: _uu, ...shown } = network;
      return shown;
    }),
  };
}
