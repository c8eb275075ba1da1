// Waiting for a poll: the events stream (GET /api/v1/polls/{id}/events) while it works, resumed with
// Last-Event-ID after a drop; polling GET /results when the service has no stream (404/405) or the stream
// keeps failing. A timeout is an outcome, not an error; an abort rejects with the signal's reason.
import { QualiApiError } from "./errors";
import { readEventStream } from "./event-stream";
import type { LocalAccount } from "viem";
import { apiError, authHeaders, requestJson, sleep, withWalletSignIn, type ReadAuth, type Transport } from "./http";
import type { Results } from "./types";

export type WaitOutcome = "completed" | "expired" | "closed" | "removed" | "target_reached" | "timeout";

export interface WaitResult {
  outcome: WaitOutcome;
  /** The poll's status when the wait ended (`active` for target_reached and timeout, unless it just ended). */
  status: string;
  voteCount: number;
  maxResponses: number;
}

export interface WaitProgress {
  status: string;
  voteCount: number;
  maxResponses: number;
}

export interface WaitOptions {
  timeoutMs: number;
  /** Return `target_reached` once this many votes are in (the poll may still be active). */
  untilVotes?: number;
  /** Called when the vote count grows or the status changes; the count it reports never decreases. */
  onProgress?: (progress: WaitProgress) => void;
  signal?: AbortSignal;
  /** Between two GET /results when polling (default 3000 ms). */
  pollIntervalMs?: number;
}

/** Consecutive stream failures (no event received) before the wait polls instead. */
const STREAM_ATTEMPTS = 3;
const FINAL_OUTCOMES = ["completed", "expired", "closed", "removed"] as const;
const isFinalOutcome = (status: string): status is (typeof FINAL_OUTCOMES)[number] => FINAL_OUTCOMES.some((final) => final === status);

function finalOutcome(status: string): WaitOutcome {
  // A final status this client does not know yet still ends the wait; `status` carries its name.
  return isFinalOutcome(status) ? status : "closed";
}

function snapshotOf(data: unknown): WaitProgress | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const { status, voteCount, maxResponses } = data as Record<string, unknown>;
  if (typeof status !== "string" || typeof voteCount !== "number" || typeof maxResponses !== "number") return undefined;
  return { status, voteCount, maxResponses };
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export async function waitForCompletion(
  transport: Transport,
  pollId: string,
  auth: ReadAuth,
  options: WaitOptions,
  signer?: LocalAccount,
): Promise<WaitResult> {
  const path = `/api/v1/polls/${encodeURIComponent(pollId)}`;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error("wait timed out")), Math.max(0, options.timeoutMs));
  const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
  const pollIntervalMs = options.pollIntervalMs ?? 3_000;
  let last: WaitProgress | undefined;

  /** Takes a snapshot in; the result when it ends the wait. */
  const see = (snapshot: WaitProgress): WaitResult | undefined => {
    const next: WaitProgress = { status: snapshot.status, voteCount: Math.max(snapshot.voteCount, last?.voteCount ?? 0), maxResponses: snapshot.maxResponses };
    const { voteCount } = next;
    if (!last || voteCount > last.voteCount || next.status !== last.status || next.maxResponses !== last.maxResponses) {
      last = next;
      options.onProgress?.(next);
    }
    if (next.status !== "active") return { outcome: finalOutcome(next.status), ...next };
    if (options.untilVotes !== undefined && voteCount >= options.untilVotes) return { outcome: "target_reached", ...next };
    return undefined;
  };

  let lastEventId = "";
  /** One connection: a result, or why it ended without one. */
  const streamOnce = async (): Promise<WaitResult | "absent" | "ended" | "failed"> => {
    let response: Response;
    try {
      const request = new Request(`${transport.baseUrl}${path}/events`, {
        headers: { accept: "text/event-stream", ...authHeaders(auth), ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
        signal,
      });
      response = await withWalletSignIn(transport.fetch, request, signer);
    } catch (error) {
      if (signal.aborted) throw error;
      return "failed";
    }
    if (response.status === 404 || response.status === 405) {
      const error = await apiError(response);
      // The poll itself is unknown: no fallback can help.
      if (error.code === "poll_not_found") throw error;
      return "absent";
    }
    if (response.status === 400 || response.status === 401 || response.status === 403) throw await apiError(response);
    const type = response.headers.get("content-type") ?? "";
    if (!response.ok || !response.body || !type.startsWith("text/event-stream")) {
      await response.body?.cancel().catch(() => undefined);
      return "failed";
    }
    let received = false;
    try {
      for await (const event of readEventStream(response.body, lastEventId)) {
        lastEventId = event.lastEventId;
        received = true;
        const snapshot = snapshotOf(parseJson(event.data));
        if (!snapshot) continue;
        // Unknown events are ignored, except that any non-progress event with a final status ends the poll.
        if (event.event !== "progress" && snapshot.status === "active") continue;
        const result = see(snapshot);
        if (result) return result;
      }
    } catch (error) {
      if (signal.aborted) throw error;
    }
    return received ? "ended" : "failed";
  };

  const pollOnce = async (): Promise<WaitResult | undefined> => {
    try {
      const results = await requestJson<Results>(transport, `${path}/results`, { headers: authHeaders(auth), signal }, signer);
      return see(results);
    } catch (error) {
      // Refusals are final; a dropped connection or a 5xx is retried at the next interval.
      if (error instanceof QualiApiError && error.status < 500 && error.status !== 429) throw error;
      if (signal.aborted) throw error;
      return undefined;
    }
  };

  try {
    let failures = 0;
    let streaming = true;
    for (;;) {
      if (streaming) {
        const outcome = await streamOnce();
        if (typeof outcome === "object") return outcome;
        if (outcome === "absent") streaming = false;
        else if (outcome === "ended") failures = 0;
        else if (++failures >= STREAM_ATTEMPTS) streaming = false;
        if (streaming) await sleep(outcome === "ended" ? 250 : 1_000 * 2 ** (failures - 1), signal);
        continue;
      }
      const result = await pollOnce();
      if (result) return result;
      await sleep(pollIntervalMs, signal);
    }
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (!timeout.signal.aborted) throw error;
    if (last) return { outcome: "timeout", ...last };
    // Nothing was heard before the deadline: one last look, so the result still says where the poll is.
    const results = await requestJson<Results>(transport, `${path}/results`, { headers: authHeaders(auth), signal: AbortSignal.timeout(5_000) }, signer);
    return { outcome: "timeout", status: results.status, voteCount: results.voteCount, maxResponses: results.maxResponses };
  } finally {
    clearTimeout(timer);
  }
}
