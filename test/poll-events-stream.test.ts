// GET /api/v1/polls/{id}/events against the service in local mode (real chain, real SQLite, real HTTP):
// progress events arrive as simulated voters vote, `completed` arrives exactly once and the stream ends,
// a reconnect with Last-Event-ID gets neither gaps nor repeats, access is refused as for /results
// before any stream starts, open streams are bounded per poll and per client (429), an expiry that
// passes (the test clock moves, nothing waits) ends the stream with `expired`, and SIGTERM is not held up
// by an open stream.
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { payingFetch } from "../scripts/lib/agent";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { eventStreamParser } from "../src/client/event-stream";
import { encodeEvent, eventsAfter, resumePosition, type PollProgress } from "../src/polls/progress-stream";
import { createProgressWatch, type Reading } from "../src/polls/progress-watch";
import { findReadSidePoll } from "../src/polls/repo";
import { testClock } from "./support/clock";
import { dataOf, openEventStream, type OpenedStream } from "./support/event-stream";
import { futureIso, pollBody, startLocalService, type LocalService } from "./support/harness";
import { inProcessApp, type InProcessApp } from "./support/in-process";
import { createPaidPoll, mapLimit, type CreatedPoll } from "./support/polls";
import { startServerProcess } from "./support/server-process";

const clock = testClock();
let service: LocalService;
const opened: OpenedStream[] = [];
let clientNumber = 0;

beforeAll(async () => {
  // Each stream below calls from its own address (behind one trusted proxy hop), so only the bound
  // test's streams share one.
  service = await startLocalService({ EVENT_STREAMS_PER_POLL: "3", EVENT_STREAMS_PER_IP: "2", TRUST_PROXY_HOPS: "1" }, { now: clock.now });
});
afterAll(async () => {
  for (const stream of opened) stream.close();
  await service?.stop();
});

const eventsUrl = (pollId: string) => `${service.url}/api/v1/polls/${pollId}/events`;

async function open(poll: Pick<CreatedPoll, "id">, headers: Record<string, string> = {}, ip = `198.51.100.${++clientNumber}`): Promise<OpenedStream> {
  const stream = await openEventStream(eventsUrl(poll.id), { "x-forwarded-for": ip, ...headers });
  opened.push(stream);
  return stream;
}

let humans = 0;
async function vote(poll: CreatedPoll, count = 1): Promise<void> {
  const answers = await mapLimit(Array.from({ length: count }, (_, i) => i), 8, (i) =>
    voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[i % poll.options.length]!.id, human: `events-human-${++humans}` }),
  );
  expect(answers.map((a) => a.status)).toEqual(new Array(count).fill(201));
}

const ids = (stream: OpenedStream) => stream.events.map((e) => Number(e.lastEventId));

