// "A webhook is retried until it is delivered, with the same delivery id and body, on the schedule we
// document; answers that say 'never' are not retried." Real local HTTP receivers; the dispatcher is driven
// with a fake clock (no real minutes are waited) and a fixed jitter source.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createServer } from "node:net";
import { loadConfig } from "../src/config";
import {
  DEFAULT_TIMEOUT_MS,
  dispatchDue,
  MAX_ATTEMPTS,
  parseRetryAfter,
  RETRY_SCHEDULE_MS,
  retryDelayMs,
  type DispatchDeps,
} from "../src/webhook/dispatcher-node";
import { testClock, type TestClock } from "./support/clock";
import { OUTBOX_CLOCK_START, outboxFixture, type OutboxFixture } from "./support/webhook-outbox";
import { startReceiver, type Receiver } from "./support/webhook-receiver";

let fixture: OutboxFixture;
let receivers: Receiver[] = [];
beforeEach(() => {
  fixture = outboxFixture();
});
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
  await fixture.close();
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const started = await startReceiver(...args);
  receivers.push(started);
  return started;
}

function deps(clock: TestClock, overrides: Partial<DispatchDeps> = {}): DispatchDeps {
  return {
    store: fixture.store,
    mode: "local",
    now: clock.now,
    contractSecret: "global-contract-secret",
    callbackSecrets: fixture.callbackSecrets,
    random: () => 0.5, // no jitter: delays are exactly the schedule
    ...overrides,
  };
}

async function completedPollWithDelivery(url: string, clock: TestClock) {
  const pollId = await fixture.insertPoll({ callbackUrl: url });
  expect(await fixture.transition(pollId, "completed", clock.now())).toBe(true);
  return pollId;
}

const delivery = (pollId: string) =>
  fixture.store.db.selectFrom("webhook_deliveries").selectAll().where("poll_id", "=", pollId).executeTakeFirstOrThrow();
const history = (deliveryId: string) =>
  fixture.store.db.selectFrom("webhook_attempts").selectAll().where("delivery_id", "=", deliveryId).orderBy("attempt").execute();

