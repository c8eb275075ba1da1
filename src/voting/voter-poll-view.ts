// A poll as the voter page shows it: public fields, the reward a vote earns, options shuffled per request.
import { randomInt } from "node:crypto";
import type { z } from "@hono/zod-openapi";
import type { PollOptionRow } from "../db/schema";
import { type NetworkSpec, REWARD_PER_VOTE_ATOMIC, usdcNumber } from "../payment";
import { visibleStatus } from "../polls";
import type { FeedPollRow } from "./repo";
import type { VoterPoll } from "./schema";

export function networkLabel(knownNetworks: readonly NetworkSpec[], network: string): string {
  return knownNetworks.find((spec) => spec.network === network)?.label ?? network;
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function toVoterPoll(
  context: { publicBaseUrl: string; knownNetworks: readonly NetworkSpec[] },
  poll: FeedPollRow,
  options: readonly PollOptionRow[],
  now: Date,
): z.infer<typeof VoterPoll> {
  return {
    id: poll.id,
    url: `${context.publicBaseUrl}/polls/${poll.id}`,
    status: visibleStatus(poll, now),
    question: poll.question,
    description: poll.description,
    moreInfoUrl: poll.more_info_url,
    mediaUrl: poll.media_url,
    mediaType: poll.media_type,
    layoutType: poll.layout_type,
    options: shuffled(options).map((o) => ({ id: o.id, text: o.text, mediaUrl: o.media_url })),
    voteCount: poll.vote_count,
    maxResponses: poll.max_responses,
    expiresAt: poll.expires_at,
    reward: {
      network: poll.network,
      networkLabel: networkLabel(context.knownNetworks, poll.network),
      perVoteUsdc: usdcNumber(REWARD_PER_VOTE_ATOMIC),
      perVoteAtomic: REWARD_PER_VOTE_ATOMIC.toString(),
    },
  };
}
