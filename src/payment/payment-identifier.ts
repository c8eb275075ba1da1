// x402's payment-identifier extension: a client-chosen idempotency key in the payment payload. A retry under
// the same key with the same request gets the same answer; the same key with a different request is a 409.
// "The same request" is the payment payload and the body, compared by a hash of their canonical JSON.
import { createHash } from "node:crypto";
import type { PaymentPayload } from "@x402/core/types";
import { extractAndValidatePaymentIdentifier } from "@x402/extensions/payment-identifier";

export type PresentedIdentifier =
  | { kind: "none" }
  | { kind: "invalid"; message: string }
  | { kind: "present"; id: string; fingerprint: string };

/** JSON with object keys sorted at every level, so equal values always serialise to equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export function presentedIdentifier(payload: PaymentPayload, body: unknown): PresentedIdentifier {
  const { id, validation } = extractAndValidatePaymentIdentifier(payload);
  if (!validation.valid) return { kind: "invalid", message: (validation.errors ?? ["invalid payment identifier"]).join("; ") };
  if (!id) return { kind: "none" };
  const fingerprint = createHash("sha256").update(canonicalJson({ payment: payload, body })).digest("hex");
  return { kind: "present", id, fingerprint };
}
