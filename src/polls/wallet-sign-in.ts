// Wallet sign-in on the read side: the x402 `sign-in-with-x` extension (CAIP-122; EIP-4361 messages on EVM
// chains). The wallet that paid for a poll reads it, and lists its polls, by sending a signed message as
// `SIGN-IN-WITH-X: <base64 JSON>` instead of a read token.
//
// What is checked, cheapest first, before anything is written:
// - the header parses as the extension's payload (parseSIWxHeader);
// - `domain` is exactly the host of the configured public URL and `uri` has exactly its origin (never the
//   request's Host, which the caller chooses);
// - version "1", an `eip155:<n>` chain, type eip191, a well-formed address and nonce;
// - `issuedAt` at most SIGN_IN_MAX_AGE_MS old and at most SIGN_IN_MAX_SKEW_MS ahead of this service's clock,
//   `expirationTime` (if any) not passed, `notBefore` (if any) reached — against the service's clock, which
//   is why these are checked here and not by the extension's validateSIWxMessage (Date.now(), no skew);
// - the signature, with the extension's verifier (verifySIWxSignature): EIP-191 by an externally owned
//   account only. Smart-wallet signatures (ERC-1271, ERC-6492) would need a chain call per read; they are
//   refused as malformed (65 bytes expected) rather than half-supported.
// Then the signer must be the poll's payer (403), and the nonce is claimed in sign_in_nonces (a second use
// is a replay: 401). Only a granted request writes; every refusal leaves the database as it was.
//
// The nonce may come from the challenge this service declares (error.details.extensions["sign-in-with-x"]
// on the 401) or be the client's own fresh random value: like the extension's own server hook, the service
// enforces uniqueness and freshness, not that it issued the nonce.
import { randomBytes, timingSafeEqual } from "node:crypto";
import {
  buildSIWxSchema,
  parseSIWxHeader,
  SIGN_IN_WITH_X,
  verifySIWxSignature,
  type SIWxErrorCode,
  type SIWxExtension,
  type SIWxPayload,
} from "@x402/extensions/sign-in-with-x";
import type { Context } from "hono";
import { isAddress } from "viem";
import type { Store } from "../db/store";
import { valueOf, type Capability } from "../http/capability";
import { ApiError } from "../http/errors";
import type { PaymentServer } from "../payment";

/** The request header the extension defines (HTTP header names are case-insensitive). */
export const SIGN_IN_HEADER = "SIGN-IN-WITH-X";
/** The spec's default: `issuedAt` must be at most this old. */
export const SIGN_IN_MAX_AGE_MS = 5 * 60_000;
/** How far a client's clock may run ahead of ours (`issuedAt`, `notBefore`). */
export const SIGN_IN_MAX_SKEW_MS = 60_000;
/** Rows are pruned this long after they stop mattering, so instances whose clocks differ a little agree. */
const PRUNE_MARGIN_MS = 60_000;
/** A signed message is a few hundred bytes; anything much larger is not one. */
const MAX_HEADER_LENGTH = 8_192;
/** EIP-4361: at least 8 alphanumeric characters. */
const NONCE = /^[A-Za-z0-9]{8,128}$/;
/** r, s, v: what an externally owned account's personal_sign returns. */
const EOA_SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
const EVM_CHAIN = /^eip155:[1-9][0-9]{0,15}$/;

export const SIGN_IN_STATEMENT = "Sign in with the wallet that paid for the poll to read it.";

/** Why a sign-in was refused: the spec's failure codes, plus two for what it leaves to the server. */
export type SignInRefusalReason = SIWxErrorCode | "invalid_siwx_header" | "invalid_siwx_message";

/** What wallet sign-in needs; absent (no publicBaseUrl), the header is ignored and reads need the read token. */
export interface WalletSignInDeps {
  store: Store;
  /** The service's public URL: the only domain and origin a message may name. */
  publicBaseUrl: string;
  now: () => Date;
  /** The networks payments are accepted on: the chains the challenge declares. */
  payments?: Capability<PaymentServer> | undefined;
}

export interface SignedInWallet {
  /** Lower case. */
  address: string;
  nonce: string;
  /** issuedAt + the maximum age: after that the message is refused anyway. */
  expiresAt: Date;
}

/** The header's value, when one is presented. */
export function presentedSignIn(c: Context): string | undefined {
  const value = c.req.header(SIGN_IN_HEADER)?.trim();
  return value ? value : undefined;
}

/** The chains a challenge declares: every network payments are accepted on (all EVM: EIP-191). */
function declaredChains(deps: WalletSignInDeps): SIWxExtension["supportedChains"] {
  const networks = (deps.payments && valueOf(deps.payments)?.networks) ?? [];
  return [...new Set(networks.map((n) => n.spec.network))].map((chainId) => ({ chainId, type: "eip191" as const, signatureScheme: "eip191" as const }));
}

