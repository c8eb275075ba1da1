// Requests to the service and the errors its answers become.
import { x402Client } from "@x402/core/client";
import type { PaymentRequired } from "@x402/core/types";
import { createSIWxPayload, encodeSIWxHeader, SIGN_IN_WITH_X, type SIWxExtension } from "@x402/extensions/sign-in-with-x";
import { x402HTTPClient } from "@x402/fetch";
import type { LocalAccount } from "viem";
import { QualiApiError } from "./errors";

/** What the client needs of fetch (the global one, or any with its signature). */
export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export interface Transport {
  /** Without a trailing slash. */
  baseUrl: string;
  fetch: FetchLike;
}

/**
 * How a read endpoint is authorised: the read token the 201 carried (or recoverReadToken gave back), or a
 * wallet sign-in (x402 sign-in-with-x) by the client's account, the wallet that paid for the poll.
 */
export type ReadAuth = { readToken: string } | { wallet: true };

/** The read token's header; a wallet sign-in is answered per request (withWalletSignIn). */
export function authHeaders(auth: ReadAuth | undefined): Record<string, string> {
  return auth && "readToken" in auth ? { "x-read-token": auth.readToken } : {};
}

/**
 * Sends `request`; when `signer` is set and the service answers 401 (or 400) with a sign-in challenge
 * (error.details.extensions["sign-in-with-x"]), signs it (EIP-191, an EVM chain the service declares) and
 * sends the request again with SIGN-IN-WITH-X. Each message is used once, so every request signs anew.
 */
export async function withWalletSignIn(fetcher: FetchLike, request: Request, signer: LocalAccount | undefined): Promise<Response> {
  if (!signer) return fetcher(request);
  const retry = request.clone();
  const response = await fetcher(request);
  // 401 on the read endpoints; 400 on the poll list asked without a payer.
  if (response.status !== 401 && response.status !== 400) return response;
  const body: unknown = await response
    .clone()
    .json()
    .catch(() => undefined);
  const challenge = signInChallengeOf(body);
  const chain = challenge?.supportedChains.find((supported) => supported.type === "eip191" && supported.chainId.startsWith("eip155:"));
  if (!challenge || !chain) return response;
  const payload = await createSIWxPayload({ ...challenge.info, chainId: chain.chainId, type: "eip191" }, signer, request.url);
  retry.headers.set("SIGN-IN-WITH-X", encodeSIWxHeader(payload));
  await response.body?.cancel().catch(() => undefined);
  return fetcher(retry);
}

function signInChallengeOf(body: unknown): SIWxExtension | undefined {
  if (!isEnvelope(body)) return undefined;
  const extensions = body.error.details?.extensions;
  if (typeof extensions !== "object" || extensions === null || !(SIGN_IN_WITH_X in extensions)) return undefined;
  const challenge: unknown = Reflect.get(extensions, SIGN_IN_WITH_X);
  if (typeof challenge !== "object" || challenge === null || !("info" in challenge) || !("supportedChains" in challenge)) return undefined;
  const { info, supportedChains } = challenge;
  if (typeof info !== "object" || info === null || !Array.isArray(supportedChains)) return undefined;
  const fields = info as Record<string, unknown>;
  if (typeof fields.domain !== "string" || typeof fields.uri !== "string" || typeof fields.nonce !== "string" || typeof fields.issuedAt !== "string") return undefined;
  return challenge as SIWxExtension;
}

const challengeReader = new x402HTTPClient(new x402Client());

/** The x402 challenge of a 402 (PAYMENT-REQUIRED header, else a JSON body with x402Version), if readable. */
export function challengeOf(response: Response, body: unknown): PaymentRequired | undefined {
  try {
    return challengeReader.getPaymentRequiredResponse((name) => response.headers.get(name), body);
  } catch {
    // Not in the header: the body is the challenge too (the API sends both).
  }
  if (isChallenge(body)) return body;
  return undefined;
}

function isChallenge(body: unknown): body is PaymentRequired {
  return typeof body === "object" && body !== null && "x402Version" in body && body.x402Version === 2 && "accepts" in body && Array.isArray(body.accepts);
}

function isEnvelope(body: unknown): body is { error: { code: string; message: string; param?: string; details?: Record<string, unknown> } } {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error = body.error;
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" && "message" in error && typeof error.message === "string";
}

/** The error a non-2xx answer stands for; reads (and so consumes) the body. */
export async function apiError(response: Response): Promise<QualiApiError> {
  const text = await response.text().catch(() => "");
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isEnvelope(body)) {
    const { code, message, param, details } = body.error;
    return new QualiApiError(response.status, code, message, param, details);
  }
  if (response.status === 402) {
    const challenge = challengeOf(response, body);
    return new QualiApiError(402, "payment_required", challenge?.error ?? "Payment required.", undefined, undefined, challenge);
  }
  return new QualiApiError(response.status, "unexpected_response", `HTTP ${response.status}: ${text.slice(0, 200) || response.statusText}`);
}

/**
 * GET/POST a JSON endpoint: the parsed body of a 2xx answer, else the answer's QualiApiError. With
 * `signer`, a 401 carrying a sign-in challenge is answered by a wallet sign-in.
 */
export async function requestJson<T>(transport: Transport, path: string, init: RequestInit = {}, signer?: LocalAccount): Promise<T> {
  const headers = new Headers(init.headers);
  if (!headers.has("accept")) headers.set("accept", "application/json");
  if (init.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  const response = await withWalletSignIn(transport.fetch, new Request(`${transport.baseUrl}${path}`, { ...init, headers }), signer);
  if (!response.ok) throw await apiError(response);
  return (await response.json()) as T;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
