// The real `openai` SDK moderator against a local stand-in of POST /v1/moderations.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ModerationUnavailableError,
  createOpenAIModerator,
  moderationInputFromPoll,
  type ModerationInput,
} from "../src/moderation/index.js";
import { startOpenAIModerationStandin, type OpenAIModerationStandin } from "./support/openai-moderation-standin.js";

let standin: OpenAIModerationStandin;

beforeAll(async () => {
  standin = await startOpenAIModerationStandin();
});
afterAll(async () => {
  await standin.close();
});
beforeEach(() => {
  standin.requests.length = 0;
  standin.setMode("normal");
});

function moderator(overrides: { apiKey?: string; timeoutMs?: number; baseURL?: string } = {}) {
  return createOpenAIModerator({ apiKey: standin.apiKey, baseURL: standin.url, timeoutMs: 5_000, ...overrides });
}

const cleanPoll = {
  question: "Which season do you like most?",
  description: "Pick one.",
  options: [
    { text: "Spring", mediaUrl: "https://img.example/spring.png" },
    { text: "Summer", mediaUrl: "https://img.example/summer.png" },
    { text: "Autumn" },
  ],
  mediaUrl: "https://img.example/seasons.png",
};

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable("expected a rejection"),
    (err: unknown) => err,
  );
}

describe("OpenAI moderator: verdicts", () => {
  it("passes clean content and names itself after the model", async () => {
    const m = moderator();
    expect(m.name).toBe("openai:omni-moderation-latest");
    await expect(m.moderate(moderationInputFromPoll(cleanPoll))).resolves.toEqual({ flagged: false });
  });

  it("sends the API key as a Bearer token on every request", async () => {
    await moderator().moderate(moderationInputFromPoll(cleanPoll));
    expect(standin.requests.length).toBeGreaterThan(0);
    for (const r of standin.requests) expect(r.authorization).toBe(`Bearer ${standin.apiKey}`);
  });

  it("reports a flagged question with param 'question' and the categories that are true", async () => {
    const verdict = await moderator().moderate(moderationInputFromPoll({ ...cleanPoll, question: "Should I kill the neighbour's dog?" }));
    expect(verdict).toEqual({
      flagged: true,
      param: "question",
      categories: ["harassment/threatening", "violence"],
      message: "question was flagged for: harassment/threatening, violence",
    });
  });

  it("maps results[i] to texts[i], so a flagged third option is reported as options[2].text", async () => {
    const poll = { ...cleanPoll, options: [...cleanPoll.options.slice(0, 2), { text: "Kill it" }] };
    const verdict = await moderator().moderate(moderationInputFromPoll(poll));
    expect(verdict).toMatchObject({ flagged: true, param: "options[2].text" });
  });

  it("reports a flagged second-option image as options[1].mediaUrl", async () => {
    const poll = { ...cleanPoll, options: [cleanPoll.options[0]!, { text: "Summer", mediaUrl: "https://img.example/flagged.png" }] };
    const verdict = await moderator().moderate(moderationInputFromPoll(poll));
    expect(verdict).toEqual({
      flagged: true,
      param: "options[1].mediaUrl",
      categories: ["sexual"],
      message: "options[1].mediaUrl was flagged for: sexual",
    });
  });

  it("reports the first flagged field in input order: texts before images, images in order", async () => {
    const input: ModerationInput = {
      texts: [{ param: "question", text: "fine" }, { param: "options[0].text", text: "kill" }],
      images: [{ param: "mediaUrl", url: "https://img.example/flagged-a.png" }],
    };
    await expect(moderator().moderate(input)).resolves.toMatchObject({ param: "options[0].text" });

    const imagesOnly: ModerationInput = {
      texts: [{ param: "question", text: "fine" }],
      images: [
        { param: "mediaUrl", url: "https://img.example/ok.png" },
        { param: "options[0].mediaUrl", url: "https://img.example/flagged-1.png" },
        { param: "options[1].mediaUrl", url: "https://img.example/flagged-2.png" },
      ],
    };
    await expect(moderator().moderate(imagesOnly)).resolves.toMatchObject({ param: "options[0].mediaUrl" });
  });

  it("rejects an image OpenAI cannot download as invalid_image instead of failing the service", async () => {
    const poll = { ...cleanPoll, options: [{ text: "Spring", mediaUrl: "https://img.example/unfetchable.png" }, cleanPoll.options[1]!] };
    const verdict = await moderator().moderate(moderationInputFromPoll(poll));
    expect(verdict).toEqual({
      flagged: true,
      param: "options[0].mediaUrl",
      categories: ["invalid_image"],
      message: "options[0].mediaUrl could not be fetched as an image",
    });
  });

  it("makes no request when there is nothing to moderate", async () => {
    await expect(moderator().moderate({ texts: [], images: [] })).resolves.toEqual({ flagged: false });
    expect(standin.requests).toHaveLength(0);
  });
});

