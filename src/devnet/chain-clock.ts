// Keeps a local chain's clock current where payments read it. anvil mines only on transactions, so the
// latest block of an idle chain grows old, and so does that of a chain restored from saved state (as old
// as the stop). The token checks an authorization's validAfter against block.timestamp and the
// facilitator simulates at the latest block: a client that signs validAfter a minute in the past (as
// @faremeter/payment-evm does) is refused after a minute of quiet, "authorization is not yet valid".
// So before the facilitator reads the chain, an empty block stamped now is mined if the latest block is
// older than a real L2's block interval.
//
// On demand rather than on a timer (or anvil's --block-time with --mixed-mining): an idle chain gains
// no blocks, so neither anvil's memory nor the saved state, which is dumped after every settlement,
// grows with idle time.
import { isAutomining, latestBlockTimestamp, mineBlockAt } from "./chain.js";

/** A real L2's latest block is about this old at most (Base mines every 2 s). */
export const MAX_CLOCK_LAG_SECONDS = 2;

export interface ChainClockOptions {
  maxLagSeconds?: number;
}

/**
 * Mines an empty block stamped now unless the latest block is at most `maxLagSeconds` old. Returns the
 * latest block's timestamp afterwards. Leaves a chain with automine off alone: whoever turned it off
 * decides when blocks come (interval mining keeps the clock itself), and a block mined here would also
 * mine the transactions they hold pending.
 */
export async function bringClockCurrent(rpcUrl: string, options: ChainClockOptions = {}): Promise<number> {
  const maxLag = options.maxLagSeconds ?? MAX_CLOCK_LAG_SECONDS;
  const latest = await latestBlockTimestamp(rpcUrl);
  const now = Math.floor(Date.now() / 1000);
  if (latest >= now - maxLag || !(await isAutomining(rpcUrl))) return latest;
  await mineBlockAt(rpcUrl, now);
  return now;
}

export interface ChainClock {
  /** Resolves once the latest block is recent (mining one if needed). Never rejects: best effort. */
  catchUp(): Promise<void>;
}

/**
 * bringClockCurrent for the payment path: it remembers the latest timestamp it saw (block timestamps only
 * grow), so while that is recent a call costs no RPC. Concurrent calls share one check.
 */
export function chainClock(rpcUrl: string, options: ChainClockOptions = {}): ChainClock {
  const maxLag = options.maxLagSeconds ?? MAX_CLOCK_LAG_SECONDS;
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  let latestAtLeast = Number.NEGATIVE_INFINITY;
  let checking: Promise<void> | undefined;

  const check = async (): Promise<void> => {
    try {
      latestAtLeast = await bringClockCurrent(rpcUrl, options);
    } catch {
      // A node without evm_mine, or a block mined concurrently with a later stamp: let the payment go
      // ahead (the facilitator reports what the chain says) and do not ask again before the lag passes.
      latestAtLeast = nowSeconds();
    } finally {
      checking = undefined;
    }
  };

  return {
    catchUp() {
      if (latestAtLeast >= nowSeconds() - maxLag) return Promise.resolve();
      checking ??= check();
      return checking;
    },
  };
}
