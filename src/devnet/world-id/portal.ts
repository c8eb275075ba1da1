// The simulated World ID Developer Portal: its v4 verify API, answered in process. Local mode hands the
// production verifier (src/voting/world-id.ts) `portal.fetch`, so a local vote runs the same client code
// as production without a network hop; tests that want the wire itself serve it over HTTP (./standin.ts).
//
//   POST /api/v4/verify/{rp_id | app_id}   body: the IDKit result, unchanged
//   200 { success: true, action, nullifier, created_at, environment, results: [{ identifier, success, nullifier }], message }
//   400 { success: false, code: "all_verifications_failed", detail, results: [{ identifier, success: false, code, detail }] }
//   400 { success: false, code: "invalid_request", detail, attribute }   (malformed body)
//   404 { success: false, code: "not_found", detail }                    (unknown rp_id / app_id)
//
// What it checks, and how (see ./simulator.ts for the proof format): like the real portal's verify, each
// proof against its public inputs — never an ECDSA signature (in World ID 4 the relying party's signature
// is checked when the proof is made: the simulated network refuses a request its registered RP did not
// sign, so a nonce we never issued never gets a proof):
// - the relying party is registered (its rp_id / app_id; the portal knows nothing of our database);
// - each proof is sealed by the simulated World ID network (the network key it shares with the
//   simulator) for exactly these public inputs: rp_id, nonce, action, signal_hash, nullifier,
//   issuer_schema_id, expires_at_min and the merkle root — a forged proof, or one whose signal hash,
//   nullifier, nonce or action was changed, fails with `verification_error`;
// - well-formed 4.0 items (5 hex proof elements, nullifier, issuer_schema_id, expires_at_min).
// Like the real portal (World ID 4), a reused nullifier is answered 200: one vote per human is ours to
// enforce. `created_at` is when that nullifier was first seen for the action.
//
// Failure modes for tests: setMode("error-500" | "error-503" | "rate-limited" | "stall" | "normal", { times? }).
// `requests` records the latest requests (at least 1,000) in arrival order.
import type { PortalFetch } from "../../voting";
import { BoundedMap } from "../../lib/bounded-map";
import { checkSimulatedProof } from "./simulator";

export interface PortalRelyingParty {
  rpId: string;
  appId?: string;
}

export interface SimulatedPortalOptions {
  relyingParties: PortalRelyingParty[];
  /** The simulated World ID network's key (32 bytes), shared with the simulator that makes the proofs. */
  networkKey: Uint8Array;
  environment?: "production" | "staging";
}

export type PortalMode = "normal" | "error-500" | "error-503" | "rate-limited" | "stall";

export interface RecordedVerifyRequest {
  method: string;
  path: string;
  body: unknown;
  status: number;
}

export interface PortalAnswer {
  status: number;
  body: unknown;
}

/** What tests see of the portal: the requests it received, and its failure modes. */
export interface PortalControls {
  requests: RecordedVerifyRequest[];
  setMode(mode: PortalMode, options?: { times?: number }): void;
}

export interface SimulatedPortal extends PortalControls {
  /** One request as the portal answers it; "stall" when it is not to be answered at all. */
  answer(method: string, path: string, bodyText: string): PortalAnswer | "stall";
  /** The verifier's fetch, answered in process (a stalled call ends when its signal aborts). */
  fetch: PortalFetch;
}

const VERIFY_PATH = /^\/api\/v4\/verify\/([^/]+)$/;
/** `requests` keeps between MAX_RECORDED and twice that many of the latest requests. */
const MAX_RECORDED = 1_000;
/** First-seen times kept per (rp, action, nullifier); the oldest are forgotten past this many. */
const MAX_NULLIFIERS = 100_000;
const JSON_HEADERS = { "content-type": "application/json" };

