// Money is integer atomic units end to end: every price splits exactly into reward pool + fee, and
// the decimal display is derived from the integers, never the other way round.
import { describe, expect, it } from "vitest";
import { formatUsdc, parseUsdc, pollPrice, usdcNumber } from "../src/payment/pricing";

describe("poll pricing", () => {
  it.each([
    [100, 500_000n, 50_000n, 450_000n],
    [250, 1_250_000n, 125_000n, 1_125_000n],
    [1_000_000, 5_000_000_000n, 500_000_000n, 4_500_000_000n],
  ])("%i responses cost %s = pool %s + fee %s", (responses, cost, pool, fee) => {
    const price = pollPrice(responses);
    expect(price).toEqual({ maxResponses: responses, costAtomic: cost, rewardPoolAtomic: pool, feeAtomic: fee });
  });

  it("splits every size exactly into reward pool plus fee", () => {
    for (let responses = 100; responses <= 1_000_000; responses += 9_973) {
      const price = pollPrice(responses);
      expect(price.rewardPoolAtomic + price.feeAtomic).toBe(price.costAtomic);
      expect(price.costAtomic).toBe(BigInt(responses) * 5_000n);
    }
  });

  it("formats atomic units as exact decimals", () => {
    expect(formatUsdc(500_000n)).toBe("0.5");
    expect(formatUsdc(1n)).toBe("0.000001");
    expect(formatUsdc(5_000_000_000n)).toBe("5000");
    expect(formatUsdc(1_234_567n)).toBe("1.234567");
    expect(usdcNumber(50_000n)).toBe(0.05);
    expect(usdcNumber(450_000n)).toBe(0.45);
  });

  it("parses decimals back without floats and refuses sub-atomic amounts", () => {
    expect(parseUsdc("0.5")).toBe(500_000n);
    expect(parseUsdc("5000.000000")).toBe(5_000_000_000n);
    expect(() => parseUsdc("0.0000001")).toThrow();
    expect(() => parseUsdc("1e3")).toThrow();
  });
});
