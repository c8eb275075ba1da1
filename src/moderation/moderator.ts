// The moderation port. Paid poll creation calls `moderate` after the x402 payment is verified and
// before it is settled: a flagged verdict means 400 and no settlement; ModerationUnavailableError
// means 503 and no settlement. Either way a rejected poll is never charged.

export interface ModerationInput {
  /** e.g. { param: "question", text }, { param: "options[1].text", text } */
  texts: { param: string; text: string }[];
  /** e.g. { param: "mediaUrl", url }, { param: "options[0].mediaUrl", url } */
  images: { param: string; url: string }[];
}

export type ModerationVerdict =
  | {
      flagged: false;
      /** Params this moderator did not examine (the local word list cannot look at images). */
      uncheckedParams?: string[];
      /** Human-readable remark about the check, e.g. why some params were not examined. */
      note?: string;
    }
  | {
      flagged: true;
      /** The first flagged field in input order (texts before images). */
      param: string;
      categories: string[];
      /** Human readable, e.g. 'question was flagged for: harassment, violence'. */
      message: string;
    };

export interface Moderator {
  /** "openai:omni-moderation-latest" or "local-word-list". */
  readonly name: string;
  /** One line for startup logs; stand-ins say plainly what they do not check. */
  readonly description?: string;
  /**
   * Resolves with a verdict, rejects with ModerationUnavailableError when no verdict could be had.
   * Aborting `signal` rejects with the signal's reason (the caller gave up; no verdict either).
   */
  moderate(input: ModerationInput, signal?: AbortSignal): Promise<ModerationVerdict>;
}

export type ModerationUnavailableReason =
  | "timeout"
  | "connection"
  | "auth"
  | "rate_limited"
  | "server_error"
  | "bad_request"
  | "bad_response";

/**
 * The moderation service could not give a verdict (unreachable, 5xx, timed out, bad credentials,
 * rate limited, unexpected answer). The caller answers 503 and does NOT settle the payment.
 * Messages never contain the API key.
 */
export class ModerationUnavailableError extends Error {
  override readonly name = "ModerationUnavailableError";
  readonly reason: ModerationUnavailableReason;
  /** Upstream HTTP status, when there was one. */
  readonly status: number | undefined;
  /** Upstream error code (e.g. "invalid_api_key", "rate_limit_exceeded"), when there was one. */
  readonly code: string | undefined;

  constructor(
    message: string,
    details: { reason: ModerationUnavailableReason; status?: number | undefined; code?: string | undefined },
  ) {
    super(message);
    this.reason = details.reason;
    this.status = details.status;
    this.code = details.code;
  }
}

/** The one wording for flagged verdicts, shared by all moderators. */
export function flaggedVerdict(param: string, categories: string[]): ModerationVerdict {
  return { flagged: true, param, categories, message: `${param} was flagged for: ${categories.join(", ")}` };
}
