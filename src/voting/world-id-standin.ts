// A local stand-in for the World ID Developer Portal's v4 verify API, speaking its request and response
// shapes, so the production verifier code (src/voting/world-id.ts) runs unchanged in local mode and tests.
// Local mode starts it in-process on a loopback port (src/voting/world-id-setup.ts); production never
// does. It can also run as its own process (src/voting/world-id-standin-cli.ts):
//   `npx tsx src/voting/world-id-standin-cli.ts --rp-id rp_x --network-key HEX [--app-id app_x] [--port N]`.
//
//   POST /api/v4/verify/{rp_id | app_id}   body: the IDKit result, unchanged
//   200 { success: true, action, nullifier, created_at, environment, results: [{ identifier, success, nullifier }], message }
//   400 { success: false, code: "all_verifications_failed", detail, results: [{ identifier, success: false, code, detail }] }
//   400 { success: false, code: "invalid_request", detail, attribute }   (malformed body)
//   404 { success: false, code: "not_found", detail }                    (unknown rp_id / app_id)
//
// What it checks, and how (see src/voting/world-id-simulator.ts for the proof format): like the real
// portal's verify, each proof against its public inputs — never an ECDSA signature (in World ID 4 the
// relying party's signature is checked when the proof is made: the simulated network refuses a request
// its registered RP did not sign, so a nonce we never issued never gets a proof):
// - the relying party is registered (its rp_id / app_id; the stand-in knows nothing of our database);
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
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkSimulatedProof } from "./world-id-simulator";

export interface StandinRelyingParty {
  rpId: string;
  appId?: string;
}

export interface WorldIdStandinOptions {
  relyingParties: StandinRelyingParty[];
  /** The simulated World ID network's key (32 bytes), shared with the simulator that makes the proofs. */
  networkKey: Uint8Array;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  environment?: "production" | "staging";
}

export type WorldIdStandinMode = "normal" | "error-500" | "error-503" | "rate-limited" | "stall";

export interface RecordedVerifyRequest {
  method: string;
  path: string;
  body: unknown;
  status: number;
}

export interface WorldIdStandin {
  /** Base URL for WORLD_ID_VERIFY_BASE_URL (no trailing slash). */
  url: string;
  port: number;
  requests: RecordedVerifyRequest[];
  setMode(mode: WorldIdStandinMode, options?: { times?: number }): void;
  close(): Promise<void>;
}

const VERIFY_PATH = /^\/api\/v4\/verify\/([^/]+)$/;
/**
 * One logged request. It keeps the body's text (one string) and parses it when `body` is first read: the
 * log outlives many garbage collections, and a parsed proof is some twenty objects to keep alive.
 */
class Recorded implements RecordedVerifyRequest {
  status = 0;
  readonly #text: string;
  #body: unknown;
  #parsed = false;

  constructor(
    readonly method: string,
    readonly path: string,
    text: string,
  ) {
    this.#text = text;
  }

  get body(): unknown {
    if (!this.#parsed) {
      this.#parsed = true;
      try {
        this.#body = JSON.parse(this.#text);
      } catch {
        this.#body = undefined;
      }
    }
    return this.#body;
  }
}

/** `requests` keeps between MAX_RECORDED and twice that many of the latest requests. */
const MAX_RECORDED = 1_000;
/** First-seen times kept per (rp, action, nullifier); the oldest are forgotten past this many. */
const MAX_NULLIFIERS = 100_000;

