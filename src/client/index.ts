// The typed client of the quali-polls API, for agents on Node, in browsers and on Workers (Web fetch only):
// quote, pay for a poll (the official x402 client, under explicit spend controls), read it, wait for it.
// Usage and spend controls: docs/client.md.
import { decodePaymentResponseHeader } from "@x402/fetch";
import type { LocalAccount } from "viem";
import { readTokenRecoveryMessage } from "../polls/read-token-message";
import { USDC_ASSETS, type AllowedAsset } from "./assets";
import { PaymentPendingError, QualiClientError } from "./errors";
import { apiError, authHeaders, requestJson, sleep, type FetchLike, type ReadAuth, type Transport } from "./http";
import { payingFetch, type BeforePayment, type SpendPolicy } from "./payment";
import type { CreatedPoll, CreatePollInput, PaymentPending, Poll, PollPage, Quote, ReadTokenRecovery, Results, Vote, VotesPage } from "./types";
import { waitForCompletion, type WaitOptions, type WaitResult } from "./wait";

export { USDC_ASSETS, type AllowedAsset } from "./assets";
export { PaymentPendingError, QualiApiError, QualiClientError, SpendLimitError } from "./errors";
export type { FetchLike, ReadAuth } from "./http";
export type { BeforePayment, PaymentProposal } from "./payment";
export type * from "./types";
export type { WaitOptions, WaitOutcome, WaitProgress, WaitResult } from "./wait";

export interface QualiClientOptions {
  /** The service, e.g. https://polls.example.com or http://localhost:8787. */
  baseUrl: string;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** The wallet that pays (createPoll) and signs (recoverReadToken): a viem local account. */
  account?: LocalAccount;
  /** The most one poll may cost, in atomic USDC units (1 USDC = 1000000). Above it: SpendLimitError, nothing signed. */
  maxAmountAtomicPerPoll?: bigint;
  /** Called with the payment before anything is signed; throw to refuse (the error is rethrown, nothing moves). */
  beforePayment?: BeforePayment;
  /**
   * Assets the client may pay with besides USDC on Base, World Chain and their testnets (e.g. a local
   * devnet's test USDC), or "any" to pay in whatever asset the service names.
   */
  allowedAssets?: readonly AllowedAsset[] | "any";
}