describe("OpenAI moderator: request shape", () => {
  it("takes its settings from its options only, not from OPENAI_* environment variables", async () => {
    vi.stubEnv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1");
    vi.stubEnv("OPENAI_ORG_ID", "org-from-env");
    vi.stubEnv("OPENAI_PROJECT_ID", "proj-from-env");
    try {
      await expect(moderator().moderate(moderationInputFromPoll(cleanPoll))).resolves.toEqual({ flagged: false });
      for (const r of standin.requests) {
        expect(r.headers["openai-organization"]).toBeUndefined();
        expect(r.headers["openai-project"]).toBeUndefined();
      }
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("with 3 images sends one text request (array of strings) and 3 requests of exactly one image each", async () => {
    const input = moderationInputFromPoll(cleanPoll);
    expect(input.images).toHaveLength(3);
    await moderator().moderate(input);

    expect(standin.requests).toHaveLength(4);
    const textRequests = standin.requests.filter((r) => r.imageUrls.length === 0);
    const imageRequests = standin.requests.filter((r) => r.imageUrls.length > 0);
    expect(textRequests).toHaveLength(1);
    expect(textRequests[0]!.body).toEqual({
      model: "omni-moderation-latest",
      input: ["Which season do you like most?", "Pick one.", "Spring", "Summer", "Autumn"],
    });
    expect(imageRequests).toHaveLength(3);
    for (const r of imageRequests) {
      expect(r.imageUrls).toHaveLength(1);
      expect(r.texts).toEqual([]);
      expect(r.body).toEqual({ model: "omni-moderation-latest", input: [{ type: "image_url", image_url: { url: r.imageUrls[0] } }] });
    }
    expect(imageRequests.map((r) => r.imageUrls[0]).sort()).toEqual(input.images.map((i) => i.url).sort());
  });

  it("runs the requests concurrently, so three stalled images cost one timeout, not three", async () => {
    standin.setMode("stall");
    const timeoutMs = 1_000;
    const started = Date.now();
    const err = await rejection(moderator({ timeoutMs }).moderate(moderationInputFromPoll(cleanPoll)));
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(ModerationUnavailableError);
    expect(standin.requests).toHaveLength(4); // all four were in flight at once
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 20);
    // One timeout plus slack for a loaded machine; three in a row would take 3 × timeoutMs.
    expect(elapsed).toBeLessThan(2.5 * timeoutMs);
  });
});

describe("OpenAI moderator: service failures become ModerationUnavailableError", () => {
  it.each([
    ["error-503", 503],
    ["error-500", 500],
  ] as const)("%s → ModerationUnavailableError (server_error) after exactly one retry", async (mode, status) => {
    standin.setMode(mode);
    const err = await rejection(moderator().moderate({ texts: [{ param: "question", text: "hi" }], images: [] }));
    expect(err).toBeInstanceOf(ModerationUnavailableError);
    expect(err).toMatchObject({ reason: "server_error", status });
    expect(standin.requests.map((r) => r.status)).toEqual([status, status]);
  });

  it("a 500 on one image while everything else is clean → ModerationUnavailableError, never a pass", async () => {
    const poll = { ...cleanPoll, options: [cleanPoll.options[0]!, { text: "Summer", mediaUrl: "https://img.example/server-error.png" }] };
    const err = await rejection(moderator().moderate(moderationInputFromPoll(poll)));
    expect(err).toMatchObject({ name: "ModerationUnavailableError", reason: "server_error", status: 500 });
  });

  it("a flagged field still rejects the poll when another field's request failed", async () => {
    const poll = {
      ...cleanPoll,
      mediaUrl: "https://img.example/server-error.png",
      options: [cleanPoll.options[0]!, { text: "Summer", mediaUrl: "https://img.example/flagged.png" }],
    };
    await expect(moderator().moderate(moderationInputFromPoll(poll))).resolves.toMatchObject({
      flagged: true,
      param: "options[1].mediaUrl",
    });
  });

  it("retries a single 503 once (maxRetries 1) and then gives a verdict", async () => {
    standin.setMode("error-503", { times: 1 });
    const verdict = await moderator().moderate({ texts: [{ param: "question", text: "kill" }], images: [] });
    expect(verdict).toMatchObject({ flagged: true, param: "question" });
    expect(standin.requests.map((r) => r.status)).toEqual([503, 200]);
  });

  it("429 → ModerationUnavailableError (rate_limited)", async () => {
    standin.setMode("rate-limited");
    const err = await rejection(moderator().moderate({ texts: [{ param: "question", text: "hi" }], images: [] }));
    expect(err).toMatchObject({ name: "ModerationUnavailableError", reason: "rate_limited", status: 429 });
  });

  it("a stalled service → ModerationUnavailableError (timeout) within the configured timeout, retries included", async () => {
    standin.setMode("stall");
    const timeoutMs = 1_000;
    const started = Date.now();
    const err = await rejection(moderator({ timeoutMs }).moderate({ texts: [{ param: "question", text: "hi" }], images: [] }));
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(ModerationUnavailableError);
    expect(err).toMatchObject({ reason: "timeout" });
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 20);
    // One deadline for the call; a deadline per attempt would take two of them (plus the retry back-off).
    expect(elapsed).toBeLessThan(2 * timeoutMs);
  });

  it("a 429 asking to retry after 30 s still fails within the configured timeout", async () => {
    standin.setMode("rate-limited", { retryAfterSeconds: 30 });
    const timeoutMs = 1_000;
    const started = Date.now();
    const err = await rejection(moderator({ timeoutMs }).moderate({ texts: [{ param: "question", text: "hi" }], images: [] }));
    expect(err).toMatchObject({ name: "ModerationUnavailableError", reason: "timeout" });
    // The deadline, not the 30 s the service asked for.
    expect(Date.now() - started).toBeLessThan(2 * timeoutMs);
  });

  it("401 → ModerationUnavailableError (auth) whose message, stack and fields never contain the key", async () => {
    const wrongKey = "sk-wrong-0123456789abcdef0123456789abcdef";
    const err = await rejection(moderator({ apiKey: wrongKey }).moderate(moderationInputFromPoll(cleanPoll)));
    expect(standin.requests[0]?.status).toBe(401); // the stand-in echoed the key in its 401 body
    expect(err).toBeInstanceOf(ModerationUnavailableError);
    expect(err).toMatchObject({ reason: "auth", status: 401, code: "invalid_api_key" });
    const e = err as ModerationUnavailableError;
    for (const text of [e.message, String(e.stack), JSON.stringify(e), String(e.cause)]) {
      expect(text).not.toContain(wrongKey);
      expect(text).not.toContain("0123456789abcdef");
    }
  });

  it("an unreachable service → ModerationUnavailableError (connection)", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await rejection(moderator({ baseURL: `http://127.0.0.1:${port}/v1` }).moderate(moderationInputFromPoll(cleanPoll)));
    expect(err).toMatchObject({ name: "ModerationUnavailableError", reason: "connection" });
  });

  it("a caller abort rejects with the caller's reason, not as an outage", async () => {
    standin.setMode("stall");
    const controller = new AbortController();
    const pending = moderator().moderate(moderationInputFromPoll(cleanPoll), controller.signal);
    setTimeout(() => controller.abort(new Error("client went away")), 50);
    const err = await rejection(pending);
    expect(err).not.toBeInstanceOf(ModerationUnavailableError);
    expect((err as Error).message).toBe("client went away");
  });
});

