// The token's blacklist as the vote path asks it: cached per address for a short while, answered within
// a short deadline, and "unknown" (not refused) whenever the chain cannot say — a chain outage must never
// block votes. The payout job's parking is the backstop for anything let through.
import { BoundedMap } from "../lib/bounded-map";

/** true / false as the token said; undefined: unknown (no blacklist on this token, RPC error, too slow). */
export interface BlacklistCheck {
  isBlacklisted(address: string): Promise<boolean | undefined>;
}

export interface CachedBlacklistOptions {
  /** How long an answer (or an "unknown") is reused. */
  ttlMs?: number;
  /** How long a vote waits for the chain before treating the answer as unknown. */
  timeoutMs?: number;
  maxEntries?: number;
  now?: () => number;
  /** Called at most once per ttl window when lookups fail. */
  onError?: (error: unknown) => void;
}

export const BLACKLIST_CACHE_TTL_MS = 60_000;
export const BLACKLIST_LOOKUP_TIMEOUT_MS = 1_500;
const MAX_ENTRIES = 10_000;

export function cachedBlacklist(lookup: (address: `0x${string}`) => Promise<boolean>, options: CachedBlacklistOptions = {}): BlacklistCheck {
  const ttlMs = options.ttlMs ?? BLACKLIST_CACHE_TTL_MS;
  const timeoutMs = options.timeoutMs ?? BLACKLIST_LOOKUP_TIMEOUT_MS;
  const maxEntries = options.maxEntries ?? MAX_ENTRIES;
  const now = options.now ?? Date.now;
  const cache = new BoundedMap<string, { value: boolean | undefined; expiresAt: number }>(maxEntries);
  let lastErrorReportAt = -Infinity;

  const ask = async (address: `0x${string}`): Promise<boolean | undefined> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([lookup(address), deadline]);
    } catch (error) {
      if (now() - lastErrorReportAt >= ttlMs) {
        lastErrorReportAt = now();
        options.onError?.(error);
      }
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async isBlacklisted(address) {
      const key = address.toLowerCase();
      const cached = cache.get(key);
      if (cached && cached.expiresAt > now()) return cached.value;
      const value = await ask(key as `0x${string}`);
      // Re-inserted, so the map's oldest entry stays the one looked up longest ago.
      cache.delete(key);
      cache.set(key, { value, expiresAt: now() + ttlMs });
      return value;
    },
  };
}
