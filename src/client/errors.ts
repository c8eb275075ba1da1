// What the client throws. Every class carries a stable `code`; QualiApiError is the service's own answer.
import type { PaymentRequired } from "@x402/core/types";
import type { PaymentPending } from "./types";

/** A failure of the client itself, before or after talking to the service (never the service's envelope). */
export class QualiClientError extends Error {
  override name = "QualiClientError";
  constructor(
    readonly code:
      | "account_required"
      | "network_not_offered"
      | "asset_not_allowed"
      | "payment_not_exact"
      | "payment_pending"
      | "spend_limit_exceeded"
      | "unexpected_response",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The service refused: its error envelope ({ error: { code, message, param?, details? } }) with the HTTP
 * status. A 402 (no envelope: the body is the x402 challenge) arrives as code `payment_required` with the
 * challenge's `error` as message and the challenge in `paymentRequired`.
 */
export class QualiApiError extends Error {
  override name = "QualiApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param?: string,
    readonly details?: Record<string, unknown>,
    readonly paymentRequired?: PaymentRequired,
  ) {
    super(message);
  }
}

/**
 * A payment the client refused before signing anything: the price is above `maxAmountAtomicPerPoll`.
 * No signature was made and no money moved.
 */
export class SpendLimitError extends QualiClientError {
  override name = "SpendLimitError";
  constructor(
    readonly limit: "maxAmountAtomicPerPoll",
    readonly limitAtomic: bigint,
    readonly amountAtomic: bigint,
    readonly network: string,
    readonly asset: string,
  ) {
    super(
      "spend_limit_exceeded",
      `This poll costs ${amountAtomic} atomic USDC units on ${network}, above the client's ${limit} of ${limitAtomic}. ` +
        `Nothing was signed and no money moved; raise ${limit} to pay it.`,
    );
  }
}

/**
 * The payment was made but the chain had not confirmed it when the client stopped waiting (HTTP 202).
 * Not charged twice: call createPoll again with the same body and `{ paymentSignature }` to get the poll.
 */
export class PaymentPendingError extends QualiClientError {
  override name = "PaymentPendingError";
  constructor(
    readonly pending: PaymentPending,
    /** The PAYMENT-SIGNATURE header that was sent: resend it (createPoll's `paymentSignature`) to finish. */
    readonly paymentSignature: string,
  ) {
    super(
      "payment_pending",
      `Poll ${pending.pollId}: the payment is being confirmed on chain. Retry createPoll with the same body and ` +
        "this error's paymentSignature to get the poll; it is never charged twice.",
    );
  }
}
