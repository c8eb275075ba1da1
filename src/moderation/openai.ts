// OpenAI moderation (omni-moderation-latest) through the official SDK.
//
// omni-moderation-latest accepts at most ONE image per request (two → 400 too_many_images), and text
// plus image in one request share a single verdict. So: all texts go in one request as an array of
// strings (results[i] ↔ texts[i]), and each image gets its own request; all run concurrently.
// A paying agent is waiting on this call, so the whole call has one deadline (timeoutMs) and the
// SDK retries at most `maxRetries` times inside it.
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import {
  ModerationUnavailableError,
  flaggedVerdict,
  type ModerationInput,
  type ModerationVerdict,
  type Moderator,
} from "./moderator.js";

export interface OpenAIModeratorOptions {
  apiKey: string;
  /** e.g. OPENAI_BASE_URL read by src/config.ts. Absent → https://api.openai.com/v1 (the SDK's env is NOT consulted). */
  baseURL?: string | undefined;
  /** Deadline for one whole `moderate` call, retries included. Default 10 s. */
  timeoutMs?: number | undefined;
  model?: string | undefined;
  /** SDK retries per request (connection errors, 408/409/429/5xx). Default 1. */
  maxRetries?: number | undefined;
}

const DEFAULT_BASE_URL = "https://api.openai.com/v1";

// 400 codes seen when OpenAI could not download or decode an image we passed by URL. The poll is then
// rejected as invalid (no charge) instead of answered 503, since retrying the same URL will not help.
const IMAGE_PROBLEM_CODES = new Set([
  "image_url_unavailable",
  "invalid_image_url",
  "invalid_image",
  "invalid_image_format",
  "image_parse_error",
  "image_too_large",
]);

export function createOpenAIModerator(options: OpenAIModeratorOptions): Moderator {
  const model = options.model ?? "omni-moderation-latest";
  const timeoutMs = options.timeoutMs ?? 10_000;
  const apiKey = options.apiKey;
  const client = new OpenAI({
    apiKey,
    // Explicit values everywhere the SDK would otherwise read process.env (OPENAI_BASE_URL,
    // OPENAI_ORG_ID, OPENAI_PROJECT_ID, OPENAI_LOG): src/config.ts is the only env reader.
    baseURL: options.baseURL ?? DEFAULT_BASE_URL,
    organization: null,
    project: null,
    webhookSecret: null,
    logLevel: "warn",
    maxRetries: options.maxRetries ?? 1,
    timeout: timeoutMs,
  });

  async function classify(input: string[] | OpenAI.ModerationMultiModalInput[], signal: AbortSignal) {
    const response = await untilAborted(client.moderations.create({ model, input }, { signal }), signal);
    return response.results;
  }

  return {
    name: `openai:${model}`,
    description: `OpenAI moderation (${model}): texts in one request, one request per image`,

    async moderate(input: ModerationInput, callerSignal?: AbortSignal): Promise<ModerationVerdict> {
      callerSignal?.throwIfAborted();
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = callerSignal ? AbortSignal.any([deadline, callerSignal]) : deadline;

      const textJob =
        input.texts.length === 0
          ? Promise.resolve([] as OpenAI.Moderation[])
          : classify(
              input.texts.map((t) => t.text),
              signal,
            );
      const imageJobs = input.images.map((image) =>
        classify([{ type: "image_url", image_url: { url: image.url } }], signal),
      );

      const [textOutcome, ...imageOutcomes] = await Promise.allSettled([textJob, ...imageJobs]);
      if (callerSignal?.aborted) throw callerSignal.reason;

      // Every request is awaited (bounded by the deadline) and fields are walked in input order. A
      // definite "flagged" wins over another field's failure: the poll is rejected either way, and a
      // 400 tells the agent more than a 503 it would retry in vain.
      const failures: unknown[] = [];
      if (textOutcome && input.texts.length > 0) {
        if (textOutcome.status === "rejected") {
          failures.push(textOutcome.reason);
        } else {
          const results = textOutcome.value;
          if (results.length !== input.texts.length) {
            failures.push(badResponse(`expected ${input.texts.length} text results, got ${results.length}`));
          } else {
            for (const [i, text] of input.texts.entries()) {
              const verdict = verdictFor(text.param, results[i]);
              if (verdict) return verdict;
            }
          }
        }
      }
      for (const [i, image] of input.images.entries()) {
        const outcome = imageOutcomes[i];
        if (!outcome) continue;
        if (outcome.status === "fulfilled") {
          const verdict = verdictFor(image.param, outcome.value[0]);
          if (verdict) return verdict;
          if (outcome.value.length !== 1) failures.push(badResponse(`expected 1 image result, got ${outcome.value.length}`));
        } else if (isImageProblem(outcome.reason)) {
          return {
            flagged: true,
            param: image.param,
            categories: ["invalid_image"],
            message: `${image.param} could not be fetched as an image`,
          };
        } else {
          failures.push(outcome.reason);
        }
      }
      if (failures.length > 0) throw toUnavailable(failures[0], apiKey, deadline, timeoutMs);
      return { flagged: false };
    },
  };
}

