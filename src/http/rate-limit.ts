// Fixed-window rate limiting in the peers' convention: X-RateLimit-Limit / -Remaining / -Reset (unix
// seconds) on every limited response, 429 with Retry-After when exhausted. createRateLimiter counts in
// memory per instance: no database write per request. Several instances each enforce the limit on their
// own share of traffic (see docs/operations.md, "Rate limits"); a platform with a shared counter plugs it
// in under the same middleware (RateLimiterFactory; Workers: src/http/rate-limit-workers.ts).
import type { Context, MiddlewareHandler } from "hono";
import { BoundedMap } from "../lib/bounded-map";
import type { AppEnv } from "./app-env";
import { errorBody } from "./errors";
import { addResponseHeaders } from "./response-headers";

export interface RateLimitRule {
  /** Name shown in logs and the bench ("free", "votes"). */
  name: string;
  /** Requests allowed per window per key. 0 disables the rule. */
  limit: number;
  windowMs: number;
  /** The key to count under (client IP, voter…); undefined skips limiting for this request. */
  key: (c: Context<AppEnv>) => string | undefined;
}

/** Per request (its Request object): the X-RateLimit-Remaining already set on its response, if any. */
const shownRemaining = new WeakMap<Request, number>();

interface Window {
  count: number;
  resetAt: number;
}

/** A key's window after one more hit: allowed or not, requests left (at most), when it ends (ms). */
export interface HitState {
  allowed: boolean;
  remaining: number;
  resetAt: number;
}

/** One rule's limiter as routes use it, wherever it counts (this process, or a platform's shared counter). */
export interface RuleLimiter {
  middleware: MiddlewareHandler<AppEnv>;
  /** Counts one hit of `key` outside the middleware (a route that answers its own refusal). */
  count(key: string, at?: number): Promise<HitState>;
}

/** Builds each rule's limiter: in memory by default; a Worker counts in its Rate Limiting bindings. */
export type RateLimiterFactory = (rule: RateLimitRule) => RuleLimiter;

export interface RateLimiter extends RuleLimiter {
  /** Counts one hit; returns the window's state after it. */
  hit(key: string, now?: number): HitState;
  /** Number of keys currently tracked (bounded by maxKeys). */
  size(): number;
}

export function createRateLimiter(rule: RateLimitRule, options: { now?: () => number; maxKeys?: number } = {}): RateLimiter {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 100_000;
  // Full of live keys (a flood of distinct keys): the oldest is forgotten rather than growing.
  const windows = new BoundedMap<string, Window>(maxKeys);
  let lastSweep = 0;

  const sweep = (at: number) => {
    // Expired windows are dropped lazily, at most once per window length, so memory stays bounded.
    if (at - lastSweep < rule.windowMs && windows.size < maxKeys) return;
    lastSweep = at;
    for (const [key, window] of windows) if (window.resetAt <= at) windows.delete(key);
  };

  const hit = (key: string, at = now()) => {
    let window = windows.get(key);
    if (!window || window.resetAt <= at) {
      sweep(at);
      window = { count: 0, resetAt: at + rule.windowMs };
      windows.set(key, window);
    }
    window.count += 1;
    return { allowed: window.count <= rule.limit, remaining: Math.max(0, rule.limit - window.count), resetAt: window.resetAt };
  };

  return { middleware: rateLimitMiddleware(rule, hit, now), count: async (key, at = now()) => hit(key, at), hit, size: () => windows.size };
}

/**
 * The rule's middleware over any counter: the headers and the 429 envelope, the same on every platform.
 * `count` counts one hit of a key and answers the window's state after it.
 */
export function rateLimitMiddleware(rule: RateLimitRule, count: (key: string, at: number) => HitState | Promise<HitState>, now: () => number = Date.now): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (rule.limit <= 0) return next();
    const key = rule.key(c);
    if (key === undefined) return next();
    const at = now();
    const state = await count(key, at);
    const headers = {
      "x-ratelimit-limit": String(rule.limit),
      "x-ratelimit-remaining": String(state.remaining),
      "x-ratelimit-reset": String(Math.ceil(state.resetAt / 1000)),
    };
    if (!state.allowed) {
      const retryAfter = Math.max(1, Math.ceil((state.resetAt - at) / 1000));
      // The refusing rule's headers replace any an earlier rule gathered for this response.
      addResponseHeaders(c, headers);
      return c.json(
        errorBody("rate_limited", `Too many requests: at most ${rule.limit} per ${rule.windowMs / 1000} s. Retry after ${retryAfter} s.`, undefined, {
          limit: rule.limit,
          windowSeconds: rule.windowMs / 1000,
          rule: rule.name,
        }),
        429,
        { ...headers, "retry-after": String(retryAfter) },
      );
    }
    // Several rules can count one request (a vote: per IP and per voter): the headers show the one
    // closest to refusing it. Before the route runs, with the edge's headers (src/http/response-headers.ts).
    const shown = shownRemaining.get(c.req.raw);
    if (shown === undefined || state.remaining < shown) {
      shownRemaining.set(c.req.raw, state.remaining);
      addResponseHeaders(c, headers);
    }
    return next();
  };
}
