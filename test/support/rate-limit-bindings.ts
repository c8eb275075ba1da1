// Workers Rate Limiting bindings outside workerd: wrangler's own local simulation of the binding (the module
// miniflare runs behind `wrangler dev`: a fixed window per period, counted per key, allowed or refused), so
// an in-process test exercises src/http/rate-limit-workers.ts against the binding's real local behaviour.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { RateLimit } from "@cloudflare/workers-types/latest";
import { REPO_ROOT } from "./wrangler";

type SimulatedBinding = (config: { namespaceId: string; limit: number; period: number }) => RateLimit;

/** One simulated binding, as `wrangler dev` gives a Worker for a [[ratelimits]] entry. */
export async function simulatedRateLimit(config: { namespaceId: string; limit: number; period: 10 | 60 }): Promise<RateLimit> {
  const module = (await import(pathToFileURL(join(REPO_ROOT, "node_modules/miniflare/dist/src/workers/ratelimit/ratelimit.worker.js")).href)) as { default: SimulatedBinding };
  return module.default(config);
}

/** A binding that records the keys it is asked about and answers from `inner` (or refuses everything). */
export function recordingRateLimit(inner?: RateLimit): RateLimit & { keys: string[] } {
  const keys: string[] = [];
  return {
    keys,
    limit: async (options) => {
      keys.push(options.key);
      return inner ? inner.limit(options) : { success: false };
    },
  };
}
