// The service's in-memory structures stay bounded whatever callers send, and a background job asked to
// run while it runs runs exactly once more: the shared pieces every feature uses (src/lib).
import { describe, expect, it } from "vitest";
import { createRateLimiter } from "../src/http/rate-limit";
import { BoundedMap } from "../src/lib/bounded-map";
import { serialRunner } from "../src/lib/serial-runner";

describe("BoundedMap", () => {
  it("forgets its oldest entry once full, and an update keeps the size", () => {
    const map = new BoundedMap<string, number>(3);
    for (const [i, key] of ["a", "b", "c"].entries()) map.set(key, i);
    map.set("b", 10);
    expect([...map.keys()]).toEqual(["a", "b", "c"]);
    map.set("d", 3);
    expect([...map.keys()]).toEqual(["b", "c", "d"]);
    expect(map.get("b")).toBe(10);
    for (let i = 0; i < 1_000; i++) map.set(`k${i}`, i);
    expect(map.size).toBe(3);
  });

  it("getOrSet makes a value once, including a falsy one", () => {
    const map = new BoundedMap<string, number>(2);
    let made = 0;
    expect(map.getOrSet("zero", () => (made++, 0))).toBe(0);
    expect(map.getOrSet("zero", () => (made++, 1))).toBe(0);
    expect(made).toBe(1);
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => new BoundedMap(0)).toThrow(RangeError);
    expect(() => new BoundedMap(1.5)).toThrow(RangeError);
  });
});

describe("the rate limiter under a flood of distinct keys", () => {
  it("tracks at most maxKeys windows and still limits a repeated key", () => {
    let now = 0;
    const limiter = createRateLimiter({ name: "t", limit: 2, windowMs: 60_000, key: () => undefined }, { now: () => now, maxKeys: 50 });
    for (let i = 0; i < 5_000; i++) limiter.hit(`client-${i}`);
    expect(limiter.size()).toBeLessThanOrEqual(50);
    expect(limiter.hit("same").allowed).toBe(true);
    expect(limiter.hit("same").allowed).toBe(true);
    expect(limiter.hit("same").allowed).toBe(false);
    now += 60_000;
    expect(limiter.hit("same").allowed).toBe(true);
  });
});

describe("serialRunner", () => {
  it("never overlaps itself, and runs once more for any number of requests made during a run", async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let release: () => void = () => undefined;
    const runner = serialRunner(
      async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        runs += 1;
        if (runs === 1) await new Promise<void>((resolve) => (release = resolve));
        running -= 1;
      },
      (error) => {
        throw error;
      },
    );
    const first = runner.run();
    const during = [runner.run(), runner.run(), runner.run()];
    release();
    await Promise.all([first, ...during]);
    expect(runs).toBe(2);
    expect(maxRunning).toBe(1);
    await runner.run();
    expect(runs).toBe(3);
  });

  it("reports a failed run and keeps going; stop waits for the run and ends future ones", async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const runner = serialRunner(async () => {
      runs += 1;
      if (runs === 1) throw new Error("boom");
    }, (error) => errors.push(error));
    await runner.run();
    await runner.run();
    expect(errors).toHaveLength(1);
    expect(runs).toBe(2);
    await runner.stop();
    await runner.run();
    expect(runs).toBe(2);
  });
});