/**
 * Settles when `signal` aborts even if the SDK is still busy: its retry back-off sleep (and any
 * `retry-after` the server sends, which it obeys uncapped) does not watch the signal.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function verdictFor(param: string, result: OpenAI.Moderation | undefined): ModerationVerdict | undefined {
  if (!result?.flagged) return undefined;
  const categories = Object.entries(result.categories)
    .filter(([, on]) => on === true)
    .map(([category]) => category);
  // `flagged` is authoritative; a flagged result without a true category still rejects.
  return flaggedVerdict(param, categories.length > 0 ? categories : ["unspecified"]);
}

function isImageProblem(err: unknown): boolean {
  if (!(err instanceof APIError) || err.status !== 400) return false;
  if (err.code === "too_many_images") return false; // our bug, not the agent's image
  if (err.code && IMAGE_PROBLEM_CODES.has(err.code)) return true;
  // Codes vary between OpenAI endpoints and over time; the wording is steadier.
  return /download|fetch|decode|invalid image|unsupported image|image format/i.test(err.message);
}

function badResponse(detail: string): ModerationUnavailableError {
  return new ModerationUnavailableError(`moderation service gave an unexpected answer: ${detail}`, {
    reason: "bad_response",
  });
}

/** Maps SDK errors to ModerationUnavailableError. Upstream text is redacted; 401/403 text is dropped (it echoes the key). */
function toUnavailable(err: unknown, apiKey: string, deadline: AbortSignal, timeoutMs: number): ModerationUnavailableError {
  if (err instanceof ModerationUnavailableError) return err;
  // A timed-out request fails with the deadline's reason (our race), the SDK's abort error, or the SDK's own timeout.
  const timedOut =
    err instanceof APIConnectionTimeoutError || (deadline.aborted && (err === deadline.reason || err instanceof APIUserAbortError));
  if (timedOut) {
    return new ModerationUnavailableError(`moderation service did not answer within ${timeoutMs} ms`, { reason: "timeout" });
  }
  if (err instanceof APIConnectionError) {
    return new ModerationUnavailableError("could not connect to the moderation service", { reason: "connection" });
  }
  if (err instanceof APIError && typeof err.status === "number") {
    const status = err.status;
    const code = err.code ?? undefined;
    const tag = `${status}${code ? ` ${code}` : ""}`;
    if (status === 401 || status === 403) {
      return new ModerationUnavailableError(`moderation service rejected our credentials (${tag})`, { reason: "auth", status, code });
    }
    if (status === 429) {
      return new ModerationUnavailableError(`moderation service is rate limiting us (${tag})`, { reason: "rate_limited", status, code });
    }
    if (status >= 500) {
      return new ModerationUnavailableError(`moderation service failed (${tag})`, { reason: "server_error", status, code });
    }
    return new ModerationUnavailableError(`moderation service refused the request (${tag}): ${redact(err.message, apiKey)}`, {
      reason: "bad_request",
      status,
      code,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ModerationUnavailableError(`moderation failed: ${redact(message, apiKey)}`, { reason: "bad_response" });
}

function redact(text: string, apiKey: string): string {
  const withoutKey = apiKey ? text.split(apiKey).join("[redacted]") : text;
  return withoutKey.replace(/sk-[A-Za-z0-9_*-]{4,}/g, "sk-[redacted]");
}
