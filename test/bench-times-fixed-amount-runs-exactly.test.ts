// The bench's vote scenario sends a fixed number of votes (each needs a distinct prepared human) and
// divides by the time they took. autocannon's own start/finish only move on its once-a-second ticker, so
// a run that took 3.0 s was reported as 4 s and the votes/s as 25% lower than what was served. The
// promise guarded here: bench/lib/load.ts times a run to its last response.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLoad } from "../bench/lib/load";

let server: Server;
let url: string;
/** When the server sent its latest answer (this process's clock, as runLoad's). */
let lastServedAt = 0;
/** Room for an answer to reach the client in this same process, however busy the machine. */
const DELIVERY_MS = 500;

beforeAll(async () => {
  // Every answer takes ~5 ms, so 300 requests over 10 connections take ~150 ms of wall time.
  server = createServer((_req, res) =>
    setTimeout(() => {
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      lastServedAt = performance.now();
    }, 5),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("bench load timing", () => {
  it("times a fixed-amount run to its last response, not to the next whole second", async () => {
    const started = performance.now();
    const result = await runLoad({ url, connections: 10, amount: 300, path: "/", expectStatus: 200 });
    const wallSeconds = (performance.now() - started) / 1000;
    expect(result.requests).toBe(300);
    expect(result.errors).toBe(0);
    expect(result.seconds).toBeGreaterThan(0.15 * 0.9);
    // Never longer than the call itself took, and ending at the last answer, not at autocannon's next
    // once-a-second tick (which comes most of a second later here).
    expect(result.seconds).toBeLessThanOrEqual(wallSeconds);
    expect(result.seconds * 1000).toBeLessThan(lastServedAt - started + DELIVERY_MS);
    expect(result.rps).toBeCloseTo(300 / result.seconds, 6);
  });

  it("times a duration run to about its duration", async () => {
    const started = performance.now();
    const result = await runLoad({ url, connections: 10, durationSeconds: 1, path: "/", expectStatus: 200 });
    const wallSeconds = (performance.now() - started) / 1000;
    expect(result.seconds).toBeGreaterThan(0.9);
    expect(result.seconds).toBeLessThanOrEqual(wallSeconds);
    expect(result.seconds * 1000).toBeLessThan(lastServedAt - started + DELIVERY_MS);
    expect(result.requests).toBeGreaterThan(100);
  });

  it("reports 0 requests/s, not NaN, and counts the errors when nothing answers", async () => {
    // Every connection is cut as soon as it is made: no response ever arrives.
    const refusing = createServer();
    refusing.on("connection", (socket) => socket.destroy());
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    try {
      const port = (refusing.address() as AddressInfo).port;
      const result = await runLoad({ url: `http://127.0.0.1:${port}`, connections: 2, durationSeconds: 1, path: "/", expectStatus: 200 });
      expect(result.requests).toBe(0);
      expect(result.rps).toBe(0);
      expect(result.errors).toBeGreaterThan(0);
    } finally {
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });
});
