// `npm run bench:workers` puts the Node service's figures from `npm run bench` (bench/results.json) next to
// the Worker's. That file also holds the anchors' rows under the same scenario keys (the vote ceiling is a
// "votes" row): the promise guarded here is that the Workers comparison reads the service's own row, never
// an anchor's, and that a scenario Node did not run stays empty rather than borrowing another's figures.
import { describe, expect, it } from "vitest";
import { comparisonTable, nodeFigures } from "../bench/workers";

const row = (key: string, rps: number, extra: Record<string, unknown> = {}) => ({
  key,
  connections: key === "votes" ? 50 : 10,
  rps,
  p50Ms: 1,
  p99Ms: 2,
  errors: 0,
  cpuUsPerRequest: 100,
  ...extra,
});

describe("bench:workers reads npm run bench's results", () => {
  it("takes the service's vote row, not the vote ceiling listed with it", () => {
    const figures = nodeFigures({
      // As results.json orders them: the scenario, then its anchors.
      scenarios: [row("votes", 1_552), row("votes", 1_520, { anchor: "vote-ceiling" }), row("challenge402", 13_599), row("results", 10_000)],
    });
    expect(figures.votes?.rps).toBe(1_552);
    expect(figures.results?.rps).toBe(10_000);
    expect(Object.keys(figures).sort()).toEqual(["results", "votes"]);
  });

  it("states the mean latency of a closed loop: connections ÷ throughput", () => {
    const figures = nodeFigures({ scenarios: [row("feed", 5_000)] });
    expect(figures.feed?.meanMs).toBeCloseTo(2, 10); // 10 connections at 5,000 req/s: 2 ms each
  });

  it("leaves a scenario Node did not run empty in the table", () => {
    const table = comparisonTable(nodeFigures({ scenarios: [row("votes", 1_552)] }), {});
    const feedNodeLine = table.split("\n").find((line) => line.startsWith("| voter feed"))!;
    expect(feedNodeLine).toContain("| — | — | — | — | — | — |");
    expect(table).toContain("| 1552 |");
  });
});
