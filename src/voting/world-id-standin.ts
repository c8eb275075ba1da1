// A local stand-in for the World ID Developer Portal's v4 verify API, speaking its request and response
// shapes, so the production verifier code (src/voting/world-id.ts) runs unchanged in local mode and tests.
// Local mode starts it in-process on a loopback port; production never does. It can also run as its own
// process: `tsx src/voting/world-id-standin.ts --rp-id rp_x --rp-signer 0x… [--app-id app_x] [--port N]`.
//
//   POST /api/v4/verify/{rp_id | app_id}   body: the IDKit result, unchanged
//   200 { success: true, action, nullifier, created_at, environment, results: [{ identifier, success, nullifier }], message }
//   400 { success: false, code: "all_verifications_failed", detail, results: [{ identifier, success: false, code, detail }] }
//   400 { success: false, code: "invalid_request", detail, attribute }   (malformed body)
//   404 { success: false, code: "not_found", detail }                    (unknown rp_id / app_id)
//
// What it checks, and how (see src/voting/world-id-simulator.ts for the proof format):
// - the relying party is registered (it is given the RP's id and signer ADDRESS, the way the real
//   registry knows an RP's public key — never its private key or our database);
// - each proof is bound to a nonce that RP signed for this action: a nonce we never issued has no valid
//   signature and fails with `invalid_rp_signature`;
// - the public inputs (signal_hash, nullifier, nonce, action) are those the proof was made for: a
//   mismatched signal hash fails with `verification_error`;
// - well-formed 4.0 items (5 hex proof elements, nullifier, issuer_schema_id, expires_at_min).
// Like the real portal (World ID 4), a reused nullifier is answered 200: one vote per human is ours to
// enforce. `created_at` is when that nullifier was first seen for the action.
//
// Failure modes for tests: setMode("error-500" | "error-503" | "rate-limited" | "stall" | "normal", { times? }).
// `requests` records the latest requests (at least 1,000) in arrival order.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { privateKeyToAddress } from "viem/accounts";
import { checkSimulatedProof } from "./world-id-simulator";

export interface StandinRelyingParty {
  rpId: string;
  appId?: string;
  /** The address of the RP's signing key (what the RP registry knows). */
  signerAddress: string;
}

export interface WorldIdStandinOptions {
  relyingParties: StandinRelyingParty[];
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
/** `requests` keeps between MAX_RECORDED and twice that many of the latest requests. */
const MAX_RECORDED = 1_000;
/** First-seen times kept per (rp, action, nullifier); the oldest are forgotten past this many. */
const MAX_NULLIFIERS = 100_000;

export async function startWorldIdStandin(options: WorldIdStandinOptions): Promise<WorldIdStandin> {
  const environment = options.environment ?? "production";
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

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      body = undefined;
    }
    const record: RecordedVerifyRequest = { method: req.method ?? "", path, body, status: 0 };
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
      const check = await checkSimulatedProof(item, { rpId: rp.rpId, rpSigner: rp.signerAddress, nonce: b.nonce, action: b.action, nowSeconds });
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
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ success: false, code: "internal_error", detail: `stand-in failure: ${String(error)}` }));
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "rp-id": { type: "string" },
      "app-id": { type: "string" },
      "rp-signer": { type: "string" },
      "rp-signing-key": { type: "string" },
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      environment: { type: "string", default: "production" },
    },
  });
  const rpId = values["rp-id"];
  const key = values["rp-signing-key"];
  const signer = values["rp-signer"] ?? (key ? privateKeyToAddress((key.startsWith("0x") ? key : `0x${key}`) as `0x${string}`) : undefined);
  if (!rpId || !signer) {
    console.error("usage: world-id-standin --rp-id rp_x (--rp-signer 0xADDRESS | --rp-signing-key HEX) [--app-id app_x] [--port N]");
    process.exit(2);
  }
  const standin = await startWorldIdStandin({
    relyingParties: [{ rpId, signerAddress: signer, ...(values["app-id"] ? { appId: values["app-id"] } : {}) }],
    host: values.host!,
    port: Number(values.port),
    environment: values.environment === "staging" ? "staging" : "production",
  });
  console.log(`World ID portal stand-in listening on ${standin.url}`);
  const stop = () => void standin.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
