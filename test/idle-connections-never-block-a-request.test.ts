// The Node server has limits of its own: a client has HTTP_HEADERS_TIMEOUT_MS to send its headers and
// HTTP_REQUEST_TIMEOUT_MS for the whole request, an idle keep-alive connection lasts
// HTTP_KEEP_ALIVE_TIMEOUT_MS, and at most HTTP_MAX_CONNECTIONS are open (further ones are closed at once).
// Before, Node's defaults let a half-open connection live 300 s, with no cap. Here (loopback only, small
// counts, short deadlines): 200 idle half-open connections do not stop a normal request being answered
// promptly, the server closes them at the header deadline, and connections past the cap are refused.
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig } from "../src/config";
import { startLocalService, type LocalService } from "./support/harness";

// Long enough that a loaded machine still answers the normal request before it passes.
const HEADERS_TIMEOUT_MS = 5_000;
// Generous bound for "closed by the header deadline": far below Node's own 60 s header default.
const CLOSED_WITHIN_MS = 30_000;

let service: LocalService;
const sockets: Socket[] = [];

beforeAll(async () => {
  service = await startLocalService({
    HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    HTTP_REQUEST_TIMEOUT_MS: String(2 * HEADERS_TIMEOUT_MS),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: "1000",
    HTTP_MAX_CONNECTIONS: "300",
  });
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await service?.stop();
});

/** Opens `count` connections to the service; half send a partial request line, half nothing. */
async function openIdle(count: number): Promise<{ sockets: Socket[]; closedAt: Promise<number>[] }> {
  const opened: Socket[] = [];
  const closedAt: Promise<number>[] = [];
  await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const socket = connect(service.port, "127.0.0.1");
      socket.on("error", () => {});
      // Read what the server sends (its 408), so the socket sees the end of the connection.
      socket.resume();
      sockets.push(socket);
      opened.push(socket);
      closedAt.push(new Promise((resolve) => socket.once("close", () => resolve(performance.now()))));
      return new Promise<void>((resolve) => {
        socket.once("connect", () => {
          if (i % 2 === 0) socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1");
          resolve();
        });
        socket.once("close", () => resolve());
      });
    }),
  );
  return { sockets: opened, closedAt };
}

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), ms).unref())]);
const closedCount = (opened: Socket[]) => opened.filter((socket) => socket.closed || socket.destroyed).length;

describe("server limits", () => {
  it("default to 20 s for headers, 60 s for a request, 5 s keep-alive and 2,000 connections", () => {
    expect(loadConfig({}).http).toMatchObject({ headersTimeoutMs: 20_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000, maxConnections: 2_000 });
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: "30000", HTTP_REQUEST_TIMEOUT_MS: "10000" })).toThrow(ConfigError);
    expect(() => loadConfig({ HTTP_MAX_CONNECTIONS: "0" })).toThrow(/HTTP_MAX_CONNECTIONS/);
  });

  it("200 idle half-open connections: a normal request is answered promptly, and the idle ones are closed at the header deadline", async () => {
    const opening = performance.now();
    const idle = await openIdle(200);
    const response = await fetch(`${service.url}/healthz`, { headers: { connection: "close" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
    // Promptly: answered while every idle connection is still open, so it never waited for them to go.
    expect(closedCount(idle.sockets)).toBe(0);

    // Closed by the header deadline (not before it), within a generous bound.
    const all = await within(Promise.all(idle.closedAt), CLOSED_WITHIN_MS);
    expect(all).not.toBe("timeout");
    for (const at of all as number[]) {
      expect(at - opening).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      expect(at - opening).toBeLessThan(CLOSED_WITHIN_MS);
    }
  }, 90_000);

  it("closes connections past HTTP_MAX_CONNECTIONS at once, and serves again once they are gone", async () => {
    const opening = performance.now();
    const idle = await openIdle(320);
    // Past the cap (300) the server closes them on arrival, long before any deadline.
    await vi.waitUntil(() => closedCount(idle.sockets) >= 20, { timeout: CLOSED_WITHIN_MS, interval: 10 });
    expect(closedCount(idle.sockets)).toBeLessThanOrEqual(25);
    // The header deadline closes nothing before HEADERS_TIMEOUT_MS: these were the cap's doing.
    const closedEarly = await Promise.all(idle.closedAt.filter((_, i) => idle.sockets[i]!.closed || idle.sockets[i]!.destroyed));
    for (const at of closedEarly) expect(at - opening).toBeLessThan(HEADERS_TIMEOUT_MS);
    expect(await within(Promise.all(idle.closedAt), CLOSED_WITHIN_MS)).not.toBe("timeout");
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  }, 90_000);
});
