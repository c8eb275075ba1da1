import { createHmac, timingSafeEqual } from "node:crypto";

const TOLERANCE_SECONDS = 5 * 60;

export type Verdict =
  | { ok: true; deliveryId: string; event: string; duplicate: boolean }
  | { ok: false; reason: string };

/**
 * Verifies a Quali webhook. `rawBody` is the request body exactly as received (read it as text; never
 * re-serialise parsed JSON). `callbackSecret` is the whsec_… value from the poll's 201;
 * `qualiCallbackSecret` is the service's QUALI_CALLBACK_SECRET, if it shared one with you.
 * `seen` holds the delivery ids already processed (use a database table in production).
 */
export function verifyQualiWebhook(
  headers: { get(name: string): string | null },
  rawBody: string,
  secrets: { callbackSecret: string; qualiCallbackSecret?: string },
  seen: Set<string>,
  nowSeconds = Math.floor(Date.now() / 1000),
): Verdict {
  const hmacHex = (key: string, message: string) => createHmac("sha256", key).update(message, "utf8").digest("hex");
  const equal = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const deliveryId = headers.get("x-quali-delivery") ?? "";
  const event = headers.get("x-quali-event") ?? "";
  if (!deliveryId || !event) return { ok: false, reason: "not a Quali webhook" };

  // 1. The per-poll signature: X-Quali-Poll-Signature: t=<unix>,v1=<hex>, over `${t}.${deliveryId}.${rawBody}`.
  const fields = new Map((headers.get("x-quali-poll-signature") ?? "").split(",").map((part) => {
    const at = part.indexOf("=");
    return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
  }));
  const t = fields.get("t") ?? "";
  const v1 = fields.get("v1") ?? "";
  if (!/^\d+$/.test(t) || !v1) return { ok: false, reason: "missing X-Quali-Poll-Signature" };
  if (!equal(v1, hmacHex(secrets.callbackSecret, `${t}.${deliveryId}.${rawBody}`))) return { ok: false, reason: "bad signature" };
  // Reject replays of old deliveries (and clocks too far ahead): 5 minutes either way.
  if (Math.abs(nowSeconds - Number(t)) > TOLERANCE_SECONDS) return { ok: false, reason: "stale timestamp" };

  // 2. The contract's signature, when the service signs with QUALI_CALLBACK_SECRET:
  //    X-Quali-Signature: sha256=<hex>, over `${deliveryId}.${rawBody}`.
  if (secrets.qualiCallbackSecret !== undefined) {
    const expected = `sha256=${hmacHex(secrets.qualiCallbackSecret, `${deliveryId}.${rawBody}`)}`;
    if (!equal(headers.get("x-quali-signature") ?? "", expected)) return { ok: false, reason: "bad X-Quali-Signature" };
  }

  // 3. At least once, not exactly once: retries reuse the delivery id. Answer 2xx to a duplicate, act once.
  const duplicate = seen.has(deliveryId);
  seen.add(deliveryId);
  return { ok: true, deliveryId, event, duplicate };
}