describe("the stand-in itself behaves like OpenAI where our design depends on it", () => {
  async function post(body: unknown, key = standin.apiKey) {
    const res = await fetch(`${standin.url}/moderations`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  }

  it("rejects two images in one request with 400 too_many_images", async () => {
    const { status, json } = await post({
      model: "omni-moderation-latest",
      input: [
        { type: "image_url", image_url: { url: "https://img.example/a.png" } },
        { type: "image_url", image_url: { url: "https://img.example/b.png" } },
      ],
    });
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ type: "invalid_request_error", code: "too_many_images", param: "input" });
  });

  it("answers every documented category, one result per string of an array input", async () => {
    const { status, json } = await post({ model: "omni-moderation-latest", input: ["hello", "kill"] });
    expect(status).toBe(200);
    expect(json.results).toHaveLength(2);
    expect(Object.keys(json.results[0].categories)).toHaveLength(13);
    expect(json.results.map((r: { flagged: boolean }) => r.flagged)).toEqual([false, true]);
    expect(json.results[1].category_applied_input_types.violence).toEqual(["text"]);
  });

  it("answers 401 in OpenAI's error shape without a Bearer key", async () => {
    const res = await fetch(`${standin.url}/moderations`, { method: "POST", body: JSON.stringify({ input: "x" }) });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { type: "invalid_request_error", param: null } });
  });
});
