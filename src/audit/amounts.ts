// Atomic USDC amounts as the database stores them (decimal TEXT), read without ever going through floats.
import { formatUsdc } from "../payment";

const ATOMIC = /^\d{1,30}$/;

/** "500000" → 500000n; undefined for anything that is not a plain non-negative integer. */
export function parseAtomic(text: string | number | bigint | null | undefined): bigint | undefined {
  if (typeof text === "bigint") return text;
  if (typeof text === "number") return Number.isSafeInteger(text) && text >= 0 ? BigInt(text) : undefined;
  if (typeof text !== "string" || !ATOMIC.test(text)) return undefined;
  return BigInt(text);
}

/** "0.5 USDC (500000)": the decimal for people, the atomic amount for exactness. */
export function usdc(atomic: bigint): string {
  return `${formatUsdc(atomic)} USDC (${atomic})`;
}

export function sumAtomic(values: Iterable<bigint>): bigint {
  let total = 0n;
  for (const value of values) total += value;
  return total;
}
