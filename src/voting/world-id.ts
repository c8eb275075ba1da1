// World ID 4 for voting: the per-poll action, the signal that binds a proof to one option and one payout
// address, the relying party's signed proof request, and backend verification through the Developer
// Portal's v4 verify API (`POST {base}/api/v4/verify/{rp_id}` with the IDKit result forwarded unchanged).
//
// The same verifier talks to the real portal (production) and to the simulated one of local mode
// (src/devnet/world-id/); only the fetch it is given differs. It is fetch-based, so it runs unchanged on
// Cloudflare Workers.
import { hashSignal } from "@worldcoin/idkit-core/hashing";
import { signRequest } from "@worldcoin/idkit-core/signing";
import { createCallBudget } from "./world-id-budget";

export { hashSignal };

export const DEFAULT_WORLD_ID_VERIFY_BASE_URL = "https://developer.world.org";
/**
 * The credential a vote asks for: the page requests `CredentialRequest("proof_of_human", { signal })`, and
 * a proof of any other credential (passport, selfie…) is refused. World ID's issuer schema id of it is 1.
 */
export const REQUESTED_CREDENTIAL = { identifier: "proof_of_human", issuerSchemaId: 1 } as const;
/** How long the relying party's signature on a proof request is valid (IDKit rp_context.expires_at). */
export const RP_REQUEST_TTL_SECONDS = 600;

/** The per-poll World ID action: one human has one nullifier per action, so one vote per poll. */
export function pollAction(pollId: string): string {
  return `quali-poll-${pollId}`;
}

/** The signal a vote's proof must commit to: the option chosen and where the reward goes. */
export function voteSignal(pollId: string, optionId: string, payoutAddress: string): string {
  return `quali-vote:v1:${pollId}:${optionId}:${payoutAddress.toLowerCase()}`;
}

/**
 * A field element written as hex ("0x0abc", "abc", "0x0000…0abc") in one canonical form:
 * 0x + 64 lower-case hex digits. Undefined when it is not hex or wider than 256 bits. Nullifiers are
 * stored in this form so that two spellings of one nullifier can never pass the UNIQUE constraint.
 */
export function canonicalFieldHex(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const digits = value.startsWith("0x") || value.startsWith("0X") ? value.slice(2) : value;
  if (!/^[0-9a-fA-F]{1,64}$/.test(digits)) return undefined;
  return `0x${digits.toLowerCase().padStart(64, "0")}`;
}

export interface RpRequest {
  nonce: string;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds. */
  expiresAt: number;
  signature: string;
}

export type PortalVerdict =
  | { outcome: "verified"; nullifier: string }
  | { outcome: "rejected"; status: number; code: string; detail: string; results?: unknown }
  /** Nothing was judged: the portal was not reached (or not called: `retryAfterSeconds` when over the budget). */
  | { outcome: "unavailable"; reason: string; retryAfterSeconds?: number };

/** IDKit's rp_context: the relying party's signed proof request, as the page hands it to World App. */
export interface RpContextWire {
  rp_id: string;
  nonce: string;
  /** Unix seconds. */
  created_at: number;
  /** Unix seconds. */
  expires_at: number;
  signature: string;
}

/** One response of an IDKit v4 uniqueness result. */
export type IdkitResponseItemV4 = {
  identifier: string;
  signal_hash: string;
  proof: string[];
  nullifier: string;
  issuer_schema_id: number;
  expires_at_min: number;
};

/** IDKit's `IDKitResultV4` (protocol 4.0 uniqueness proof), as World App hands it to the page. */
export type IdkitResultV4 = {
  protocol_version: "4.0";
  nonce: string;
  action: string;
  environment: string;
  responses: IdkitResponseItemV4[];
};

/** Why World App (the simulated one of local mode) refused to make a proof: IDKit's request-flow error codes. */
export type ProofRefusalCode = "malformed_request" | "rp_signature_expired" | "invalid_rp_signature" | "unknown_rp";

export type SimulatedProofOutcome = { made: true; result: IdkitResultV4 } | { made: false; code: ProofRefusalCode; message: string };

/**
 * Local mode only: World App and the World ID network for simulated humans (POST
 * /api/v1/voter/simulated-proof). Provided by the devnet side; production never has one.
 */
export interface WorldIdProofSimulator {
  prove(request: { rpContext: RpContextWire; action: string; signal: string; human: string }): SimulatedProofOutcome;
}

/** How the verifier reaches the portal: the platform's fetch, or an answer made in process (local mode). */
export type PortalFetch = (url: string, init: RequestInit) => Promise<Response>;