describe("webhook retries", () => {
  it("retries 503 twice and delivers on the 3rd attempt, same delivery id and body, after ~1 min and ~5 min", async () => {
    const hook = await receiver((_req, index) => (index < 2 ? { status: 503, body: "busy" } : { status: 204 }));
    const clock = testClock({ frozenAt: OUTBOX_CLOCK_START });
    const pollId = await completedPollWithDelivery(hook.url, clock);
    const row = await delivery(pollId);

    expect(await dispatchDue(deps(clock))).toEqual({ attempted: 1, delivered: 0, retrying: 1, failed: 0 });
    let current = await delivery(pollId);
    expect(current).toMatchObject({ state: "pending", attempts: 1, last_status: 503, last_error: "http_error" });
    expect(Date.parse(current.next_attempt_at!) - clock.now().getTime()).toBe(60_000);

    // Not due yet: nothing is sent.
    clock.advance(59_000);
    expect((await dispatchDue(deps(clock))).attempted).toBe(0);
    clock.advance(1_000);
    expect(await dispatchDue(deps(clock))).toMatchObject({ attempted: 1, retrying: 1 });
    current = await delivery(pollId);
    expect(Date.parse(current.next_attempt_at!) - clock.now().getTime()).toBe(5 * 60_000);

    clock.advance(5 * 60_000);
    expect(await dispatchDue(deps(clock))).toMatchObject({ attempted: 1, delivered: 1 });
    current = await delivery(pollId);
    expect(current).toMatchObject({ state: "delivered", attempts: 3, last_status: 204, last_error: null, next_attempt_at: null });
    expect(current.delivered_at).toBe(clock.now().toISOString());

    expect(hook.received).toHaveLength(3);
    expect(new Set(hook.received.map((r) => r.headers.get("x-quali-delivery")))).toEqual(new Set([row.id]));
    expect(new Set(hook.received.map((r) => r.rawBody))).toEqual(new Set([row.body]));
    // The contract signature covers deliveryId.body only: identical on every attempt. Ours has a fresh timestamp.
    expect(new Set(hook.received.map((r) => r.headers.get("x-quali-signature"))).size).toBe(1);
    expect(new Set(hook.received.map((r) => r.headers.get("x-quali-timestamp"))).size).toBe(3);
    expect(hook.received.map((r) => r.headers.get("x-quali-attempt"))).toEqual(["1", "2", "3"]);

    const attempts = await history(row.id);
    expect(attempts.map((a) => [a.attempt, a.status, a.error])).toEqual([
      [1, 503, "http_error"],
      [2, 503, "http_error"],
      [3, 204, null],
    ]);
    expect(attempts[0]!.response_snippet).toBe("busy");
    // Delivered: later runs send nothing more.
    clock.advance(24 * 60 * 60_000);
    expect((await dispatchDue(deps(clock))).attempted).toBe(0);
  });

  it("gives up after 6 attempts spaced ~1m, 5m, 15m, 1h, 3h", async () => {
    const hook = await receiver(() => ({ status: 500 }));
    const clock = testClock({ frozenAt: OUTBOX_CLOCK_START });
    const pollId = await completedPollWithDelivery(hook.url, clock);
    const gaps: number[] = [];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      await dispatchDue(deps(clock));
      const row = await delivery(pollId);
      if (row.next_attempt_at) {
        const gap = Date.parse(row.next_attempt_at) - clock.now().getTime();
        gaps.push(gap);
        clock.advance(gap);
      }
    }
    expect(gaps).toEqual([60_000, 300_000, 900_000, 3_600_000, 10_800_000]);
    const row = await delivery(pollId);
    expect(row).toMatchObject({ state: "failed", attempts: 6, next_attempt_at: null, last_status: 500 });
    clock.advance(24 * 60 * 60_000);
    expect((await dispatchDue(deps(clock))).attempted).toBe(0);
    expect(hook.received).toHaveLength(6);
  });

  it("jitters each delay by ±10% and honours a longer Retry-After (seconds or HTTP date) on 429", async () => {
    expect(retryDelayMs(1, () => 0)).toBe(54_000);
    expect(retryDelayMs(1, () => 0.999_999)).toBe(66_000);
    expect(retryDelayMs(5, () => 0.5)).toBe(RETRY_SCHEDULE_MS[4]);
    const now = new Date("2026-11-23T10:00:00.000Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Mon, 23 Nov 2026 10:10:00 GMT", now)).toBe(600_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();

    const hook = await receiver((_req, index) => (index === 0 ? { status: 429, headers: { "retry-after": "600" } } : { status: 200 }));
    const clock = testClock({ frozenAt: OUTBOX_CLOCK_START });
    const pollId = await completedPollWithDelivery(hook.url, clock);
    await dispatchDue(deps(clock));
    const row = await delivery(pollId);
    expect(row).toMatchObject({ state: "pending", last_status: 429 });
    expect(Date.parse(row.next_attempt_at!) - clock.now().getTime()).toBe(600_000);
    clock.advance(300_000);
    expect((await dispatchDue(deps(clock))).attempted).toBe(0);
    clock.advance(300_000);
    expect((await dispatchDue(deps(clock))).delivered).toBe(1);
  });

  it("retries 408 and network errors, not 400 (or any other 4xx)", async () => {
    const timeoutHook = await receiver((_req, index) => (index === 0 ? { status: 408 } : { status: 200 }));
    const rejecting = await receiver(() => ({ status: 400, body: '{"error":"bad signature"}' }));
    const gone = await receiver(() => ({ status: 410 }));
    // A port nobody listens on: connection refused.
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const clock = testClock({ frozenAt: OUTBOX_CLOCK_START });
    const p408 = await completedPollWithDelivery(timeoutHook.url, clock);
    const p400 = await completedPollWithDelivery(rejecting.url, clock);
    const p410 = await completedPollWithDelivery(gone.url, clock);
    const pDown = await completedPollWithDelivery(`http://127.0.0.1:${closedPort}/hook`, clock);

    expect(await dispatchDue(deps(clock))).toEqual({ attempted: 4, delivered: 0, retrying: 2, failed: 2 });
    expect(await delivery(p408)).toMatchObject({ state: "pending", last_status: 408 });
    expect(await delivery(p400)).toMatchObject({ state: "failed", last_status: 400, last_error: "http_error", next_attempt_at: null });
    expect(await delivery(p410)).toMatchObject({ state: "failed", last_status: 410 });
    expect(await delivery(pDown)).toMatchObject({ state: "pending", last_status: null, last_error: "network_error" });

    clock.advance(60 * 60_000);
    await dispatchDue(deps(clock));
    expect(await delivery(p408)).toMatchObject({ state: "delivered", attempts: 2 });
    expect(rejecting.received).toHaveLength(1);
    expect(gone.received).toHaveLength(1);
    const [attempt] = await history((await delivery(p400)).id);
    expect(attempt).toMatchObject({ attempt: 1, status: 400, error: "http_error", response_snippet: '{"error":"bad signature"}' });
  });

  it("gives up on a receiver that stalls past the timeout and retries it later (10 s by default)", async () => {
    expect(DEFAULT_TIMEOUT_MS).toBe(10_000);
    expect(loadConfig({}).webhook.timeoutMs).toBe(10_000);
    let stall = true;
    const hook = await receiver(() => (stall ? "stall" : { status: 200 }));
    const clock = testClock({ frozenAt: OUTBOX_CLOCK_START });
    const pollId = await completedPollWithDelivery(hook.url, clock);
    const timeoutMs = 1_000;
    const started = performance.now();
    expect(await dispatchDue(deps(clock, { timeoutMs }))).toMatchObject({ attempted: 1, retrying: 1 });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 10);
    // The configured deadline ended it: well before the 10 s default (slack for a loaded machine).
    expect(elapsed).toBeLessThan(DEFAULT_TIMEOUT_MS / 2);
    const row = await delivery(pollId);
    expect(row).toMatchObject({ state: "pending", last_status: null, last_error: "timeout" });
    const [attempt] = await history(row.id);
    expect(attempt!.duration_ms).toBeGreaterThanOrEqual(timeoutMs - 10);

    stall = false;
    clock.advance(60_000);
    // The retry, with the default deadline: a slow machine must not turn this answer into a timeout.
    expect((await dispatchDue(deps(clock))).delivered).toBe(1);
    expect(hook.received.map((r) => r.headers.get("x-quali-delivery"))).toEqual([row.id, row.id]);
  });

  it("never sends the same attempt twice when two dispatchers run at once (lease)", async () => {
    const hook = await receiver(async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return { status: 200 };
    });
    const clock = testClock({ frozenAt: OUTBOX_CLOCK_START });
    const pollId = await completedPollWithDelivery(hook.url, clock);
    const results = await Promise.all([dispatchDue(deps(clock)), dispatchDue(deps(clock)), dispatchDue(deps(clock))]);
    expect(results.reduce((sum, r) => sum + r.attempted, 0)).toBe(1);
    expect(hook.received).toHaveLength(1);
    expect(await delivery(pollId)).toMatchObject({ state: "delivered", attempts: 1 });
  });

  it("records an attempt interrupted by a crash and sends it again once its lease ran out", async () => {
    const hook = await receiver(() => ({ status: 200 }));
    const clock = testClock({ frozenAt: OUTBOX_CLOCK_START });
    const pollId = await completedPollWithDelivery(hook.url, clock);
    const row = await delivery(pollId);
    // What a process that died mid-attempt leaves behind: the lease taken, the attempt counted, no result.
    await fixture.store.batch([
      fixture.store.db
        .updateTable("webhook_deliveries")
        .set({ state: "delivering", attempts: 1, last_attempt_at: clock.now().toISOString(), lease_token: "dead", lease_until: new Date(clock.now().getTime() + 70_000).toISOString() })
        .where("id", "=", row.id),
    ]);
    expect((await dispatchDue(deps(clock))).attempted).toBe(0); // lease still held
    clock.advance(71_000);
    expect((await dispatchDue(deps(clock))).delivered).toBe(1);
    expect((await history(row.id)).map((a) => [a.attempt, a.error, a.duration_ms])).toEqual([
      [1, "interrupted", null],
      [2, null, expect.any(Number)],
    ]);
    expect(hook.received[0]!.headers.get("x-quali-attempt")).toBe("2");
  });
});
