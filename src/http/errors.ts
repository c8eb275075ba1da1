// One JSON error envelope for every failure except the 402, whose body is the x402 PaymentRequired
// object (as the x402 spec says): { "error": { "code", "message", "param"?, "details"? } }.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Stable machine-readable codes. Adding one is fine; renaming one breaks clients. */
export type ErrorCode =
  | "invalid_json"
  | "unsupported_media_type"
  | "validation_error"
  | "unsupported_network"
  | "content_rejected"
  | "read_token_missing"
  | "read_token_invalid"
  // Wallet sign-in (SIGN-IN-WITH-X) on the read side.
  | "sign_in_invalid"
  | "sign_in_replayed"
  | "wallet_not_payer"
  | "poll_not_found"
  | "not_found"
  | "method_not_allowed"
  | "payload_too_large"
  | "payment_already_used"
  | "payment_identifier_conflict"
  | "invalid_payment_identifier"
  | "payment_not_configured"
  | "moderation_not_configured"
  | "moderation_unavailable"
  | "read_tokens_not_configured"
  | "facilitator_unavailable"
  | "internal_error"
  | "rate_limited"
  // Voting and the read side.
  | "poll_not_active"
  | "poll_full"
  | "poll_expired"
  | "poll_closed"
  | "poll_removed"
  | "poll_already_ended"
  | "already_voted"
  | "invalid_proof"
  | "proof_rejected"
  | "nonce_unknown"
  | "nonce_used"
  | "nonce_expired"
  | "signal_mismatch"
  | "world_id_unavailable"
  | "world_id_not_configured"
  | "invalid_signature"
  | "invalid_cursor"
  // Voter payouts.
  | "payouts_not_configured"
  | "payout_address_refused"
  | "below_payout_threshold"
  // The operator's admin API (src/admin).
  | "admin_not_configured"
  | "admin_token_missing"
  | "admin_token_invalid";

export interface ErrorBody {
  error: { code: ErrorCode; message: string; param?: string; details?: Record<string, unknown> };
}

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly param?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return errorBody(this.code, this.message, this.param, this.details);
  }
}

export function errorBody(
  code: ErrorCode,
  message: string,
  param?: string,
  details?: Record<string, unknown>,
): ErrorBody {
  return {
    error: {
      code,
      message,
      ...(param !== undefined ? { param } : {}),
      ...(details !== undefined ? { details } : {}),
    },
  };
}

export function errorResponse(c: Context, error: ApiError): Response {
  return c.json(error.toBody(), error.status);
}
