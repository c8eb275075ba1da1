// x402's payment-identifier extension: a client-chosen idempotency key in the payment payload. A retry under
// the same key with the same request gets the same answer; the same key with a different request is a 409.
// "The same request" is the payment payload and the body, compared by a hash of their canonical JSON.
import { createHash } from "node:crypto";
import type { PaymentPayload } from "@x402/core/types";
import { isValidPaymentId, PAYMENT_IDENTIFIER } from "@x402/extensions/payment-identifier";

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

/**
 * The id the payload carries, checked by the extension's own rule (isValidPaymentId). Not through
 * extractAndValidatePaymentIdentifier: that compiles the JSON Schema the client echoed with Ajv on every
 * request, which runs code generated from the client's input (and cannot run on Workers at all). Our
 * declaration is the schema; what the client echoes of it is not trusted.
 */
function identifierOf(payload: PaymentPayload): { id?: string; problem?: string } {
  const extension = payload.extensions?.[PAYMENT_IDENTIFIER] as { info?: unknown } | undefined;
  if (extension === undefined) return {};
  const info = extension && typeof extension === "object" ? extension.info : undefined;
  if (!info || typeof info !== "object") return { problem: "the extension must have an info object" };
  const id = (info as { id?: unknown }).id;
  if (id === undefined) return {};
  if (typeof id !== "string" || !isValidPaymentId(id)) {
    return { problem: "info.id must be 16-128 characters of letters, digits, '-' and '_'" };
  }
  return { id };
}

export function presentedIdentifier(payload: PaymentPayload, body: unknown): PresentedIdentifier {
  const { id, problem } = identifierOf(payload);
  if (problem) return { kind: "invalid", message: problem };
  if (!id) return { kind: "none" };
  const fingerprint = createHash("sha256").update(canonicalJson({ payment: payload, body })).digest("hex");
  return { kind: "present", id, fingerprint };
}
