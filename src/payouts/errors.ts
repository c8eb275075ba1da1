// The payout rules' refusals: 400s in the project's error envelope with stable codes.
import { ApiError } from "../http/errors";

/**
 * payout_address_refused: rewards could never be paid to this address (zero address, a token
 * contract, one of our own wallets, or blacklisted by the token); below_payout_threshold: an unsigned
 * request for less than the automatic threshold (gas would cost more than the reward).
 */
export type PayoutRuleCode = "payout_address_refused" | "below_payout_threshold";

export function payoutRuleError(code: PayoutRuleCode, message: string, param: string, details?: Record<string, unknown>): ApiError {
  return new ApiError(400, code, message, param, details);
}