export interface CreatePollOptions {
  /** CAIP-2 network to pay on (e.g. eip155:480); default: the first the service offers (Base). */
  network?: string;
  /** Runs after the client's own beforePayment; throw to refuse. */
  beforePayment?: BeforePayment;
  /**
   * Resend this PAYMENT-SIGNATURE (a PaymentPendingError's) instead of paying again: the service answers
   * with the poll once the payment is confirmed, and never charges twice.
   */
  paymentSignature?: string;
  /** How long to keep asking while the service answers 202 (payment being confirmed). Default 60 s. */
  pendingTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface PollPayment {
  /** CAIP-2. */
  network: string;
  txHash: string;
  amountAtomic: bigint;
  payer: string;
}

export interface CreatePollResult {
  /** The 201 body: id, url, readToken (keep it: it reads results and votes), payment, pricing, endpoints. */
  poll: CreatedPoll;
  payment: PollPayment;
}

export interface QualiClient {
  /** The price of a poll and the exact x402 challenge creating it would answer. */
  quote(query: { maxResponses: number; network?: string }): Promise<Quote>;
  /** Pays for and creates a poll. Throws SpendLimitError / QualiClientError before signing, QualiApiError on a refusal. */
  createPoll(body: CreatePollInput, options?: CreatePollOptions): Promise<CreatePollResult>;
  /** Public metadata of a settled poll. */
  getPoll(pollId: string, auth?: ReadAuth): Promise<Poll>;
  getResults(pollId: string, auth: ReadAuth): Promise<Results>;
  /** Every vote of the poll, page after page (following nextCursor). */
  listVotes(pollId: string, auth: ReadAuth, options?: { limit?: number; cursor?: string }): AsyncIterable<Vote>;
  /** One page of the settled polls `payer` paid for, newest first; without `payer`, the account's own (wallet sign-in). */
  listPolls(query?: { payer?: string; cursor?: string; limit?: number }): Promise<PollPage>;
  waitForCompletion(pollId: string, auth: ReadAuth, options: WaitOptions): Promise<WaitResult>;
  /** The poll's read token again, by signing a message with `account` (the wallet that paid). No money moves. */
  recoverReadToken(pollId: string): Promise<ReadTokenRecovery>;
}

const DEFAULT_PENDING_TIMEOUT_MS = 60_000;

export function createQualiClient(options: QualiClientOptions): QualiClient {
  const baseFetch: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const transport: Transport = { baseUrl: options.baseUrl.replace(/\/+$/, ""), fetch: baseFetch };
  const allowedAssets = options.allowedAssets === "any" ? "any" : [...USDC_ASSETS, ...(options.allowedAssets ?? [])];
  const pollPath = (pollId: string) => `/api/v1/polls/${encodeURIComponent(pollId)}`;
  const needAccount = (what: string): LocalAccount => {
    if (!options.account) throw new QualiClientError("account_required", `${what} needs the client's account (a viem local account).`);
    return options.account;
  };
  /** The account that answers a sign-in challenge, when `auth` asks for a wallet sign-in. */
  const signerFor = (auth: ReadAuth | undefined) => (auth && "wallet" in auth ? needAccount("A wallet sign-in") : undefined);

  return {
    quote({ maxResponses, network }) {
      const query = new URLSearchParams({ maxResponses: String(maxResponses), ...(network !== undefined ? { network } : {}) });
      return requestJson<Quote>(transport, `/api/v1/quote?${query}`);
    },

    async createPoll(body, createOptions = {}) {
      const account = needAccount("createPoll");
      const url = `${transport.baseUrl}/api/v1/polls`;
      const text = JSON.stringify(body);
      const post = (extra: Record<string, string> = {}): RequestInit => ({
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json", ...extra },
        body: text,
        ...(createOptions.signal ? { signal: createOptions.signal } : {}),
      });
      let signature = createOptions.paymentSignature;
      let response: Response;
      if (signature !== undefined) {
        response = await baseFetch(url, post({ "PAYMENT-SIGNATURE": signature }));
      } else {
        const policy: SpendPolicy = {
          maxAmountAtomicPerPoll: options.maxAmountAtomicPerPoll,
          allowedAssets,
          beforePayment: [options.beforePayment, createOptions.beforePayment].filter((check) => check !== undefined),
        };
        const paying = payingFetch(baseFetch, account, createOptions.network, policy);
        response = await paying.fetch(url, post());
        signature = paying.paymentSignature();
      }

      // 202: paid, not yet confirmed on chain. The same signature gets the poll once it is (never charged twice).
      const deadline = Date.now() + (createOptions.pendingTimeoutMs ?? DEFAULT_PENDING_TIMEOUT_MS);
      while (response.status === 202) {
        const pending = (await response.json()) as PaymentPending;
        if (signature === undefined) throw new QualiClientError("unexpected_response", "The service answered 202 to a request that carried no payment.");
        const waitMs = Math.max(1, pending.retryAfterSeconds) * 1_000;
        if (Date.now() + waitMs > deadline) throw new PaymentPendingError(pending, signature);
        await sleep(waitMs, createOptions.signal);
        response = await baseFetch(url, post({ "PAYMENT-SIGNATURE": signature }));
      }
      if (response.status !== 201) throw await apiError(response);
      const poll = (await response.json()) as CreatedPoll;
      const header = response.headers.get("PAYMENT-RESPONSE");
      let settled: { transaction?: string; payer?: string; network?: string } = {};
      try {
        if (header) settled = decodePaymentResponseHeader(header);
      } catch {
        // The body says the same (a browser may not see the header if CORS hid it).
      }
      return {
        poll,
        payment: {
          network: settled.network || poll.payment.network,
          txHash: settled.transaction || poll.payment.txHash,
          amountAtomic: BigInt(poll.payment.amountAtomic),
          payer: settled.payer || poll.payment.payer,
        },
      };
    },

    getPoll(pollId, auth) {
      return requestJson<Poll>(transport, pollPath(pollId), { headers: authHeaders(auth) }, signerFor(auth));
    },

    getResults(pollId, auth) {
      return requestJson<Results>(transport, `${pollPath(pollId)}/results`, { headers: authHeaders(auth) }, signerFor(auth));
    },

    async *listVotes(pollId, auth, listOptions = {}) {
      const signer = signerFor(auth);
      let cursor = listOptions.cursor;
      for (;;) {
        const query = new URLSearchParams({ limit: String(listOptions.limit ?? 500), ...(cursor !== undefined ? { cursor } : {}) });
        const page = await requestJson<VotesPage>(transport, `${pollPath(pollId)}/votes?${query}`, { headers: authHeaders(auth) }, signer);
        yield* page.votes;
        if (page.nextCursor === null) return;
        cursor = page.nextCursor;
      }
    },

    listPolls({ payer, cursor, limit } = {}) {
      const query = new URLSearchParams({
        ...(payer !== undefined ? { payer } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
        ...(limit !== undefined ? { limit: String(limit) } : {}),
      });
      // Without a payer: the account's own polls, by wallet sign-in.
      const signer = payer === undefined ? needAccount("listPolls without a payer") : undefined;
      return requestJson<PollPage>(transport, `/api/v1/polls?${query}`, {}, signer);
    },

    waitForCompletion(pollId, auth, waitOptions) {
      return waitForCompletion(transport, pollId, auth, waitOptions, signerFor(auth));
    },

    async recoverReadToken(pollId) {
      const account = needAccount("recoverReadToken");
      const message = readTokenRecoveryMessage(pollId, new Date());
      const signature = await account.signMessage({ message });
      return requestJson<ReadTokenRecovery>(transport, `${pollPath(pollId)}/read-token`, {
        method: "POST",
        body: JSON.stringify({ message, signature }),
      });
    },
  };
}
