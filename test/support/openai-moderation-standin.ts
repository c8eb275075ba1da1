// A local stand-in for OpenAI's `POST /v1/moderations`, close to the documented wire format, so the
// real `openai` SDK (pointed at it through its baseURL option) can be exercised offline.
//
// Usage:
//   const standin = await startOpenAIModerationStandin();
//   const moderator = createOpenAIModerator({ apiKey: standin.apiKey, baseURL: standin.url });
//   ...
//   await standin.close();
//
// What it flags (configurable through the options, defaults shown):
//   - text containing the whole word "kill" (case-insensitive)      → violence, harassment/threatening
//   - an image URL containing "flagged"                             → sexual
//   - an image URL containing "unfetchable"                         → 400 code "image_url_unavailable",
//     like OpenAI when it cannot download an image
//   - an image URL containing "server-error"                        → 500 every time, like OpenAI has
//     been seen to answer for some valid PNGs
//   Everything else is clean.
//
// What it checks, like OpenAI:
//   - `Authorization: Bearer <apiKey>`, else 401 `{ error: { message, type, param, code } }`. Unlike
//     OpenAI (which masks it) the 401 message echoes the presented key in full, so a test notices if
//     that upstream message ever leaks into our errors or logs.
//   - `model` (optional; known moderation models only) and `input`: a string, an array of strings, or
//     an array of `{type:"text",text}` / `{type:"image_url",image_url:{url}}` parts. More than one image
//     part → 400 code "too_many_images" (omni-moderation-latest accepts one image per request).
//   - Answers `{ id, model, results }`: one result per string of an array-of-strings input, one result
//     for a string or a multimodal input (text and image share that verdict).
//
// Failure modes: `setMode("error-500" | "error-503" | "rate-limited" | "stall" | "normal", { times?, retryAfterSeconds? })`.
// "stall" accepts the request and never answers (to test timeouts). With `times`, only the next `times`
// requests are affected, then the mode reverts to "normal" (the SDK retries 5xx/429, so a retrying
// client sends more than one request per call).
//
// `requests` records every request received (also rejected and stalled ones), in arrival order;
// clear it with `standin.requests.length = 0`.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const MODERATION_CATEGORIES = [
  "harassment",
  "harassment/threatening",
  "hate",
  "hate/threatening",
  "illicit",
  "illicit/violent",
  "self-harm",
  "self-harm/intent",
  "self-harm/instructions",
  "sexual",
  "sexual/minors",
  "violence",
  "violence/graphic",
] as const;
export type ModerationCategory = (typeof MODERATION_CATEGORIES)[number];

// Per OpenAI's docs, only these categories are scored for images; the rest apply to text only.
const IMAGE_CATEGORIES: ReadonlySet<ModerationCategory> = new Set([
  "self-harm",
  "self-harm/intent",
  "self-harm/instructions",
  "sexual",
  "violence",
  "violence/graphic",
]);

const KNOWN_MODELS = new Set([
  "omni-moderation-latest",
  "omni-moderation-2024-09-26",
  "text-moderation-latest",
  "text-moderation-stable",
]);

export interface OpenAIModerationStandinOptions {
  /** The key clients must present. Default: a random "sk-standin-…" key. */
  apiKey?: string;
  /** Whole word or phrase (case-insensitive) → categories. Default `{ kill: ["violence", "harassment/threatening"] }`. */
  textTriggers?: Record<string, ModerationCategory[]>;
  /** Substring of an image URL → categories. Default `{ flagged: ["sexual"] }`. */
  imageTriggers?: Record<string, ModerationCategory[]>;
  /** Substring of an image URL that makes it "undownloadable" (400). Default "unfetchable". */
  unfetchableMarker?: string;
  /** Substring of an image URL that always gets a 500. Default "server-error". */
  serverErrorMarker?: string;
}

export type StandinMode = "normal" | "error-500" | "error-503" | "rate-limited" | "stall";

export interface RecordedModerationRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when it was not JSON). */
  body: unknown;
  /** Text inputs: the strings of a string/array input, or the text parts of a multimodal input. */
  texts: string[];
  /** The image_url parts' URLs, in order. */
  imageUrls: string[];
  /** Status answered; 0 while stalled. */
  status: number;
}