describe("the event stream's rules (pure)", () => {
  const active = (voteCount: number): PollProgress => ({ pollId: "p", status: "active", voteCount, maxResponses: 100, completedAt: null });

  it("sends progress once per new count, then the terminal event once, with ids that sort after every progress id", () => {
    expect(eventsAfter(undefined, active(0)).events.map((e) => [e.event, e.id])).toEqual([["progress", 0]]);
    expect(eventsAfter(0, active(0)).events).toEqual([]);
    expect(eventsAfter(0, active(4)).events.map((e) => [e.event, e.id])).toEqual([["progress", 4]]);
    const completed: PollProgress = { ...active(100), status: "completed", completedAt: "2026-12-05T07:00:00.000Z" };
    const final = eventsAfter(99, completed);
    expect(final.ended).toBe(true);
    expect(final.events.map((e) => [e.event, e.id])).toEqual([["progress", 100], ["completed", 101]]);
    expect(eventsAfter(100, completed).events.map((e) => e.event)).toEqual(["completed"]);
    expect(eventsAfter(101, completed).events).toEqual([]);
    // Read generically: a final status this code has never heard of is terminal too.
    expect(eventsAfter(7, { ...active(7), status: "closed" }).events.map((e) => [e.event, e.id])).toEqual([["closed", 8]]);
  });

  it("ignores a Last-Event-ID the poll cannot have sent", () => {
    expect(resumePosition("3", active(5))).toBe(3);
    expect(resumePosition(" 5 ", active(5))).toBe(5);
    for (const bad of [undefined, "", "abc", "-1", "1.5", "6", "99999999999999999999"]) expect(resumePosition(bad, active(5)), String(bad)).toBeUndefined();
    expect(resumePosition("6", { ...active(5), status: "expired" })).toBe(6);
  });

  it("writes events a standard parser reads back, across any split of the bytes", () => {
    const wire = `retry: 3000\n\n: keep-alive\n\n${encodeEvent({ event: "progress", id: 3, data: { pollId: "p", status: "active", voteCount: 3, maxResponses: 100 } })}`;
    for (const size of [1, 2, 7, wire.length]) {
      const retries: number[] = [];
      const parse = eventStreamParser({ onRetry: (ms) => retries.push(ms) });
      const events = [];
      for (let i = 0; i < wire.length; i += size) events.push(...parse(wire.slice(i, i + size).replaceAll("\n", "\r\n")));
      expect(events).toEqual([{ event: "progress", lastEventId: "3", data: '{"pollId":"p","status":"active","voteCount":3,"maxResponses":100}' }]);
      expect(retries).toEqual([3000]);
    }
  });
});

