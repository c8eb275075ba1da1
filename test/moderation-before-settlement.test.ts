// A rejected poll is never charged: moderation runs (through the real OpenAI SDK, against a local
// server speaking /v1/moderations) after the payment is verified and before it is settled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usdcBalanceOf } from "../src/devnet/chain";
import { pollBody, startLocalService, type LocalService } from "./support/harness";
import { startOpenAIModerationStandin, type OpenAIModerationStandin } from "./support/openai-moderation-standin";
import { challengeFor, postPoll, signPayment } from "./support/sign";

let service: LocalService;
let openai: OpenAIModerationStandin;

beforeAll(async () => {
  openai = await startOpenAIModerationStandin();
  service = await startLocalService({ OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: openai.url, MODERATION_TIMEOUT_MS: "2000" });
});
afterAll(async () => {
  await service?.stop();
  await openai?.close();
});

const balance = (index: number) =>
  usdcBalanceOf(service.devnet!.rpcUrl, service.devnet!.asset, service.devnet!.payers[index]!.address);
const count = async (table: "polls" | "payments") =>
  Number((await service.store.db.selectFrom(table).select(({ fn }) => fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);

describe("moderation before settlement", () => {
  it("uses the OpenAI moderator when OPENAI_API_KEY is set, in local mode too", () => {
    expect(service.logs.some((line) => line.includes("openai:omni-moderation-latest"))).toBe(true);
  });

  it("rejects a flagged question with 400, names the field, and moves no money", async () => {
    const body = pollBody({ question: "Should we kill the competition's servers?" });
    const signature = await signPayment(service, await challengeFor(service, body), 0);
    const before = await balance(0);
    openai.requests.length = 0;

    const response = await postPoll(service, body, signature);
    expect(response.status).toBe(400);
    const json = await response.json();
    expect(json.error.code).toBe("content_rejected");
    expect(json.error.param).toBe("question");
    expect(json.error.details.categories).toContain("violence");
    expect(response.headers.get("PAYMENT-RESPONSE")).toBeNull();
    expect(openai.requests.length).toBeGreaterThan(0);

    expect(await balance(0)).toBe(before);
    expect(await count("polls")).toBe(0);
    expect(await count("payments")).toBe(0);
  });

  it("rejects a flagged option image, one image per moderation request", async () => {
    const body = pollBody({
      options: [
        { text: "A", mediaUrl: "https://images.example/a.png" },
        { text: "B", mediaUrl: "https://images.example/flagged-b.png" },
      ],
    });
    const signature = await signPayment(service, await challengeFor(service, body), 0);
    const before = await balance(0);
    openai.requests.length = 0;
    const response = await postPoll(service, body, signature);
    expect(response.status).toBe(400);
    expect((await response.json()).error.param).toBe("options[1].mediaUrl");
    expect(await balance(0)).toBe(before);
    const imageRequests = openai.requests.filter((request) => request.imageUrls.length > 0);
    expect(imageRequests.map((request) => request.imageUrls.length)).toEqual([1, 1]);
  });

  it("answers 503 and charges nothing when the moderation service is down; the same signature then works", async () => {
    const body = pollBody();
    const signature = await signPayment(service, await challengeFor(service, body), 1);
    const before = await balance(1);
    openai.setMode("error-503");
    try {
      const response = await postPoll(service, body, signature);
      expect(response.status).toBe(503);
      const json = await response.json();
      expect(json.error.code).toBe("moderation_unavailable");
      expect(JSON.stringify(json)).not.toContain(openai.apiKey);
      expect(await balance(1)).toBe(before);
    } finally {
      openai.setMode("normal");
    }
    const retry = await postPoll(service, body, signature);
    expect(retry.status).toBe(201);
    expect(before - (await balance(1))).toBe(500_000n);
  });

  it("accepts clean content and settles", async () => {
    const body = pollBody({ mediaUrl: "https://images.example/poll.png", mediaType: "image" });
    const signature = await signPayment(service, await challengeFor(service, body), 2);
    const before = await balance(2);
    const response = await postPoll(service, body, signature);
    expect(response.status).toBe(201);
    expect(before - (await balance(2))).toBe(500_000n);
  });
});
