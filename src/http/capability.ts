// A dependency the configuration may not provide (payments, moderation, read tokens, World ID…) is a
// value: either available, or unavailable with the 503 that says which variable is missing. Routes ask
// for it with `need()`; nothing else checks configuration problems.
import type { ConfigProblem } from "../config";
import { ApiError, type ErrorCode } from "./errors";

export type Capability<T> =
  | { readonly available: true; readonly value: T }
  | { readonly available: false; readonly error: ApiError };

export function available<T>(value: T): Capability<T> {
  return { available: true, value };
}

export function unavailable<T>(code: ErrorCode, message: string, details?: Record<string, unknown>): Capability<T> {
  return { available: false, error: new ApiError(503, code, message, undefined, details) };
}

/**
 * The capability of `area`: unavailable when the configuration has a problem there (the 503 names the
 * variables missing or refused), or when `value` is absent for another reason (then `fallbackMessage`).
 */
export function capabilityOf<T>(
  value: T | undefined,
  problems: readonly ConfigProblem[],
  area: ConfigProblem["area"],
  fallback: { code: ErrorCode; message: string },
): Capability<T> {
  const mine = problems.filter((p) => p.area === area);
  const first = mine[0];
  if (first) {
    const refused = mine.filter((p) => p.kind === "refused").map((p) => p.variable);
    const missing = mine.filter((p) => p.kind !== "refused").map((p) => p.variable);
    return unavailable(first.code, `${first.message} (${first.kind === "refused" ? "refused" : "missing"} ${first.variable})`, {
      missing,
      ...(refused.length > 0 ? { refused } : {}),
    });
  }
  return value === undefined ? unavailable(fallback.code, fallback.message) : available(value);
}

/** The capability's value, or its 503 thrown as the error envelope. */
export function need<T>(capability: Capability<T>): T {
  if (!capability.available) throw capability.error;
  return capability.value;
}

/** The value when available (for optional uses that degrade instead of answering 503). */
export function valueOf<T>(capability: Capability<T>): T | undefined {
  return capability.available ? capability.value : undefined;
}
