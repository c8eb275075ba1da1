// Rate limits shared by every isolate of a Worker: each rule counts in its own Workers Rate Limiting
// binding (wrangler.toml [[ratelimits]]), under the same middleware as on Node (src/http/rate-limit.ts), so
// the route guards, the headers and the 429 envelope do not change. A binding answers allowed or refused,
// nothing more: the isolate also counts what it saw itself, which gives X-RateLimit-Remaining (an upper
// bound: other isolates' hits are not in it) and refuses on its own what this isolate alone knows is over.
// A rule whose binding is missing (an older wrangler.toml) counts per isolate, as before, with a warning.
import type { RateLimit } from "@cloudflare/workers-types/latest";
import { BoundedMap } from "../lib/bounded-map";
import type { Logger } from "./logger";
import { createRateLimiter, rateLimitMiddleware, type HitState, type RateLimiterFactory, type RateLimitRule, type RuleLimiter } from "./rate-limit";
import type { ReadinessCheck } from "./readiness";

/**
 * The binding of each rule, by the rule's name (its 429's details.rule). Their limits are in wrangler.toml
 * (the same numbers as src/config.ts's defaults) and their period is 60 s, the rules' window.
 */
export const RATE_LIMIT_BINDINGS = {
  "per-ip": "RATE_LIMITER_PER_IP",
  "voter-writes-per-ip": "RATE_LIMITER_VOTER_WRITES_PER_IP",
  "per-voter": "RATE_LIMITER_PER_VOTER",
  "reports-per-ip": "RATE_LIMITER_REPORTS_PER_IP",
  "voter-payouts": "RATE_LIMITER_VOTER_PAYOUTS",
} as const satisfies Record<string, string>;

/** The periods a binding can count over. */
const BINDING_PERIODS_MS = [10_000, 60_000];

export interface WorkersRateLimits {
  /** For createApp's `rateLimiter`. */
  factory: RateLimiterFactory;
  /** Which limiter is active ("shared" or "per isolate", with the rules concerned), for /readyz. */
  readinessCheck: ReadinessCheck;
}

function isRateLimit(value: unknown): value is RateLimit {
  return typeof value === "object" && value !== null && typeof (value as { limit?: unknown }).limit === "function";
}

function bindingNameOf(rule: string): string | undefined {
  return Object.entries(RATE_LIMIT_BINDINGS).find(([name]) => name === rule)?.[1];
}

/** Rules counted in a binding; rules without one (missing, or a window no binding has) count per isolate. */
export function workersRateLimits(env: Record<string, unknown>, options: { log: Logger; now?: () => number; maxKeys?: number }): WorkersRateLimits {
  const now = options.now ?? Date.now;
  const missing = Object.values(RATE_LIMIT_BINDINGS).filter((name) => !isRateLimit(env[name]));
  if (missing.length > 0) {
    options.log(`rate limits: no Rate Limiting binding ${missing.join(", ")} (wrangler.toml [[ratelimits]]): those rules count per isolate, so a client spread across isolates gets more`, {
      level: "warn",
    });
  }
  const shared = new Set<string>();
  const perIsolate = new Set<string>();

  const factory: RateLimiterFactory = (rule) => {
    const bindingName = bindingNameOf(rule.name);
    const binding = bindingName === undefined ? undefined : env[bindingName];
    if (rule.limit > 0 && isRateLimit(binding) && BINDING_PERIODS_MS.includes(rule.windowMs)) {
      shared.add(rule.name);
      return bindingLimiter(rule, binding, { ...options, now });
    }
    if (rule.limit > 0) {
      perIsolate.add(rule.name);
      if (bindingName !== undefined && isRateLimit(binding)) {
        options.log(`rate limits: rule ${rule.name} has a ${rule.windowMs / 1000} s window, which no binding counts: per isolate`, { level: "warn" });
      }
    }
    return createRateLimiter(rule, { now, ...(options.maxKeys ? { maxKeys: options.maxKeys } : {}) });
  };

  return {
    factory,
    readinessCheck: {
      name: "rate-limits",
      run: async () => {
        if (perIsolate.size > 0) return `per isolate: ${[...perIsolate].sort().join(", ")} (no usable binding); any other rule shared`;
        return shared.size > 0 ? "shared: Workers Rate Limiting bindings" : "every rule is off";
      },
    },
  };
}

/**
 * A rule counted by its binding. The binding does not say when its window ends: the Worker reports the end
 * of the current period on the clock (what wrangler's local simulation counts; Cloudflare's counter may
 * slide, so there it is an estimate) in X-RateLimit-Reset and Retry-After.
 */
function bindingLimiter(rule: RateLimitRule, binding: RateLimit, options: { log: Logger; now: () => number; maxKeys?: number }): RuleLimiter {
  // This isolate's own hits per key in the current period: bounded like every cache here.
  const seen = new BoundedMap<string, { resetAt: number; count: number }>(options.maxKeys ?? 100_000);
  let failureLogged = false;

  const count = async (key: string, at: number): Promise<HitState> => {
    const resetAt = (Math.floor(at / rule.windowMs) + 1) * rule.windowMs;
    let local = seen.get(key);
    if (!local || local.resetAt !== resetAt) {
      // Re-inserted so the map's oldest entries are the stalest ones (they go first when it is full).
      seen.delete(key);
      local = { resetAt, count: 0 };
      seen.set(key, local);
    }
    local.count += 1;
    const remaining = Math.max(0, rule.limit - local.count);
    // Over the limit in this isolate alone: over it everywhere, no need to ask.
    if (local.count > rule.limit) return { allowed: false, remaining: 0, resetAt };
    let shared: boolean;
    try {
      shared = (await binding.limit({ key })).success;
    } catch (error) {
      // The binding failing must not take the API down: this isolate's count decides meanwhile.
      if (!failureLogged) {
        failureLogged = true;
        options.log(`rate limits: the ${rule.name} binding failed (${error instanceof Error ? error.message : String(error)}); counting per isolate until it answers`, { level: "error" });
      }
      return { allowed: true, remaining, resetAt };
    }
    return shared ? { allowed: true, remaining, resetAt } : { allowed: false, remaining: 0, resetAt };
  };

  return { middleware: rateLimitMiddleware(rule, count, options.now), count: (key, at = options.now()) => count(key, at) };
}