/**
 * The `sign-in-with-x` declaration for a resource of this service, as the spec puts it in a 402's
 * `extensions`: a fresh server nonce, issuedAt now, expirationTime at the maximum age.
 */
export function signInChallenge(deps: WalletSignInDeps, path: string): Record<typeof SIGN_IN_WITH_X, SIWxExtension> {
  const base = new URL(deps.publicBaseUrl);
  const uri = `${deps.publicBaseUrl}${path}`;
  const issuedAt = deps.now();
  return {
    [SIGN_IN_WITH_X]: {
      info: {
        domain: base.host,
        uri,
        statement: SIGN_IN_STATEMENT,
        version: "1",
        nonce: randomBytes(16).toString("hex"),
        issuedAt: issuedAt.toISOString(),
        expirationTime: new Date(issuedAt.getTime() + SIGN_IN_MAX_AGE_MS).toISOString(),
        resources: [uri],
      },
      supportedChains: declaredChains(deps),
      schema: buildSIWxSchema(),
    },
  };
}

/** The `details` of every response that invites a sign-in: the challenge under `extensions`, as in a 402. */
export function signInDetails(deps: WalletSignInDeps, path: string, reason?: SignInRefusalReason): Record<string, unknown> {
  return { ...(reason ? { reason } : {}), extensions: signInChallenge(deps, path) };
}

function refuse(deps: WalletSignInDeps, path: string, reason: SignInRefusalReason, message: string): ApiError {
  return new ApiError(401, "sign_in_invalid", message, SIGN_IN_HEADER, signInDetails(deps, path, reason));
}

const instant = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  // ISO 8601 with a zone only: Date.parse reads looser forms in the local time zone.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return Number.NaN;
  return Date.parse(value);
};

/** The message's fields against this service's origin and clock; a refusal reason, or undefined. */
function fieldRefusal(deps: WalletSignInDeps, payload: SIWxPayload): [SignInRefusalReason, string] | undefined {
  const base = new URL(deps.publicBaseUrl);
  if (payload.domain !== base.host) return ["invalid_siwx_domain_mismatch", `domain must be ${base.host}.`];
  let origin: string | undefined;
  try {
    origin = new URL(payload.uri).origin;
  } catch {
    origin = undefined;
  }
  if (origin !== base.origin) return ["invalid_siwx_uri_mismatch", `uri must be a URL of ${base.origin}.`];
  if (payload.version !== "1") return ["invalid_siwx_message", 'version must be "1".'];
  if (!EVM_CHAIN.test(payload.chainId)) return ["invalid_siwx_unsupported_chain", "chainId must be an EVM chain (eip155:<chain id>)."];
  if (payload.type !== "eip191") return ["invalid_siwx_unsupported_chain", 'type must be "eip191".'];
  if (!isAddress(payload.address, { strict: false })) return ["invalid_siwx_message", "address must be a 0x-prefixed 20-byte address."];
  if (!NONCE.test(payload.nonce)) return ["invalid_siwx_nonce", "nonce must be 8–128 letters and digits."];
  if (!EOA_SIGNATURE.test(payload.signature)) {
    return [
      "invalid_siwx_malformed_signature",
      "signature must be a 65-byte 0x-hex EIP-191 signature of an externally owned account; smart-wallet (ERC-1271/ERC-6492) signatures are not accepted.",
    ];
  }
  const now = deps.now().getTime();
  const issuedAt = instant(payload.issuedAt)!;
  if (!Number.isFinite(issuedAt)) return ["invalid_siwx_issued_at", "issuedAt must be an ISO 8601 instant."];
  if (issuedAt > now + SIGN_IN_MAX_SKEW_MS) return ["invalid_siwx_issued_at_in_future", "issuedAt is in the future."];
  if (now - issuedAt > SIGN_IN_MAX_AGE_MS) return ["invalid_siwx_issued_at_too_old", `issuedAt must be within the last ${SIGN_IN_MAX_AGE_MS / 60_000} minutes.`];
  const expiresAt = instant(payload.expirationTime);
  if (expiresAt !== undefined && !Number.isFinite(expiresAt)) return ["invalid_siwx_expiration_time", "expirationTime must be an ISO 8601 instant."];
  if (expiresAt !== undefined && expiresAt <= now) return ["invalid_siwx_expired", "The message has expired."];
  const notBefore = instant(payload.notBefore);
  if (notBefore !== undefined && !Number.isFinite(notBefore)) return ["invalid_siwx_not_before", "notBefore must be an ISO 8601 instant."];
  if (notBefore !== undefined && notBefore > now + SIGN_IN_MAX_SKEW_MS) return ["invalid_siwx_not_yet_valid", "The message is not valid yet (notBefore)."];
  return undefined;
}

