// The Node edge replays answers the app offered (the unpaid 402 probe, the quote) without running the app
// (src/http/replay-edge.ts). The promises: a replay is the app's answer byte for byte except its own
// request id; every replay still gets its access line; a replay never stands in for a request that
// differs (another body byte, another media type, a payment, another query, HEAD); and a rate limit
// cannot be dodged through it (an answer a limit counted is never replayed). challenge-reuse-never-stale
// covers the 402's time rule through the same edge.
import { createServer, IncomingMessage, request as httpRequest } from "node:http";
import { connect, Socket, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachReplayOffer } from "../src/http/replay";
import { createReplayEdge } from "../src/http/replay-edge";
import { pollBody, startLocalService, type LocalService } from "./support/harness";

interface RawAnswer {
  status: number;
  /** Header lines as sent, in order, without the ones node writes itself; the request id's line marks only its place. */
  headers: string[];
  requestId: string | undefined;
  body: string;
}

const NODE_WRITTEN = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);

function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const lines: string[] = [];
        let requestId: string | undefined;
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i]!.toLowerCase();
          if (name === "x-request-id") {
            requestId = res.rawHeaders[i + 1];
            lines.push("x-request-id: (its own)");
          } else if (!NODE_WRITTEN.has(name)) lines.push(`${name}: ${res.rawHeaders[i + 1]}`);
        }
        resolve({ status: res.statusCode ?? 0, headers: lines, requestId, body: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("replayed answers (rate limits off, as for a busy discovery probe)", () => {
  let service: LocalService;
  const accessLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    service = await startLocalService(
      { RATE_LIMIT_PER_MINUTE: "0" },
      { log: (message, fields) => void (message === "request" && fields ? accessLines.push(fields) : undefined) },
    );
  });
  afterAll(async () => {
    await service?.stop();
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    raw(service.url, "POST", "/api/v1/polls", { "content-type": "application/json", ...headers }, body);

  it("the quote, replayed, is the app's answer byte for byte, with a request id of its own and its access line", async () => {
    const path = "/api/v1/quote?maxResponses=700";
    const before = service.replayStats().replayed;
    const fromApp = await raw(service.url, "GET", path);
    expect(fromApp.status).toBe(200);
    const replays = [await raw(service.url, "GET", path), await raw(service.url, "GET", path, { "x-request-id": "agent-trace-42" })];
    expect(service.replayStats().replayed).toBe(before + 2);
    for (const replay of replays) {
      expect(replay.status).toBe(fromApp.status);
      expect(replay.headers).toEqual(fromApp.headers);
      expect(replay.body).toBe(fromApp.body);
    }
    expect(replays[0]!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(replays[0]!.requestId).not.toBe(fromApp.requestId);
    expect(replays[1]!.requestId).toBe("agent-trace-42");
    for (const replay of replays) {
      expect(accessLines).toContainEqual(expect.objectContaining({ requestId: replay.requestId, method: "GET", path: "/api/v1/quote", status: 200 }));
    }
  });

  it("the unpaid 402, replayed, is the app's answer byte for byte (once the edge has read that body)", async () => {
    const body = JSON.stringify(pollBody({ maxResponses: 450 }));
    const before = service.replayStats().replayed;
    // The route's first offer teaches the edge to read such bodies; the next is kept; then replayed.
    const fromApp = [await post(body), await post(body)];
    const replay = await post(body);
    expect(service.replayStats().replayed).toBe(before + 1);
    expect(fromApp[0]!.status).toBe(402);
    for (const answer of [fromApp[1]!, replay]) {
      expect(answer.status).toBe(402);
      expect(answer.headers).toEqual(fromApp[0]!.headers);
      expect(answer.body).toBe(fromApp[0]!.body);
    }
    expect(replay.headers.some((line) => line.startsWith("payment-required: "))).toBe(true);
    expect(new Set([fromApp[0]!.requestId, fromApp[1]!.requestId, replay.requestId]).size).toBe(3);
  });

  it("never stands in for a request that differs: a body byte, the media type, a payment, the query, HEAD", async () => {
    const body = JSON.stringify(pollBody({ maxResponses: 500 }));
    await post(body);
    await post(body);
    expect((await post(body)).status).toBe(402);
    const replayed = service.replayStats().replayed;

    const otherBody = await post(body.replace("Which name is clearer?", "Which name is clearer!"));
    expect(otherBody.status).toBe(402);
    const asText = await post(body, { "content-type": "text/plain" });
    expect(asText.status).toBe(415);
    const withPayment = await post(body, { "payment-signature": "not-a-payment" });
    expect(withPayment.status).toBe(402);
    expect(JSON.parse(withPayment.body)).toMatchObject({ error: "invalid_payment_payload" });
    const withLegacyPayment = await post(body, { "x-payment": "not-a-payment" });
    expect(JSON.parse(withLegacyPayment.body)).toMatchObject({ error: "invalid_payment_payload" });

    await raw(service.url, "GET", "/api/v1/quote?maxResponses=800");
    await raw(service.url, "GET", "/api/v1/quote?maxResponses=800");
    const afterQuote = service.replayStats().replayed;
    const otherQuery = await raw(service.url, "GET", "/api/v1/quote?maxResponses=801");
    expect(JSON.parse(otherQuery.body)).toMatchObject({ maxResponses: 801 });
    const head = await raw(service.url, "HEAD", "/api/v1/quote?maxResponses=800");
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    const badQuery = await raw(service.url, "GET", "/api/v1/quote?maxResponses=800&maxResponses=900");
    expect(badQuery.status).toBe(400);

    // None of these was a replay: only the second quote of 800 was.
    expect(service.replayStats().replayed).toBe(afterQuote);
    expect(afterQuote).toBe(replayed + 1);
  });

  it("hands on what it cannot key (a chunked body, a body over 8 KB, a GET with a body) and survives an aborted upload", async () => {
    const body = JSON.stringify(pollBody({ maxResponses: 550 }));
    await post(body);
    await post(body);
    expect((await post(body)).status).toBe(402);
    const replayed = service.replayStats().replayed;

    // The same bytes, chunked: answered by the app (the same 402), not replayed.
    const chunked = await raw(service.url, "POST", "/api/v1/polls", { "content-type": "application/json", "transfer-encoding": "chunked" }, body);
    expect(chunked.status).toBe(402);
    // Over the edge's 8 KB: the app validates it and answers the envelope.
    const big = await post(JSON.stringify(pollBody({ maxResponses: 550, description: "d".repeat(9_000) })));
    expect(big.status).toBe(400);
    expect(JSON.parse(big.body)).toMatchObject({ error: { code: "validation_error", param: "description" } });
    // A GET with a body is the app's to answer, and is not kept for the GETs without one.
    await raw(service.url, "GET", "/api/v1/quote?maxResponses=850");
    const getWithBody = await raw(service.url, "GET", "/api/v1/quote?maxResponses=850", { "content-type": "text/plain", "content-length": "7" }, "ignored");
    expect(getWithBody.status).toBe(200);
    expect(service.replayStats().replayed).toBe(replayed);

    // Headers announcing 300 bytes, 10 sent, then the connection drops: nothing answered, nothing broken.
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(new URL(service.url).port), "127.0.0.1", () => {
        socket.write('POST /api/v1/polls HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n{"question');
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 100);
      });
      socket.on("error", reject);
    });
    expect((await post(body)).status).toBe(402);
    expect(service.replayStats().replayed).toBe(replayed + 1);
  });
});

