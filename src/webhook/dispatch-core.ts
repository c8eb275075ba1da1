// The webhook dispatcher's core: `dispatchDue(deps)` sends every delivery that is due, once, and records
// the outcome. A plain async function over the Store port with no runtime module of its own: the caller
// says how a URL is checked at delivery time (`target`) and how an attempt goes on the wire
// (`transport`). Node (./dispatcher.ts) checks with DNS and pins the connection, on an interval and right
// after a completing vote; the Workers entry (src/worker.ts) checks without DNS and uses `fetchTransport`,
// from scheduled() and after a completing vote (ctx.waitUntil).
//
// Claiming: a due row is taken with a guarded UPDATE (free lease, same attempts count as read), which
// also counts the attempt and sets a lease token. Two dispatchers (two processes, or an interval tick and
// a kick) can never send the same attempt concurrently; a dispatcher whose lease expired cannot write its
// result over a newer attempt's (the result write is guarded by the token). A process that dies
// mid-attempt leaves the row `delivering` with a lease that runs out: the next claim records that attempt
// as `interrupted` and sends again — with the same delivery id, so receivers de-duplicate.
//
// Outcomes per attempt:
//   2xx                                  → delivered
//   3xx                                  → failed, not retried (redirects are never followed)
//   408, 429, 5xx, timeout, network/DNS  → retried after ~1m, 5m, 15m, 1h, 3h (±10% jitter; a longer
//                                          Retry-After on 429/503 wins, capped at 6h), then failed
//   other 4xx                            → failed, not retried
//   URL or resolved address refused      → failed, not retried
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { Mode } from "../config";
import { runTemplated } from "../db/compiled";
import type { WebhookDeliveryRow } from "../db/schema";
import type { Store } from "../db/store";
import { TransportError, type Transport } from "./fetch-transport";
import { deliveryHeaders, type CallbackSecrets } from "./signing";
import { UndeliverableUrlError, type DeliverableTarget, type DeliverableTargetCheck } from "./url-policy";

/** Delay before retry n (after the n-th failed attempt), in ms. Its length + 1 is the attempt limit. */
export const RETRY_SCHEDULE_MS: readonly number[] = [60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000, 3 * 60 * 60_000];
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length + 1;
export const DEFAULT_TIMEOUT_MS = 10_000;
const JITTER = 0.1;
const MAX_RETRY_AFTER_MS = 6 * 60 * 60_000;
const SNIPPET_CHARS = 500;
const DEFAULT_BATCH = 25;

/** Stable kinds stored in webhook_attempts.error and shown in the delivery history. */
export type AttemptErrorKind =
  | "http_error" // a non-2xx answer (status says which)
  | "redirect_not_followed" // a 3xx answer
  | "timeout"
  | "network_error"
  | "dns_error"
  | "address_not_public"
  | "url_not_allowed"
  | "interrupted"; // the process died while the attempt was in flight

export interface DispatchDeps {
  store: Store;
  mode: Mode;
  /** The clock: attempt times, due times, X-Quali-Timestamp. Tests advance it instead of waiting. */
  now: () => Date;
  /** QUALI_CALLBACK_SECRET: X-Quali-Signature is sent only when it is set. */
  contractSecret: string | undefined;
  /** Per-poll callbackSecret (X-Quali-Poll-Signature); undefined → that header is not sent. */
  callbackSecrets: CallbackSecrets | undefined;
  /** How an attempt goes on the wire. */
  transport: Transport;
  /** The delivery-time URL check (and, with DNS, the addresses to connect to). */
  target: DeliverableTargetCheck;
  timeoutMs?: number;
  /** Random source in [0, 1) for jitter (tests pass a constant). */
  random?: () => number;
  /** At most this many deliveries per call (sent concurrently). */
  limit?: number;
  signal?: AbortSignal;
  log?: (message: string) => void;
}

export interface DispatchSummary {
  attempted: number;
  delivered: number;
  retrying: number;
  failed: number;
}

type Verdict =
  | { kind: "delivered"; status: number; snippet: string }
  | { kind: "retry"; status: number | null; error: AttemptErrorKind; snippet: string | null; retryAfterMs?: number }
  | { kind: "fail"; status: number | null; error: AttemptErrorKind; snippet: string | null };