/**
 * The wallet a `SIGN-IN-WITH-X` header proves, or a 401 `sign_in_invalid` (details.reason says which
 * check failed, details.extensions carries a fresh challenge). Writes nothing: see claimSignIn.
 */
export async function verifySignIn(deps: WalletSignInDeps, header: string, path: string): Promise<SignedInWallet> {
  if (header.length > MAX_HEADER_LENGTH) throw refuse(deps, path, "invalid_siwx_header", `${SIGN_IN_HEADER} is too long to be a sign-in message.`);
  let payload: SIWxPayload;
  try {
    payload = parseSIWxHeader(header);
  } catch {
    throw refuse(deps, path, "invalid_siwx_header", `${SIGN_IN_HEADER} must be the base64 JSON of a signed sign-in-with-x payload.`);
  }
  const refusal = fieldRefusal(deps, payload);
  if (refusal) throw refuse(deps, path, refusal[0], refusal[1]);
  let verified: Awaited<ReturnType<typeof verifySIWxSignature>>;
  try {
    verified = await verifySIWxSignature(payload);
  } catch {
    // The EIP-4361 formatter refuses fields it cannot put in a message (e.g. a line break in a statement).
    throw refuse(deps, path, "invalid_siwx_message", "The fields do not form a valid EIP-4361 message.");
  }
  if (!verified.isValid) throw refuse(deps, path, verified.invalidReason, "The signature does not match the message and address.");
  return {
    address: payload.address.toLowerCase(),
    nonce: payload.nonce,
    expiresAt: new Date(instant(payload.issuedAt)! + SIGN_IN_MAX_AGE_MS),
  };
}

/** Whether `wallet` is `payer` (both 0x addresses, any letter case), compared in constant time. */
export function isWallet(wallet: string, payer: string): boolean {
  const left = Buffer.from(wallet.toLowerCase());
  const right = Buffer.from(payer.toLowerCase());
  return left.length === right.length && timingSafeEqual(left, right);
}

function replayed(deps: WalletSignInDeps, path: string): ApiError {
  return new ApiError(
    401,
    "sign_in_replayed",
    "This sign-in message was already used: sign a new one (fresh nonce and issuedAt) for every request.",
    SIGN_IN_HEADER,
    signInDetails(deps, path, "invalid_siwx_nonce"),
  );
}

/** Whether the nonce was used before (a cheap read, so a replay is answered before anything else). */
export async function assertNonceUnused(deps: WalletSignInDeps, wallet: SignedInWallet, path: string): Promise<void> {
  const used = await deps.store.db.selectFrom("sign_in_nonces").select("nonce").where("nonce", "=", wallet.nonce).executeTakeFirst();
  if (used) throw replayed(deps, path);
}

/** Uses the nonce up, atomically: of two requests carrying one message, exactly one gets through. */
export async function claimSignIn(deps: WalletSignInDeps, wallet: SignedInWallet, path: string): Promise<void> {
  const [result] = await deps.store.batch([
    deps.store.db
      .insertInto("sign_in_nonces")
      .values({ nonce: wallet.nonce, used_at: deps.now().toISOString(), expires_at: wallet.expiresAt.toISOString() })
      .onConflict((oc) => oc.column("nonce").doNothing()),
  ]);
  if (!result || result.changes !== 1) throw replayed(deps, path);
}

/**
 * The wallet of a valid, unused sign-in, its nonce used up; throws 401 otherwise. For routes where any
 * signed-in wallet may proceed (its own listing); pollForReader also checks the wallet paid for the poll.
 */
export async function signedInWallet(deps: WalletSignInDeps, header: string, path: string): Promise<SignedInWallet> {
  const wallet = await verifySignIn(deps, header, path);
  await assertNonceUnused(deps, wallet, path);
  await claimSignIn(deps, wallet, path);
  return wallet;
}

/** Forgets nonces whose messages are refused as too old anyway (the lifecycle sweep calls it). */
export async function pruneSignInNonces(store: Store, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - PRUNE_MARGIN_MS).toISOString();
  const [result] = await store.batch([store.db.deleteFrom("sign_in_nonces").where("expires_at", "<", cutoff)]);
  return result?.changes ?? 0;
}

/** The deps of wallet sign-in when a route has them (the public URL is what enables it). */
export function walletSignInOf(deps: {
  store: Store;
  publicBaseUrl?: string | undefined;
  now?: (() => Date) | undefined;
  payments?: Capability<PaymentServer> | undefined;
}): WalletSignInDeps | undefined {
  if (!deps.publicBaseUrl) return undefined;
  return { store: deps.store, publicBaseUrl: deps.publicBaseUrl, now: deps.now ?? (() => new Date()), payments: deps.payments };
}