export function createSimulatedPortal(options: SimulatedPortalOptions): SimulatedPortal {
  const environment = options.environment ?? "production";
  if (options.networkKey.length !== 32) throw new Error("the simulated portal needs the 32-byte simulated World ID network key");
  const networkKey = Uint8Array.from(options.networkKey);
  const requests: RecordedVerifyRequest[] = [];
  // (rp, action, nullifier) → first verification time, as the portal records nullifiers.
  const seen = new BoundedMap<string, string>(MAX_NULLIFIERS);
  let mode: PortalMode = "normal";
  let remaining = Infinity;

  const takeMode = (): PortalMode => {
    const current = mode;
    if (current !== "normal" && --remaining <= 0) mode = "normal";
    return current;
  };

  function verify(match: RegExpExecArray, body: unknown): PortalAnswer {
    const id = decodeURIComponent(match[1]!);
    const rp = options.relyingParties.find((p) => p.rpId === id || p.appId === id);
    if (!rp) return { status: 404, body: { success: false, code: "not_found", detail: "App not found. App may be no longer active." } };

    const invalid = (attribute: string, detail: string): PortalAnswer => ({ status: 400, body: { success: false, code: "invalid_request", detail, attribute } });
    if (typeof body !== "object" || body === null || Array.isArray(body)) return invalid("body", "The request body must be a JSON object.");
    const b = body as Record<string, unknown>;
    if (b.protocol_version !== "3.0" && b.protocol_version !== "4.0") return invalid("protocol_version", 'protocol_version must be "3.0" or "4.0".');
    if (typeof b.nonce !== "string" || b.nonce === "") return invalid("nonce", "nonce is required.");
    if (typeof b.action !== "string" || b.action === "") return invalid("action", "action is required.");
    if (!Array.isArray(b.responses) || b.responses.length === 0) return invalid("responses", "responses must be a non-empty array.");

    const nowSeconds = Math.floor(Date.now() / 1000);
    const results: Record<string, unknown>[] = [];
    let firstNullifier: string | undefined;
    for (const item of b.responses as unknown[]) {
      const named = (item as { identifier?: unknown } | null)?.identifier;
      const identifier = typeof named === "string" ? named : "unknown";
      if (b.protocol_version === "3.0") {
        // Only World ID 4 proofs are simulated here.
        results.push({ identifier, success: false, code: "verification_error", detail: "Legacy (3.0) proofs are not simulated by the stand-in." });
        continue;
      }
      const check = checkSimulatedProof(item, { networkKey, rpId: rp.rpId, nonce: b.nonce, action: b.action, nowSeconds });
      if (check.ok) {
        firstNullifier ??= check.nullifier;
        results.push({ identifier, success: true, nullifier: check.nullifier });
      } else {
        results.push({ identifier, success: false, code: check.code, detail: check.detail });
      }
    }
    if (!firstNullifier) {
      return { status: 400, body: { success: false, code: "all_verifications_failed", detail: "All proof verifications failed.", results } };
    }
    const createdAt = seen.getOrSet(`${rp.rpId}|${b.action}|${firstNullifier}`, () => new Date().toISOString());
    return {
      status: 200,
      body: { success: true, action: b.action, nullifier: firstNullifier, created_at: createdAt, environment, results, message: "Proof verified successfully" },
    };
  }

  function answer(method: string, path: string, bodyText: string): PortalAnswer | "stall" {
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      body = undefined;
    }
    const record: RecordedVerifyRequest = { method, path, body, status: 0 };
    requests.push(record);
    // Bounded, so a long local run (or a load test) does not keep every proof it ever verified: the
    // oldest half goes once the log is full. Tests look at far fewer requests than that.
    if (requests.length >= MAX_RECORDED * 2) requests.splice(0, MAX_RECORDED);

    const match = VERIFY_PATH.exec(path);
    let result: PortalAnswer;
    if (method !== "POST" || !match) {
      result = { status: 404, body: { success: false, code: "not_found", detail: `No route for ${method} ${path}.` } };
    } else {
      switch (takeMode()) {
        case "stall":
          return "stall";
        case "error-500":
          result = { status: 500, body: { success: false, code: "internal_error", detail: "Something went wrong." } };
          break;
        case "error-503":
          result = { status: 503, body: { success: false, code: "service_unavailable", detail: "Service temporarily unavailable." } };
          break;
        case "rate-limited":
          result = { status: 429, body: { success: false, code: "rate_limited", detail: "Too many requests." } };
          break;
        case "normal":
          result = verify(match, body);
      }
    }
    record.status = result.status;
    return result;
  }

  return {
    requests,
    setMode(next, opts) {
      mode = next;
      remaining = opts?.times ?? Infinity;
    },
    answer,
    async fetch(url, init) {
      const result = answer(init.method ?? "GET", new URL(url).pathname, typeof init.body === "string" ? init.body : "");
      if (result === "stall") return untilAborted(init.signal);
      return new Response(JSON.stringify(result.body), { status: result.status, headers: JSON_HEADERS });
    },
  };
}

/** A call the portal never answers: it fails when the caller gives up. */
function untilAborted(signal: AbortSignal | null | undefined): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