export interface WorldIdSettings {
  appId: string;
  rpId: string;
  /** The relying party's secp256k1 signing key, hex. */
  signingKey: string;
  verifyBaseUrl: string;
  environment: "production" | "staging";
  timeoutMs: number;
  /** Local mode: proofs come from the simulated World ID, verified by the simulated portal. */
  simulated: boolean;
  /** Local mode only: makes the simulated proofs (POST /api/v1/voter/simulated-proof). */
  simulator?: WorldIdProofSimulator;
  /** The fetch to call the portal with (default: the platform's). */
  fetch?: PortalFetch;
  /** Portal calls per minute, all votes together (./world-id-budget.ts); 0 or absent: no budget. */
  portalCallsPerMinute?: number;
}

export interface WorldIdVerifier {
  readonly appId: string;
  readonly rpId: string;
  readonly environment: "production" | "staging";
  readonly simulated: boolean;
  /** Local mode only (never in production): makes simulated proofs for simulated humans. */
  readonly simulator: WorldIdProofSimulator | undefined;
  readonly verifyUrl: string;
  /** A fresh nonce signed by the relying party for `action` (IDKit's rp_context). */
  signRequest(action: string): RpRequest;
  /** Forwards the IDKit result unchanged to the portal and reads its verdict. Never throws. */
  verify(idkitResult: unknown): Promise<PortalVerdict>;
}

interface PortalBody {
  success?: unknown;
  code?: unknown;
  detail?: unknown;
  nullifier?: unknown;
  results?: unknown;
  environment?: unknown;
}

const PORTAL_HEADERS = { "content-type": "application/json", accept: "application/json", "user-agent": "quali-polls" } as const;

export function createWorldIdVerifier(settings: WorldIdSettings): WorldIdVerifier {
  const verifyUrl = `${settings.verifyBaseUrl.replace(/\/+$/, "")}/api/v4/verify/${encodeURIComponent(settings.rpId)}`;
  const portalFetch: PortalFetch = settings.fetch ?? ((url, init) => fetch(url, init));
  const budget = createCallBudget(settings.portalCallsPerMinute ?? 0);
  return {
    appId: settings.appId,
    rpId: settings.rpId,
    environment: settings.environment,
    simulated: settings.simulated,
    simulator: settings.simulator,
    verifyUrl,
    signRequest(action) {
      const signed = signRequest({ signingKeyHex: settings.signingKey, action, ttl: RP_REQUEST_TTL_SECONDS });
      return { nonce: signed.nonce, createdAt: signed.createdAt, expiresAt: signed.expiresAt, signature: signed.sig };
    },
    async verify(idkitResult) {
      const slot = budget.take();
      if (!slot.granted) {
        return { outcome: "unavailable", reason: "the portal call budget of this minute is spent", retryAfterSeconds: slot.retryAfterSeconds };
      }
      // One deadline for the call and its body.
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(new DOMException("The World ID portal did not answer in time.", "TimeoutError")), settings.timeoutMs);
      let response: Response;
      let body: PortalBody | undefined;
      try {
        try {
          response = await portalFetch(verifyUrl, { method: "POST", headers: PORTAL_HEADERS, body: JSON.stringify(idkitResult), signal: deadline.signal });
        } catch (error) {
          return { outcome: "unavailable", reason: `portal unreachable: ${error instanceof Error ? error.message : String(error)}` };
        }
        try {
          body = (await response.json()) as PortalBody;
        } catch {
          body = undefined;
        }
      } finally {
        clearTimeout(timer);
      }
      const code = typeof body?.code === "string" ? body.code : "";
      const detail = typeof body?.detail === "string" ? body.detail : "";
      if (response.status === 200 && body?.success === true) {
        // The portal names the environment the proof was verified in: never count another one's.
        if (typeof body.environment === "string" && body.environment !== settings.environment) {
          return { outcome: "rejected", status: 200, code: "environment_mismatch", detail: `the portal verified a ${body.environment} proof` };
        }
        const nullifier = canonicalFieldHex(body.nullifier) ?? firstSuccessfulNullifier(body.results);
        if (!nullifier) return { outcome: "unavailable", reason: "portal answered 200 without a nullifier" };
        return { outcome: "verified", nullifier };
      }
      if (response.status === 400 || (response.status === 200 && body?.success === false)) {
        return { outcome: "rejected", status: response.status, code: code || "verification_failed", detail, results: body?.results };
      }
      // 404 (unknown rp_id: our configuration), 401/403, 429, 5xx: nothing is wrong with the voter's proof.
      return { outcome: "unavailable", reason: `portal answered ${response.status}${code ? ` ${code}` : ""}${detail ? `: ${detail}` : ""}` };
    },
  };
}

function firstSuccessfulNullifier(results: unknown): string | undefined {
  if (!Array.isArray(results)) return undefined;
  for (const result of results as { success?: unknown; nullifier?: unknown }[]) {
    if (result?.success === true) {
      const nullifier = canonicalFieldHex(result.nullifier);
      if (nullifier) return nullifier;
    }
  }
  return undefined;
}