describe("how votes are noticed", () => {
  let app: InProcessApp;
  beforeAll(() => {
    // One stream per poll: a stream that is not given back shows as a 429.
    app = inProcessApp({ env: { EVENT_STREAMS_PER_POLL: "1" } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it("shared: one read per poll per interval however many streams watch it; the last one gone stops the timer", async () => {
    const [a, b] = [await app.insertPoll(), await app.insertPoll()];
    vi.useFakeTimers();
    try {
      for (const shared of [true, false]) {
        const reads: string[] = [];
        const watch = createProgressWatch({
          read: (id) => {
            reads.push(id);
            return findReadSidePoll(app.store.db, id);
          },
          intervalMs: 1_000,
          shared,
          log: () => {},
        });
        const received: Reading[][] = [[], [], []];
        const stops = [watch.watch(a, (r) => received[0]!.push(r)), watch.watch(a, (r) => received[1]!.push(r)), watch.watch(b, (r) => received[2]!.push(r))];
        expect(watch.readers()).toBe(shared ? 2 : 3);
        await vi.advanceTimersByTimeAsync(1_000);
        expect(reads.sort()).toEqual(shared ? [a, b].sort() : [a, a, b].sort());
        for (const got of received) expect(got.map((r) => (r.kind === "poll" ? r.poll.vote_count : r.kind))).toEqual([0]);
        for (const stop of stops) stop();
        expect(watch.readers()).toBe(0);
        // No timer left behind: nothing reads any more.
        await vi.advanceTimersByTimeAsync(5_000);
        expect(reads).toHaveLength(shared ? 2 : 3);
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it("writes a heartbeat comment after 15 s without an event (the test's clock, not the wall's)", async () => {
    const quiet = await app.insertPoll({ publicResults: true });
    vi.useFakeTimers();
    try {
      const response = await app.request(`/api/v1/polls/${quiet}/events`);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = decoder.decode((await reader.read()).value);
      expect(text).toMatch(/^retry: \d+\n\nevent: progress\n/);
      await vi.advanceTimersByTimeAsync(10_000);
      const more = reader.read();
      await vi.advanceTimersByTimeAsync(6_000);
      text = decoder.decode((await more).value);
      expect(text).toBe(": keep-alive\n\n");
      await reader.cancel();
    } finally {
      vi.useRealTimers();
    }
  });

  it("is open to browser agents on other origins: the preflight allows the read token and Last-Event-ID", async () => {
    const poll = await app.insertPoll();
    const preflight = await app.request(`/api/v1/polls/${poll}/events`, {
      method: "OPTIONS",
      headers: { origin: "https://agent.example", "access-control-request-method": "GET", "access-control-request-headers": "x-read-token,last-event-id" },
    });
    expect(preflight.status).toBe(204);
    const allowed = (preflight.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(",");
    expect(allowed).toEqual(expect.arrayContaining(["x-read-token", "last-event-id"]));
    const stream = await app.request(`/api/v1/polls/${poll}/events`, { headers: { origin: "https://agent.example", "x-read-token": app.readTokens!.tokenFor(poll), "last-event-id": "0" } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("access-control-allow-origin")).toBe("*");
    await stream.body!.cancel();
  });

  it("answers a publicResults poll without a token as /results does, refuses a wrong token, and 404s an unpaid poll", async () => {
    const publicPoll = await app.insertPoll({ publicResults: true });
    const response = await app.request(`/api/v1/polls/${publicPoll}/events`);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const parse = eventStreamParser();
    const events = parse(new TextDecoder().decode((await reader.read()).value));
    expect(events).toEqual([{ event: "progress", lastEventId: "0", data: JSON.stringify({ pollId: publicPoll, status: "active", voteCount: 0, maxResponses: 100 }) }]);
    await reader.cancel();
    expect((await app.request(`/api/v1/polls/${publicPoll}/events`, { headers: { "x-read-token": "not-this-polls-token" } })).status).toBe(403);
    // HEAD: the headers of the stream, and no stream left open behind them.
    const head = await app.request(`/api/v1/polls/${publicPoll}/events`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const again = await app.request(`/api/v1/polls/${publicPoll}/events`);
    expect(again.status).toBe(200);
    await again.body!.cancel();
    const unpaid = await app.insertPoll({ status: "pending_payment" });
    const refused = await app.request(`/api/v1/polls/${unpaid}/events`, { headers: { "x-read-token": app.readTokens!.tokenFor(unpaid) } });
    expect(refused.status).toBe(404);
  });
});

describe("GET /api/v1/polls/{id}/events", () => {
  let poll: CreatedPoll;
  let other: CreatedPoll;
  beforeAll(async () => {
    poll = await createPaidPoll(service, { question: "Events: which colour?", options: [{ text: "Red" }, { text: "Blue" }] });
    other = await createPaidPoll(service, { question: "Events: another poll" });
  });

  it("refuses before any stream starts: 404 unknown poll, 401 without a token, 403 with another poll's token", async () => {
    const cases: [string, Record<string, string>, number, string][] = [
      ["3f0c2a8e-6a4b-4c1d-9f7e-2b5d8c1a9e40", { "x-read-token": poll.readToken }, 404, "poll_not_found"],
      [poll.id, {}, 401, "read_token_missing"],
      [poll.id, { "x-read-token": other.readToken }, 403, "read_token_invalid"],
      [poll.id, { authorization: `Bearer ${other.readToken}` }, 403, "read_token_invalid"],
    ];
    for (const [id, headers, status, code] of cases) {
      const response = await fetch(eventsUrl(id), { headers: { accept: "text/event-stream", "x-forwarded-for": "198.51.100.250", ...headers } });
      expect(response.status, code).toBe(status);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    }
  });

  it("sends progress as votes land; a reconnect with Last-Event-ID gets neither gaps nor repeats", async () => {
    const first = await open(poll, { "x-read-token": poll.readToken });
    expect(first.response.status).toBe(200);
    expect(first.response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(first.response.headers.get("cache-control")).toContain("no-cache");
    const [initial] = await first.waitForEvents(1);
    expect(initial).toMatchObject({ event: "progress", lastEventId: "0" });
    expect(dataOf(initial!)).toEqual({ pollId: poll.id, status: "active", voteCount: 0, maxResponses: 100 });
    expect(first.retries).toHaveLength(1);
    expect(first.retries[0]).toBeGreaterThan(0);

    for (const count of [1, 2]) {
      await vote(poll);
      const event = await first.waitFor((e) => Number(e.lastEventId) === count);
      expect(dataOf(event)).toEqual({ pollId: poll.id, status: "active", voteCount: count, maxResponses: 100 });
    }
    expect(first.events.map((e) => e.event)).toEqual(["progress", "progress", "progress"]);
    expect(ids(first)).toEqual([0, 1, 2]);
    first.close();

    // Three votes while nobody listens: the reconnect's first event counts all of them.
    await vote(poll, 3);
    const resumed = await open(poll, { "x-read-token": poll.readToken, "last-event-id": "2" });
    const [caughtUp] = await resumed.waitForEvents(1);
    expect(caughtUp).toMatchObject({ event: "progress", lastEventId: "5" });
    expect(dataOf(caughtUp!)).toMatchObject({ voteCount: 5 });
    resumed.close();

    // Resuming at the current count repeats nothing: the first event is the next vote's.
    const upToDate = await open(poll, { authorization: `Bearer ${poll.readToken}`, "last-event-id": "5" });
    await vote(poll);
    const [next] = await upToDate.waitForEvents(1);
    expect(next).toMatchObject({ event: "progress", lastEventId: "6" });
    expect(upToDate.events).toHaveLength(1);
    upToDate.close();

    // An id the poll never sent is ignored: the stream starts from the current state.
    const bogus = await open(poll, { "x-read-token": poll.readToken, "last-event-id": "not-an-id" });
    expect((await bogus.waitForEvents(1))[0]).toMatchObject({ event: "progress", lastEventId: "6" });
    bogus.close();
  });

  it("sends `completed` exactly once when the last vote lands, then ends the stream", async () => {
    const stream = await open(poll, { "x-read-token": poll.readToken });
    await stream.waitForEvents(1);
    const remaining = 100 - Number(stream.events[0]!.lastEventId);
    await vote(poll, remaining);
    const end = await stream.ended;
    expect(end.error).toBeUndefined();

    const names = stream.events.map((e) => e.event);
    expect(names.filter((n) => n === "completed")).toHaveLength(1);
    expect(names.at(-1)).toBe("completed");
    expect(names.slice(0, -1).every((n) => n === "progress")).toBe(true);
    // Ids only grow; the last progress is the full count; the terminal id sorts after it.
    const seen = ids(stream);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(-2)).toEqual([100, 101]);
    const final = dataOf(stream.events.at(-1)!);
    expect(final).toMatchObject({ pollId: poll.id, status: "completed", voteCount: 100, maxResponses: 100 });
    const results = (await (await fetch(`${service.url}/api/v1/polls/${poll.id}/results`, { headers: { "x-read-token": poll.readToken } })).json()) as { completedAt: string };
    expect(final.completedAt).toBe(results.completedAt);

    // A stream opened afterwards: the final state at once, then the end. Resumed after the terminal
    // event: 204, nothing more (EventSource stops reconnecting).
    const late = await open(poll, { "x-read-token": poll.readToken });
    await late.ended;
    expect(late.events.map((e) => [e.event, e.lastEventId])).toEqual([
      ["progress", "100"],
      ["completed", "101"],
    ]);
    const after = await fetch(eventsUrl(poll.id), { headers: { "x-read-token": poll.readToken, "last-event-id": "101", "x-forwarded-for": "198.51.100.251" } });
    expect(after.status).toBe(204);
    const resumedAtLastProgress = await open(poll, { "x-read-token": poll.readToken, "last-event-id": "100" });
    await resumedAtLastProgress.ended;
    expect(resumedAtLastProgress.events.map((e) => e.event)).toEqual(["completed"]);
  }, 120_000);

  it("ends with `expired` when the poll's expiry passes", async () => {
    const expiresAt = futureIso(10);
    const expiring = await createPaidPoll(service, { question: "Events: expiring", expiresAt });
    await vote(expiring, 2);
    const stream = await open(expiring, { "x-read-token": expiring.readToken });
    expect((await stream.waitForEvents(1))[0]).toMatchObject({ event: "progress", lastEventId: "2" });
    clock.advance(11 * 60_000);
    try {
      await stream.ended;
      expect(stream.events.map((e) => [e.event, e.lastEventId])).toEqual([
        ["progress", "2"],
        ["expired", "3"],
      ]);
      const stored = (await (await fetch(`${service.url}/api/v1/polls/${expiring.id}`)).json()) as { expiresAt: string };
      expect(dataOf(stream.events[1]!)).toEqual({ pollId: expiring.id, status: "expired", voteCount: 2, maxResponses: 100, completedAt: stored.expiresAt });
    } finally {
      clock.advance(-11 * 60_000);
    }
  });

  it("bounds open streams per poll and per client address with 429, and a closed stream frees its place", async () => {
    const bounded = await createPaidPoll(service, { question: "Events: bounded" });
    const headers = { "x-read-token": bounded.readToken };
    const refusal = async (ip: string) => {
      const response = await fetch(eventsUrl(bounded.id), { headers: { ...headers, "x-forwarded-for": ip } });
      return { status: response.status, retryAfter: response.headers.get("retry-after"), limit: response.headers.get("x-ratelimit-limit"), body: (await response.json()) as { error: { code: string; details: { rule: string; limit: number } } } };
    };
    // Per client: two from one address, the third refused.
    const a1 = await open(bounded, headers, "203.0.113.1");
    const a2 = await open(bounded, headers, "203.0.113.1");
    expect([a1.response.status, a2.response.status]).toEqual([200, 200]);
    const perIp = await refusal("203.0.113.1");
    expect(perIp).toMatchObject({ status: 429, limit: "2", body: { error: { code: "rate_limited", details: { rule: "event-streams-per-ip", limit: 2 } } } });
    expect(Number(perIp.retryAfter)).toBeGreaterThan(0);

    // Per poll: a third stream from another address, then the fourth refused whoever asks.
    const b1 = await open(bounded, headers, "203.0.113.2");
    expect(b1.response.status).toBe(200);
    const perPoll = await refusal("203.0.113.3");
    expect(perPoll).toMatchObject({ status: 429, body: { error: { code: "rate_limited", details: { rule: "event-streams-per-poll", limit: 3 } } } });

    // Hanging up gives the place back (the server notices the disconnect).
    a1.close();
    await vi.waitUntil(
      async () => {
        const response = await fetch(eventsUrl(bounded.id), { headers: { ...headers, "x-forwarded-for": "203.0.113.3" } });
        if (response.status !== 200) {
          await response.arrayBuffer();
          return false;
        }
        await response.body!.cancel();
        return true;
      },
      { timeout: 30_000, interval: 100 },
    );
    // The streams still open go on working.
    await vote(bounded);
    for (const stream of [a2, b1]) await stream.waitFor((e) => e.lastEventId === "1");
    a2.close();
    b1.close();
  });
});

describe("shutdown", () => {
  it("an open stream ends when the server gets SIGTERM, and does not hold the shutdown up", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "quali-events-sigterm-"));
    const server = await startServerProcess({ DATA_DIR: dataDir });
    try {
      const devnet = JSON.parse(readFileSync(join(dataDir, "devnet.json"), "utf8")) as { payers: { privateKey: `0x${string}` }[]; network: `${string}:${string}`; asset: `0x${string}` };
      const pay = payingFetch({ privateKey: devnet.payers[0]!.privateKey, network: devnet.network, asset: devnet.asset });
      const created = await pay(`${server.url}/api/v1/polls`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(pollBody()) });
      expect(created.status).toBe(201);
      const { id, readToken } = (await created.json()) as { id: string; readToken: string };
      const stream = await openEventStream(`${server.url}/api/v1/polls/${id}/events`, { "x-read-token": readToken });
      await stream.waitForEvents(1);

      server.child.kill("SIGTERM");
      expect((await stream.ended).error).toBeUndefined();
      expect(await server.exited).toBe(0);
      expect(server.output()).toContain("SIGTERM: shutting down");
      // The grace period's forced close never had to cut it.
      expect(server.output()).not.toContain("did not finish in time");
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
