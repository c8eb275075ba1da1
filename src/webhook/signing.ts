// Webhook signatures. Two, both HMAC-SHA256, both over the raw body exactly as sent:
//
// 1. The contract's (when QUALI_CALLBACK_SECRET is set), identical on every attempt:
//      X-Quali-Signature: sha256=<hex HMAC(QUALI_CALLBACK_SECRET, deliveryId + "." + rawBody)>
// 2. Ours, additive, with the per-poll callbackSecret returned in the 201 and a timestamp, so one agent
//    cannot forge deliveries to another (the global secret is shared by every agent) and receivers can
//    reject replays of old deliveries:
//      X-Quali-Timestamp: <unix seconds of this attempt>
//      X-Quali-Poll-Signature: t=<same unix seconds>,v1=<hex HMAC(callbackSecret, t + "." + deliveryId + "." + rawBody)>
//
// The per-poll callbackSecret is never stored: like read tokens it is an HMAC of the poll id under the
// server secret (READ_TOKEN_SECRET), with its own label, so it can be produced again at every attempt.
import { createHmac, timingSafeEqual } from "node:crypto";

export const EVENT_HEADER = "X-Quali-Event";
export const DELIVERY_HEADER = "X-Quali-Delivery";
export const SIGNATURE_HEADER = "X-Quali-Signature";
export const TIMESTAMP_HEADER = "X-Quali-Timestamp";
export const POLL_SIGNATURE_HEADER = "X-Quali-Poll-Signature";
export const ATTEMPT_HEADER = "X-Quali-Attempt";

export const CALLBACK_SECRET_PREFIX = "whsec_";
const CALLBACK_SECRET_LABEL = "quali/callback-secret/v1:";

export interface CallbackSecrets {
  /** The poll's callbackSecret: `whsec_` + base64url(32 bytes). Deterministic per poll and server secret. */
  secretFor(pollId: string): string;
}

export function createCallbackSecrets(serverSecret: string): CallbackSecrets {
  if (serverSecret.length < 32) throw new Error("callback secret material must be at least 32 characters");
  return {
    secretFor(pollId) {
      const digest = createHmac("sha256", serverSecret).update(`${CALLBACK_SECRET_LABEL}${pollId}`).digest();
      return `${CALLBACK_SECRET_PREFIX}${digest.toString("base64url")}`;
    },
  };
}

const hmacHex = (key: string, message: string) => createHmac("sha256", key).update(message, "utf8").digest("hex");

/** The contract's X-Quali-Signature value: `sha256=<hex>` over `deliveryId.rawBody`. */
export function contractSignature(secret: string, deliveryId: string, rawBody: string): string {
  return `sha256=${hmacHex(secret, `${deliveryId}.${rawBody}`)}`;
}

/** The X-Quali-Poll-Signature value: `t=<unix>,v1=<hex>` over `t.deliveryId.rawBody` with the poll's secret. */
export function pollSignature(callbackSecret: string, timestamp: number, deliveryId: string, rawBody: string): string {
  return `t=${timestamp},v1=${hmacHex(callbackSecret, `${timestamp}.${deliveryId}.${rawBody}`)}`;
}

export interface SignatureInput {
  deliveryId: string;
  event: string;
  rawBody: string;
  /** The attempt's time: becomes X-Quali-Timestamp (unix seconds). */
  at: Date;
  attempt: number;
  /** QUALI_CALLBACK_SECRET, when configured. */
  contractSecret: string | undefined;
  /** The poll's callbackSecret, when the server can derive one. */
  callbackSecret: string | undefined;
}

/** Every header a delivery attempt carries (the contract's, then ours). */
export function deliveryHeaders(input: SignatureInput): Record<string, string> {
  const timestamp = Math.floor(input.at.getTime() / 1000);
  return {
    "Content-Type": "application/json",
    "User-Agent": "Quali-Webhooks/1.0",
    [EVENT_HEADER]: input.event,
    [DELIVERY_HEADER]: input.deliveryId,
    ...(input.contractSecret ? { [SIGNATURE_HEADER]: contractSignature(input.contractSecret, input.deliveryId, input.rawBody) } : {}),
    [TIMESTAMP_HEADER]: String(timestamp),
    ...(input.callbackSecret
      ? { [POLL_SIGNATURE_HEADER]: pollSignature(input.callbackSecret, timestamp, input.deliveryId, input.rawBody) }
      : {}),
    [ATTEMPT_HEADER]: String(input.attempt),
  };
}

/** Constant-time comparison of two signature strings. */
export function signaturesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
