// Poll pricing in atomic USDC units (6 decimals). Integers only: the decimal numbers in JSON are
// derived for display from these, never used in arithmetic.
export const USDC_DECIMALS = 6;
/** 0.005 USDC per requested response … */
export const PRICE_PER_RESPONSE_ATOMIC = 5_000n;
/** … of which 0.0005 USDC goes to the voter who gives it … */
export const REWARD_PER_VOTE_ATOMIC = 500n;
/** … and the rest is the service fee. */
export const FEE_PER_RESPONSE_ATOMIC = PRICE_PER_RESPONSE_ATOMIC - REWARD_PER_VOTE_ATOMIC;

export interface PollPrice {
  maxResponses: number;
  costAtomic: bigint;
  rewardPoolAtomic: bigint;
  feeAtomic: bigint;
}

export function pollPrice(maxResponses: number): PollPrice {
  if (!Number.isSafeInteger(maxResponses) || maxResponses < 0) {
    throw new RangeError(`maxResponses must be a non-negative integer, got ${maxResponses}`);
  }
  const responses = BigInt(maxResponses);
  return {
    maxResponses,
    costAtomic: responses * PRICE_PER_RESPONSE_ATOMIC,
    rewardPoolAtomic: responses * REWARD_PER_VOTE_ATOMIC,
    feeAtomic: responses * FEE_PER_RESPONSE_ATOMIC,
  };
}

/** "500000" → "0.5" exactly (string arithmetic, no floats). */
export function formatUsdc(atomic: bigint): string {
  const negative = atomic < 0n;
  const digits = (negative ? -atomic : atomic).toString().padStart(USDC_DECIMALS + 1, "0");
  const whole = digits.slice(0, -USDC_DECIMALS);
  const fraction = digits.slice(-USDC_DECIMALS).replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** The JSON number the contract shows (costUsdc: 0.5). Display only; exact for amounts < 2^53 units. */
export function usdcNumber(atomic: bigint): number {
  return Number(formatUsdc(atomic));
}

/** "0.5" → 500000n; throws on more than 6 decimals. */
export function parseUsdc(decimal: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(decimal.trim());
  if (!match) throw new RangeError(`not a USDC amount with at most 6 decimals: ${decimal}`);
  const [, whole = "0", fraction = ""] = match;
  return BigInt(whole) * 10n ** BigInt(USDC_DECIMALS) + BigInt(fraction.padEnd(USDC_DECIMALS, "0"));
}