describe("rateLimitDodgedByReplay", () => {
  let service: LocalService;

  beforeAll(async () => {
    service = await startLocalService({ RATE_LIMIT_PER_MINUTE: "3" });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it("a quote a rate limit counted is never replayed: the 4th in the minute is refused", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await raw(service.url, "GET", "/api/v1/quote?maxResponses=100")).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(service.replayStats()).toEqual({ replayed: 0, kept: 0, routes: 0 });
  });
});

describe("pathSpellingFlood", () => {
  let service: LocalService;

  beforeAll(async () => {
    service = await startLocalService({ RATE_LIMIT_PER_MINUTE: "0" });
  });
  afterAll(async () => {
    await service?.stop();
  });

  /** The n-th spelling of /api/v1/quote: letter i percent-encoded when bit i of n is set (the app routes them all alike). */
  const spelling = (n: number) => {
    let bit = 0;
    return "/api/v1/quote".replace(/[a-z]/g, (letter) => (n & (1 << bit++) ? `%${letter.charCodeAt(0).toString(16)}` : letter));
  };

  it("percent-encoded spellings of a path churn what the edge keeps, never grow it, and the plain path still replays", async () => {
    const spellings = Array.from({ length: 300 }, (_, n) => spelling(n + 1));
    expect(new Set(spellings).size).toBe(300);
    const first = await raw(service.url, "GET", `${spellings[0]}?maxResponses=100`);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ maxResponses: 100 });

    for (const [n, path] of spellings.entries()) expect((await raw(service.url, "GET", `${path}?maxResponses=${100 + n}`)).status).toBe(200);
    // 300 paths the app answered and offered, each with its own answer: held to the edge's bounds.
    expect(service.replayStats()).toMatchObject({ routes: 64, kept: 256 });

    await raw(service.url, "GET", "/api/v1/quote?maxResponses=100");
    const before = service.replayStats().replayed;
    const again = await raw(service.url, "GET", "/api/v1/quote?maxResponses=100");
    expect(JSON.parse(again.body)).toMatchObject({ maxResponses: 100 });
    expect(service.replayStats().replayed).toBe(before + 1);
  });
});

