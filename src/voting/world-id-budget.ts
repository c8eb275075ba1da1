// A global budget of calls to the World ID portal, per minute, for all votes together: forged proofs that
// pass our own checks must not spend the portal quota that real votes need. Over it, a vote is answered
// 503 with Retry-After and the portal is not called. In memory, per instance (like the rate limits):
// with N instances the portal sees up to N× the budget.

export type BudgetSlot = { granted: true } | { granted: false; retryAfterSeconds: number };

export interface CallBudget {
  /** Takes one call from the current minute's budget, or says when the next minute starts. */
  take(): BudgetSlot;
}

const WINDOW_MS = 60_000;

/** `perMinute` calls per fixed one-minute window; 0 (or less) is no budget at all. */
export function createCallBudget(perMinute: number, now: () => number = Date.now): CallBudget {
  let windowStart = Number.NEGATIVE_INFINITY;
  let used = 0;
  return {
    take() {
      if (perMinute <= 0) return { granted: true };
      const at = now();
      if (at - windowStart >= WINDOW_MS) {
        windowStart = at;
        used = 0;
      }
      if (used >= perMinute) return { granted: false, retryAfterSeconds: Math.max(1, Math.ceil((windowStart + WINDOW_MS - at) / 1000)) };
      used += 1;
      return { granted: true };
    },
  };
}
