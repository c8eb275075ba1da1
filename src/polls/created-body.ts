// The answers to a paid creation, built from what was stored, so the first request, a retry of the same
// signature and a payment-identifier replay all say the same thing about the same poll.
import type { PollRow } from "../db/schema";
import { usdcNumber, type EnabledNetwork } from "../payment";
import { POLLS_PATH } from "./paths";
import type { ReadTokens } from "./read-token";

export { PaymentPendingResponse } from "./wire";

/** The poll columns the answers show. */
export type CreatedPoll = Pick<
  PollRow,
  "id" | "network" | "payer" | "max_responses" | "cost_atomic" | "reward_pool_atomic" | "fee_atomic" | "callback_url"
>;

/** The per-poll webhook secret (the webhook feature derives it and signs deliveries with it). */
export interface CallbackSecretSource {
  secretFor(pollId: string): string;
}

export interface CreatedBodyDeps {
  publicBaseUrl: string;
  readTokens: ReadTokens;
  callbackSecrets?: CallbackSecretSource | undefined;
}

/** How long an agent should wait before asking again about a payment being confirmed. */
export const PAYMENT_PENDING_RETRY_AFTER_SECONDS = 5;

function paymentOf(poll: CreatedPoll, network: EnabledNetwork | undefined, txHash: string | null) {
  return {
    network: poll.network,
    networkLabel: network?.spec.label ?? poll.network,
    txHash,
    payer: poll.payer,
    amountUsdc: usdcNumber(BigInt(poll.cost_atomic)),
    amountAtomic: poll.cost_atomic,
  };
}

/** The contract's 201 body. */
export function createdBody(deps: CreatedBodyDeps, poll: CreatedPoll, network: EnabledNetwork | undefined, txHash: string) {
  const base = deps.publicBaseUrl;
  return {
    id: poll.id,
    url: `${base}/polls/${poll.id}`,
    readToken: deps.readTokens.tokenFor(poll.id),
    payment: paymentOf(poll, network, txHash),
    pricing: {
      maxResponses: poll.max_responses,
      rewardPoolUsdc: usdcNumber(BigInt(poll.reward_pool_atomic)),
      qualiFeeUsdc: usdcNumber(BigInt(poll.fee_atomic)),
      costUsdc: usdcNumber(BigInt(poll.cost_atomic)),
    },
    endpoints: {
      poll: `${base}${POLLS_PATH}/${poll.id}`,
      results: `${base}${POLLS_PATH}/${poll.id}/results`,
      votes: `${base}${POLLS_PATH}/${poll.id}/votes`,
    },
    // Beyond the contract (additive): the key of the poll's X-Quali-Poll-Signature webhook header.
    ...(poll.callback_url && deps.callbackSecrets ? { callbackSecret: deps.callbackSecrets.secretFor(poll.id) } : {}),
  };
}

/**
 * Beyond the contract: the 202 for a payment whose outcome the chain has not shown yet. It never carries
 * the read token; retrying the same PAYMENT-SIGNATURE returns the 201 once the transfer is mined.
 */
export function paymentPendingBody(poll: CreatedPoll, network: EnabledNetwork | undefined, txHash: string | undefined) {
  return {
    pollId: poll.id,
    status: "payment_pending" as const,
    message:
      "Your payment is being confirmed on chain. Retry this request with the same PAYMENT-SIGNATURE to get the poll " +
      "(201 with its readToken) once the transfer is mined; you will not be charged twice. If the authorization is " +
      "never used, it expires unused and nothing is charged.",
    retryAfterSeconds: PAYMENT_PENDING_RETRY_AFTER_SECONDS,
    payment: paymentOf(poll, network, txHash ?? null),
  };
}