export interface OpenAIModerationStandin {
  /** Base URL including /v1, for the SDK's baseURL option. */
  url: string;
  apiKey: string;
  requests: RecordedModerationRequest[];
  /** `retryAfterSeconds` adds a `retry-after` header to the error answers (the SDK obeys it). */
  setMode(mode: StandinMode, options?: { times?: number; retryAfterSeconds?: number }): void;
  /** Answer every request only after this many milliseconds (a slow but healthy service). */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

function errorBody(message: string, type: string, param: string | null = null, code: string | null = null): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

type ParsedInput =
  | { kind: "texts"; texts: string[] } // one result per text
  | { kind: "multimodal"; texts: string[]; imageUrls: string[] }; // one shared result

/** Validates `input` like OpenAI; returns an error body for anything it would reject. */
function parseInput(input: unknown): ParsedInput | OpenAIErrorBody {
  if (typeof input === "string") return { kind: "texts", texts: [input] };
  if (!Array.isArray(input) || input.length === 0) {
    return errorBody("'input' must be a non-empty string or array", "invalid_request_error", "input");
  }
  if (input.every((item) => typeof item === "string")) return { kind: "texts", texts: input as string[] };
  const texts: string[] = [];
  const imageUrls: string[] = [];
  for (const [i, part] of input.entries()) {
    const p = part as { type?: unknown; text?: unknown; image_url?: { url?: unknown } } | null;
    if (p?.type === "text" && typeof p.text === "string") texts.push(p.text);
    else if (p?.type === "image_url" && typeof p.image_url?.url === "string") imageUrls.push(p.image_url.url);
    else return errorBody(`Invalid value for 'input[${i}]'`, "invalid_request_error", `input[${i}]`, "invalid_value");
  }
  if (imageUrls.length > 1) {
    return errorBody(`Number of images (${imageUrls.length}) exceeds maximum of 1`, "invalid_request_error", "input", "too_many_images");
  }
  return { kind: "multimodal", texts, imageUrls };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export async function startOpenAIModerationStandin(
  options: OpenAIModerationStandinOptions = {},
): Promise<OpenAIModerationStandin> {
  const apiKey = options.apiKey ?? `sk-standin-${randomBytes(12).toString("hex")}`;
  const defaultTextTriggers: Record<string, ModerationCategory[]> = { kill: ["violence", "harassment/threatening"] };
  const defaultImageTriggers: Record<string, ModerationCategory[]> = { flagged: ["sexual"] };
  const textTriggers = Object.entries(options.textTriggers ?? defaultTextTriggers).map(
    ([word, categories]) => ({ pattern: new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(word)}(?![\\p{L}\\p{N}])`, "iu"), categories }),
  );
  const imageTriggers = Object.entries(options.imageTriggers ?? defaultImageTriggers);
  const unfetchableMarker = options.unfetchableMarker ?? "unfetchable";
  const serverErrorMarker = options.serverErrorMarker ?? "server-error";

  const requests: RecordedModerationRequest[] = [];
  const stalled = new Set<ServerResponse>();
  let mode: StandinMode = "normal";
  let modeRemaining = Infinity;
  let retryAfterSeconds: number | undefined;
  let delayMs = 0;

  function takeMode(): StandinMode {
    const current = mode;
    if (current !== "normal" && --modeRemaining <= 0) mode = "normal";
    return current;
  }

  function result(texts: string[], imageUrls: string[]) {
    const on = new Set<ModerationCategory>();
    for (const text of texts) for (const t of textTriggers) if (t.pattern.test(text)) t.categories.forEach((c) => on.add(c));
    for (const url of imageUrls) for (const [marker, cats] of imageTriggers) if (url.includes(marker)) cats.forEach((c) => on.add(c));
    const categories: Record<string, boolean> = {};
    const scores: Record<string, number> = {};
    const applied: Record<string, string[]> = {};
    for (const c of MODERATION_CATEGORIES) {
      categories[c] = on.has(c);
      scores[c] = on.has(c) ? 0.97 : 0.0001;
      applied[c] = [
        ...(texts.length > 0 ? ["text"] : []),
        ...(imageUrls.length > 0 && IMAGE_CATEGORIES.has(c) ? ["image"] : []),
      ];
    }
    return { flagged: on.size > 0, categories, category_scores: scores, category_applied_input_types: applied };
  }

  function send(res: ServerResponse, record: RecordedModerationRequest, status: number, body: unknown, retryAfter?: number) {
    record.status = status;
    res.writeHead(status, {
      "content-type": "application/json",
      "x-request-id": `req_${randomBytes(8).toString("hex")}`,
      ...(retryAfter !== undefined ? { "retry-after": String(retryAfter) } : {}),
    });
    res.end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      body = undefined;
    }
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const parsed = body && typeof body === "object" ? parseInput((body as { input?: unknown }).input) : undefined;
    const record: RecordedModerationRequest = {
      method: req.method ?? "",
      path,
      authorization: req.headers.authorization,
      headers: req.headers,
      body,
      texts: parsed && "kind" in parsed ? parsed.texts : [],
      imageUrls: parsed && "kind" in parsed && parsed.kind === "multimodal" ? parsed.imageUrls : [],
      status: 0,
    };
    requests.push(record);

    if (req.method !== "POST" || path !== "/v1/moderations") {
      return send(res, record, 404, errorBody(`Invalid URL (${req.method} ${path})`, "invalid_request_error"));
    }
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    switch (takeMode()) {
      case "stall":
        stalled.add(res);
        res.on("close", () => stalled.delete(res));
        return;
      case "error-500":
        return send(res, record, 500, errorBody("The server had an error while processing your request. Sorry about that!", "server_error"), retryAfterSeconds);
      case "error-503":
        return send(res, record, 503, errorBody("The server is overloaded or not ready yet.", "server_error"), retryAfterSeconds);
      case "rate-limited":
        return send(res, record, 429, errorBody("Rate limit reached for omni-moderation-latest.", "requests", null, "rate_limit_exceeded"), retryAfterSeconds);
      case "normal":
        break;
    }

    const auth = req.headers.authorization;
    if (!auth?.startsWith("Bearer ") || auth.length <= "Bearer ".length) {
      return send(res, record, 401, errorBody(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        "invalid_request_error",
      ));
    }
    const presented = auth.slice("Bearer ".length);
    if (presented !== apiKey) {
      return send(res, record, 401, errorBody(
        `Incorrect API key provided: ${presented}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        "invalid_request_error",
        null,
        "invalid_api_key",
      ));
    }
    if (body === undefined || typeof body !== "object" || body === null || Array.isArray(body)) {
      return send(res, record, 400, errorBody("We could not parse the JSON body of your request.", "invalid_request_error"));
    }
    const model = (body as { model?: unknown }).model ?? "omni-moderation-latest";
    if (typeof model !== "string" || !KNOWN_MODELS.has(model)) {
      return send(res, record, 404, errorBody(`The model \`${String(model)}\` does not exist or you do not have access to it.`, "invalid_request_error", null, "model_not_found"));
    }
    if (!parsed || !("kind" in parsed)) {
      return send(res, record, 400, parsed ?? errorBody("'input' is a required property", "invalid_request_error", "input"));
    }
    if (parsed.kind === "multimodal" && parsed.imageUrls.length > 0 && !model.startsWith("omni-")) {
      return send(res, record, 400, errorBody(`Model ${model} does not support image inputs.`, "invalid_request_error", "input", "invalid_value"));
    }
    if (record.imageUrls.some((url) => url.includes(serverErrorMarker))) {
      return send(res, record, 500, errorBody("Unexpected error", "server_error"));
    }
    const unfetchable = record.imageUrls.find((url) => url.includes(unfetchableMarker));
    if (unfetchable) {
      return send(res, record, 400, errorBody(`Failed to download image from ${unfetchable}.`, "invalid_request_error", null, "image_url_unavailable"));
    }

    const results = parsed.kind === "texts"
      ? parsed.texts.map((text) => result([text], []))
      : [result(parsed.texts, parsed.imageUrls)];
    return send(res, record, 200, { id: `modr-${randomBytes(12).toString("hex")}`, model, results });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify(errorBody(`stand-in failure: ${String(err)}`, "server_error")));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    apiKey,
    requests,
    setMode(next, opts) {
      mode = next;
      modeRemaining = opts?.times ?? Infinity;
      retryAfterSeconds = opts?.retryAfterSeconds;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    async close() {
      for (const res of stalled) res.destroy();
      stalled.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // keep-alive sockets from the SDK's fetch would hold close() open
      await closed;
    },
  };
}
