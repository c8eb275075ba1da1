// The vote scenario's crowd: for each simulated human, the World ID request and the simulated proof are
// obtained over HTTP before the timed window (as a phone would, through scripts/lib/voter.ts); the
// timed window then only sends the votes, each verified by the service as local mode verifies them.
import { prepareVote } from "../../scripts/lib/voter";

const COUNTRIES = ["US", "DE", "IN", "BR", "NG", "JP", "FR", "GB"];
const AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"];

/** Runs `task` over `count` indices with at most `limit` in flight. */
export async function forEachLimit(count: number, limit: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, () => worker()));
}

export interface PreparedVotes {
  /** Ready-to-send vote bodies (JSON). */
  bodies: string[];
  /** The relying party and environment the service's World ID requests name (the vote ceiling verifies for them). */
  worldId: { rpId: string; environment: string };
}

/** `count` ready-to-send vote bodies by distinct simulated humans on `pollId`. */
export async function prepareVoteBodies(
  baseUrl: string,
  poll: { id: string; optionIds: readonly string[] },
  count: number,
  options: { prefix: string; concurrency?: number; onProgress?: (done: number) => void },
): Promise<PreparedVotes> {
  const bodies = new Array<string>(count);
  let worldId: PreparedVotes["worldId"] | undefined;
  let done = 0;
  await forEachLimit(count, options.concurrency ?? 32, async (i) => {
    const step = await prepareVote(baseUrl, {
      pollId: poll.id,
      optionId: poll.optionIds[i % poll.optionIds.length]!,
      human: `${options.prefix}-${i}`,
      // Most voters state demographics, some do not: every counter of the vote write is exercised.
      demographics: i % 5 === 4 ? null : { country: COUNTRIES[i % COUNTRIES.length]!, ageBand: AGE_BANDS[i % AGE_BANDS.length]! },
    });
    if ("failed" in step) throw new Error(`preparing vote ${i} failed: ${step.failed.status} ${JSON.stringify(step.failed.body)}`);
    const { prepared } = step;
    worldId ??= { rpId: prepared.request.idkit.rp_context.rp_id, environment: prepared.request.idkit.environment };
    bodies[i] = JSON.stringify({
      optionId: prepared.optionId,
      payoutAddress: prepared.payoutAddress,
      proof: prepared.proof,
      ...(prepared.demographics ? { demographics: prepared.demographics } : {}),
    });
    if (++done % 1000 === 0) options.onProgress?.(done);
  });
  if (!worldId) throw new Error("no vote was prepared");
  return { bodies, worldId };
}