/** Retry-After as a delay in ms (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** The delay before the next attempt after `attempt` failed: schedule ± jitter, or a longer Retry-After. */
export function retryDelayMs(attempt: number, random: () => number, retryAfterMs?: number): number {
  const base = RETRY_SCHEDULE_MS[Math.min(attempt, RETRY_SCHEDULE_MS.length) - 1] ?? RETRY_SCHEDULE_MS[0]!;
  const jittered = Math.round(base * (1 - JITTER + 2 * JITTER * random()));
  return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

function classify(status: number, snippet: string, retryAfter: number | undefined): Verdict {
  if (status >= 200 && status < 300) return { kind: "delivered", status, snippet };
  if (status >= 300 && status < 400) return { kind: "fail", status, error: "redirect_not_followed", snippet };
  if (status === 408 || status === 429 || status >= 500) {
    return { kind: "retry", status, error: "http_error", snippet, ...(retryAfter !== undefined && (status === 429 || status === 503) ? { retryAfterMs: retryAfter } : {}) };
  }
  return { kind: "fail", status, error: "http_error", snippet };
}

/** Printable, bounded, for operators: never the request (no secrets in it), only what the receiver said. */
function cleanSnippet(text: string | null): string | null {
  if (text === null) return null;
  // eslint-disable-next-line no-control-regex
  const cleaned = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "").slice(0, SNIPPET_CHARS);
  return cleaned === "" ? null : cleaned;
}

async function dueRows(store: Store, nowIso: string, limit: number): Promise<WebhookDeliveryRow[]> {
  // Compiled once (src/db/compiled.ts): the Node server runs it after every vote's kick.
  return runTemplated<WebhookDeliveryRow>(
    store.db,
    "webhookDueRows",
    ["now", "limit"],
    (db, p) =>
      db
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("state", "in", ["pending", "delivering"])
        .where("next_attempt_at", "<=", p.now!)
        .where((w) => w.or([w("lease_until", "is", null), w("lease_until", "<", p.now!)]))
        .orderBy("next_attempt_at")
        .limit(sql<number>`${p.limit!}`),
    [nowIso, limit],
  );
}

interface Lease {
  token: string;
  attempt: number;
  startedAt: string;
}

/** Takes the row's lease (and counts the attempt) iff nobody else holds it and nothing moved since we read it. */
async function claim(store: Store, row: WebhookDeliveryRow, now: Date, leaseMs: number): Promise<Lease | undefined> {
  const { db } = store;
  const nowIso = now.toISOString();
  const token = randomUUID();
  const attempt = row.attempts + 1;
  const claimable = { id: row.id, attempts: row.attempts, nowIso };
  // An attempt that was in flight when its process died: record it before starting the next one.
  const interrupted = db
    .insertInto("webhook_attempts")
    .columns(["delivery_id", "attempt", "started_at", "duration_ms", "status", "error", "response_snippet"])
    .expression((eb) =>
      eb
        .selectFrom("webhook_deliveries")
        .select([
          "id as delivery_id",
          "attempts as attempt",
          sql<string>`coalesce(last_attempt_at, created_at)`.as("started_at"),
          sql<null>`NULL`.as("duration_ms"),
          sql<null>`NULL`.as("status"),
          eb.val("interrupted").as("error"),
          sql<null>`NULL`.as("response_snippet"),
        ])
        .where("id", "=", claimable.id)
        .where("state", "=", "delivering")
        .where("attempts", "=", claimable.attempts)
        .where("attempts", ">", 0)
        .where("lease_until", "<", claimable.nowIso),
    )
    .onConflict((oc) => oc.columns(["delivery_id", "attempt"]).doNothing());
  if (attempt > MAX_ATTEMPTS) {
    // The last allowed attempt was the interrupted one: give up rather than exceed the limit.
    const giveUp = db
      .updateTable("webhook_deliveries")
      .set({ state: "failed", next_attempt_at: null, lease_until: null, lease_token: null, last_error: "interrupted" })
      .where("id", "=", claimable.id)
      .where("state", "=", "delivering")
      .where("attempts", "=", claimable.attempts)
      .where("lease_until", "<", nowIso);
    await store.batch([interrupted, giveUp]);
    return undefined;
  }
  const take = db
    .updateTable("webhook_deliveries")
    .set({
      state: "delivering",
      attempts: attempt,
      last_attempt_at: nowIso,
      lease_until: new Date(now.getTime() + leaseMs).toISOString(),
      lease_token: token,
    })
    .where("id", "=", claimable.id)
    .where("state", "in", ["pending", "delivering"])
    .where("attempts", "=", claimable.attempts)
    .where("next_attempt_at", "<=", nowIso)
    .where((w) => w.or([w("lease_until", "is", null), w("lease_until", "<", nowIso)]));
  const results = await store.batch([interrupted, take]);
  if ((results[1]?.changes ?? 0) !== 1) return undefined;
  return { token, attempt, startedAt: nowIso };
}