export async function startWorldIdStandin(options: WorldIdStandinOptions): Promise<WorldIdStandin> {
  const environment = options.environment ?? "production";
  if (options.networkKey.length !== 32) throw new Error("the stand-in needs the 32-byte simulated World ID network key");
  const networkKey = Uint8Array.from(options.networkKey);
  const requests: RecordedVerifyRequest[] = [];
  const stalled = new Set<ServerResponse>();
  // (rp, action, nullifier) → first verification time, as the portal records nullifiers.
  const seen = new Map<string, string>();
  let mode: WorldIdStandinMode = "normal";
  let remaining = Infinity;

  const takeMode = (): WorldIdStandinMode => {
    const current = mode;
    if (current !== "normal" && --remaining <= 0) mode = "normal";
    return current;
  };

  const send = (res: ServerResponse, record: RecordedVerifyRequest, status: number, body: unknown) => {
    record.status = status;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const text = raw.toString("utf8");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const record = new Recorded(req.method ?? "", path, text);
    requests.push(record);
    // Bounded, so a long local run (or a load test) does not keep every proof it ever verified: the
    // oldest half goes once the log is full. Tests look at far fewer requests than that.
    if (requests.length >= MAX_RECORDED * 2) requests.splice(0, MAX_RECORDED);

    const match = VERIFY_PATH.exec(path);
    if (req.method !== "POST" || !match) {
      return send(res, record, 404, { success: false, code: "not_found", detail: `No route for ${req.method} ${path}.` });
    }
    switch (takeMode()) {
      case "stall":
        stalled.add(res);
        res.on("close", () => stalled.delete(res));
        return;
      case "error-500":
        return send(res, record, 500, { success: false, code: "internal_error", detail: "Something went wrong." });
      case "error-503":
        return send(res, record, 503, { success: false, code: "service_unavailable", detail: "Service temporarily unavailable." });
      case "rate-limited":
        return send(res, record, 429, { success: false, code: "rate_limited", detail: "Too many requests." });
      case "normal":
        break;
    }

    const id = decodeURIComponent(match[1]!);
    const rp = options.relyingParties.find((p) => p.rpId === id || p.appId === id);
    if (!rp) return send(res, record, 404, { success: false, code: "not_found", detail: "App not found. App may be no longer active." });

    const invalid = (attribute: string, detail: string) =>
      send(res, record, 400, { success: false, code: "invalid_request", detail, attribute });
    if (typeof body !== "object" || body === null || Array.isArray(body)) return invalid("body", "The request body must be a JSON object.");
    const b = body as Record<string, unknown>;
    if (b.protocol_version !== "3.0" && b.protocol_version !== "4.0") {
      return invalid("protocol_version", 'protocol_version must be "3.0" or "4.0".');
    }
    if (typeof b.nonce !== "string" || b.nonce === "") return invalid("nonce", "nonce is required.");
    if (typeof b.action !== "string" || b.action === "") return invalid("action", "action is required.");
    if (!Array.isArray(b.responses) || b.responses.length === 0) return invalid("responses", "responses must be a non-empty array.");

    const nowSeconds = Math.floor(Date.now() / 1000);
    const results: Record<string, unknown>[] = [];
    let firstNullifier: string | undefined;
    for (const item of b.responses as unknown[]) {
      const identifier = typeof (item as { identifier?: unknown })?.identifier === "string" ? (item as { identifier: string }).identifier : "unknown";
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
      return send(res, record, 400, { success: false, code: "all_verifications_failed", detail: "All proof verifications failed.", results });
    }
    const key = `${rp.rpId}|${b.action}|${firstNullifier}`;
    let createdAt = seen.get(key);
    if (!createdAt) {
      createdAt = new Date().toISOString();
      if (seen.size >= MAX_NULLIFIERS) seen.delete(seen.keys().next().value as string);
      seen.set(key, createdAt);
    }
    return send(res, record, 200, {
      success: true,
      action: b.action,
      nullifier: firstNullifier,
      created_at: createdAt,
      environment,
      results,
      message: "Proof verified successfully",
    });
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        handle(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      } catch (error) {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ success: false, code: "internal_error", detail: `stand-in failure: ${String(error)}` }));
      }
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    requests,
    setMode(next, opts) {
      mode = next;
      remaining = opts?.times ?? Infinity;
    },
    close() {
      closing ??= (async () => {
        for (const res of stalled) res.destroy();
        stalled.clear();
        const closed = new Promise<void>((done) => server.close(() => done()));
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}
