// What a route declares about who may call it: its rate-limit class and whether browsers on other
// origins may write to it. A feature attaches the guard on the route itself (createRoute's `middleware`),
// so a limit follows the route wherever it is mounted and no path pattern has to find it again.
//
// Three limits, all per minute: agent API requests per client IP; voter writes per client IP (a ceiling
// high enough for a carrier NAT) and per voter (payout address). IPv6 clients count per /64. The unpaid
// probe of the paid resource is never limited: crawlers skip services that answer it 429.
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env";
import { rateLimitKeyOfIp } from "./client-ip";
import { openWriteCors, openWritePreflight } from "./cors";
import { createRateLimiter, type RateLimiterFactory } from "./rate-limit";

export interface RateLimitSettings {
  perIpPerMinute: number;
  votesPerVoterPerMinute: number;
  voterWritesPerIpPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = { perIpPerMinute: 600, votesPerVoterPerMinute: 60, voterWritesPerIpPerMinute: 120 };

export interface RouteGuards {
  /** An agent API route: counted per client IP. */
  api: MiddlewareHandler<AppEnv>;
  /** The paid resource: as `api`, except the unpaid probe that is answered with the 402 challenge. */
  paidResource: MiddlewareHandler<AppEnv>;
  /** A voter write: per client IP, then per voter once the JSON body names a payout address. */
  voterWrite: MiddlewareHandler<AppEnv>;
  /** A write that browser agents on any origin may call; its path also needs `preflight` (OPTIONS). */
  openToBrowsers: MiddlewareHandler<AppEnv>;
  preflight: MiddlewareHandler<AppEnv>;
  /** Builds a feature's own rule (reports, payout requests) on the platform's counter, like the guards'. */
  rateLimiter: RateLimiterFactory;
}

export function createRouteGuards(options: {
  clientIp: (c: Context<AppEnv>) => string | undefined;
  rateLimits?: Partial<RateLimitSettings>;
  /** Where the rules count: in this process's memory unless the platform shares a counter (Workers). */
  rateLimiter?: RateLimiterFactory;
}): RouteGuards {
  const limits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
  const createRateLimiterOf: RateLimiterFactory = options.rateLimiter ?? ((rule) => createRateLimiter(rule));
  const ipKey = (c: Context<AppEnv>) => {
    const ip = options.clientIp(c);
    return ip === undefined ? undefined : rateLimitKeyOfIp(ip);
  };
  const perIp = createRateLimiterOf({ name: "per-ip", limit: limits.perIpPerMinute, windowMs: 60_000, key: ipKey });
  const voterWritesPerIp = createRateLimiterOf({ name: "voter-writes-per-ip", limit: limits.voterWritesPerIpPerMinute, windowMs: 60_000, key: ipKey });
  const perVoter = createRateLimiterOf({ name: "per-voter", limit: limits.votesPerVoterPerMinute, windowMs: 60_000, key: (c) => c.get("voterKey") });

  const countVoter: MiddlewareHandler<AppEnv> = async (c, next) => {
    // The body is cached by Hono, so the route's own validator reads it again for free.
    const body = (await c.req.json().catch(() => undefined)) as { payoutAddress?: unknown; address?: unknown } | undefined;
    const address = body?.payoutAddress ?? body?.address;
    // No address: nothing to count per voter (the route refuses the body anyway).
    if (typeof address !== "string") return next();
    c.set("voterKey", address.toLowerCase());
    return perVoter.middleware(c, next);
  };

  return {
    api: perIp.middleware,
    paidResource: (c, next) => {
      const probe = c.req.header("payment-signature") === undefined && c.req.header("x-payment") === undefined;
      return probe ? next() : perIp.middleware(c, next);
    },
    // Before the body is read: the caller picks the payout address, not the address it calls from.
    voterWrite: async (c, next) => {
      // A refusal of the inner (per-voter) rule is returned, not passed through next(): hand it on.
      let refusedPerVoter: Response | undefined;
      const refusedPerIp = await voterWritesPerIp.middleware(c, async () => {
        refusedPerVoter = (await countVoter(c, next)) ?? undefined;
      });
      return refusedPerIp ?? refusedPerVoter;
    },
    openToBrowsers: openWriteCors,
    preflight: openWritePreflight,
    rateLimiter: createRateLimiterOf,
  };
}