describe("an offer with no request id to replace", () => {
  const incomingGet = (url: string) => {
    const incoming = new IncomingMessage(new Socket());
    incoming.method = "GET";
    incoming.url = url;
    return incoming;
  };
  const offered = (headers: Record<string, string>) => {
    const response = new Response("hi");
    attachReplayOffer(response, { vary: [], status: 200, headers, body: "hi" });
    return response;
  };

  it("is not kept: every replay must carry an id of its own, in the place the app gave it", () => {
    const edge = createReplayEdge();
    edge.keep(incomingGet("/a"), offered({ "content-type": "text/plain" }));
    expect(edge.stats().kept).toBe(0);
    edge.keep(incomingGet("/a"), offered({ "content-type": "text/plain", "x-request-id": "r-1" }));
    expect(edge.stats().kept).toBe(1);
  });
});

describe("a body beyond ASCII", () => {
  it("is replayed with its length in bytes, not characters, and the same bytes", async () => {
    const body = '{"question":"¿Qué prefieres? é✓🙂"}';
    const edge = createReplayEdge();
    let appAnswers = 0;
    const server = createServer(
      edge.listener((incoming, outgoing) => {
        appAnswers += 1;
        const headers = { "content-type": "application/json", "x-request-id": `app-${appAnswers}` };
        const response = new Response(body);
        attachReplayOffer(response, { vary: [], status: 200, headers, body });
        edge.keep(incoming, response);
        outgoing.writeHead(200, headers);
        outgoing.end(body);
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const fromApp = await fetch(`${base}/q`);
      const replayed = await fetch(`${base}/q`);
      expect(appAnswers).toBe(1);
      expect(edge.stats().replayed).toBe(1);
      const bytes = Buffer.from(await replayed.arrayBuffer());
      expect(bytes.equals(Buffer.from(await fromApp.arrayBuffer()))).toBe(true);
      expect(replayed.headers.get("content-length")).toBe(String(Buffer.byteLength(body, "utf8")));
      expect(bytes.toString("utf8")).toBe(body);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