async function record(store: Store, row: WebhookDeliveryRow, lease: Lease, verdict: Verdict, durationMs: number, now: Date, random: () => number): Promise<Verdict["kind"] | "lease_lost"> {
  const { db } = store;
  const nowIso = now.toISOString();
  const status = verdict.status;
  const error = verdict.kind === "delivered" ? null : verdict.error;
  let outcome: Verdict["kind"] = verdict.kind;
  if (verdict.kind === "retry" && lease.attempt >= MAX_ATTEMPTS) outcome = "fail";
  const nextAttemptAt =
    outcome === "retry" && verdict.kind === "retry"
      ? new Date(now.getTime() + retryDelayMs(lease.attempt, random, verdict.retryAfterMs)).toISOString()
      : null;
  const insertAttempt = db
    .insertInto("webhook_attempts")
    .columns(["delivery_id", "attempt", "started_at", "duration_ms", "status", "error", "response_snippet"])
    .expression((eb) =>
      eb
        .selectFrom("webhook_deliveries")
        .select([
          "id as delivery_id",
          eb.val(lease.attempt).as("attempt"),
          eb.val(lease.startedAt).as("started_at"),
          eb.val(Math.round(durationMs)).as("duration_ms"),
          eb.val(status).as("status"),
          eb.val(error).as("error"),
          eb.val(cleanSnippet(verdict.snippet)).as("response_snippet"),
        ])
        .where("id", "=", row.id)
        .where("lease_token", "=", lease.token),
    )
    .onConflict((oc) => oc.columns(["delivery_id", "attempt"]).doNothing());
  const update = db
    .updateTable("webhook_deliveries")
    .set({
      state: outcome === "delivered" ? "delivered" : outcome === "retry" ? "pending" : "failed",
      next_attempt_at: nextAttemptAt,
      lease_until: null,
      lease_token: null,
      last_status: status,
      last_error: error,
      ...(outcome === "delivered" ? { delivered_at: nowIso } : {}),
    })
    .where("id", "=", row.id)
    .where("lease_token", "=", lease.token);
  const results = await store.batch([insertAttempt, update]);
  return (results[1]?.changes ?? 0) === 1 ? outcome : "lease_lost";
}

async function attempt(deps: DispatchDeps, row: WebhookDeliveryRow, lease: Lease): Promise<Verdict> {
  const at = new Date(lease.startedAt);
  let target: DeliverableTarget;
  try {
    target = await deps.target(row.url, deps.mode);
  } catch (error) {
    if (error instanceof UndeliverableUrlError) {
      return error.retryable
        ? { kind: "retry", status: null, error: error.kind, snippet: null }
        : { kind: "fail", status: null, error: error.kind, snippet: null };
    }
    throw error;
  }
  const headers = deliveryHeaders({
    deliveryId: row.id,
    event: row.event,
    rawBody: row.body,
    at,
    attempt: lease.attempt,
    contractSecret: deps.contractSecret,
    callbackSecret: deps.callbackSecrets?.secretFor(row.poll_id),
  });
  try {
    const response = await deps.transport({
      url: target.url,
      addresses: target.addresses,
      headers,
      body: row.body,
      timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    return classify(response.status, response.snippet, parseRetryAfter(response.retryAfter, deps.now()));
  } catch (error) {
    if (error instanceof TransportError) {
      if (error.kind === "aborted") throw error;
      return { kind: "retry", status: null, error: error.kind, snippet: null };
    }
    return { kind: "retry", status: null, error: "network_error", snippet: null };
  }
}

/**
 * Sends every delivery that is due now (up to `limit`, concurrently) and records each attempt.
 * Safe to run concurrently with itself, in one process or several.
 */
export async function dispatchDue(deps: DispatchDeps): Promise<DispatchSummary> {
  const summary: DispatchSummary = { attempted: 0, delivered: 0, retrying: 0, failed: 0 };
  const now = deps.now();
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const leaseMs = timeoutMs + 60_000;
  const random = deps.random ?? Math.random;
  const rows = await dueRows(deps.store, now.toISOString(), deps.limit ?? DEFAULT_BATCH);
  await Promise.all(
    rows.map(async (row) => {
      if (deps.signal?.aborted) return;
      const lease = await claim(deps.store, row, deps.now(), leaseMs);
      if (!lease) return;
      summary.attempted += 1;
      const started = performance.now();
      let verdict: Verdict;
      try {
        verdict = await attempt(deps, row, lease);
      } catch (error) {
        // Shutting down mid-attempt: leave the lease to run out; the next process records and retries it.
        if (error instanceof TransportError && error.kind === "aborted") return;
        throw error;
      }
      const outcome = await record(deps.store, row, lease, verdict, performance.now() - started, deps.now(), random);
      if (outcome === "delivered") summary.delivered += 1;
      else if (outcome === "retry") summary.retrying += 1;
      else if (outcome === "fail") summary.failed += 1;
      deps.log?.(
        `webhook: ${row.event} delivery ${row.id} (poll ${row.poll_id}) attempt ${lease.attempt}: ` +
          `${verdict.status ?? (verdict.kind === "delivered" ? "" : verdict.error)} → ${outcome}`,
      );
    }),
  );
  return summary;
}
