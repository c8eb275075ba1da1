// Paying for a poll with the official x402 client (@x402/fetch + @x402/evm's exact EVM scheme), under the
// client's own spend controls. The order matters and is the point of this module: the 402 challenge is
// read and judged (network, asset, price cap, beforePayment) BEFORE the x402 client may sign anything, and
// the x402 client is then limited to exactly the approved option (its policy, its spend controls for that
// asset capped at that amount, and a before-creation hook that aborts on anything else).
import { x402Client, x402HTTPClient } from "@x402/core/client";
import type { Network, PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { LocalAccount } from "viem";
import { isAllowedAsset, type AllowedAsset } from "./assets";
import { QualiClientError, SpendLimitError } from "./errors";
import { apiError, challengeOf, type FetchLike } from "./http";

/** What a payment would be: shown to `beforePayment` before any signature. */
export interface PaymentProposal {
  amountAtomic: bigint;
  /** CAIP-2, e.g. eip155:8453. */
  network: string;
  payTo: string;
  asset: string;
}

export type BeforePayment = (payment: PaymentProposal) => void | Promise<void>;

export interface SpendPolicy {
  maxAmountAtomicPerPoll: bigint | undefined;
  allowedAssets: readonly AllowedAsset[] | "any";
  /** Run in order; any may throw to refuse (the error is rethrown as is). */
  beforePayment: readonly BeforePayment[];
}

export interface PayingFetch {
  fetch: FetchLike;
  /** The PAYMENT-SIGNATURE header sent, once the x402 client signed one. */
  paymentSignature(): string | undefined;
}

const isNetwork = (value: string): value is Network => /^[^:\s]+:[^:\s]+$/.test(value);

const sameOption = (a: PaymentRequirements, b: PaymentRequirements) =>
  a.scheme === b.scheme &&
  a.network === b.network &&
  a.amount === b.amount &&
  a.asset.toLowerCase() === b.asset.toLowerCase() &&
  a.payTo.toLowerCase() === b.payTo.toLowerCase();

/** The option to pay: `network`'s, else the first offered (the service lists Base first); judged by `policy`. */
export async function approvePayment(challenge: PaymentRequired, network: string | undefined, policy: SpendPolicy): Promise<PaymentRequirements> {
  const offered = challenge.accepts.map((option) => option.network);
  const chosen = network === undefined ? challenge.accepts[0] : challenge.accepts.find((option) => option.network === network);
  if (!chosen) {
    throw new QualiClientError(
      "network_not_offered",
      network === undefined ? "The service offered no payment option." : `The service does not offer ${network}; it offers ${offered.join(", ")}.`,
    );
  }
  if (chosen.scheme !== "exact") {
    throw new QualiClientError("payment_not_exact", `The service asks for the "${chosen.scheme}" scheme; this client pays "exact" only.`);
  }
  if (!/^\d{1,30}$/.test(chosen.amount)) {
    throw new QualiClientError("unexpected_response", `The challenge's amount "${chosen.amount}" is not an atomic amount.`);
  }
  if (policy.allowedAssets !== "any" && !isAllowedAsset(policy.allowedAssets, chosen.network, chosen.asset)) {
    throw new QualiClientError(
      "asset_not_allowed",
      `The service asks for asset ${chosen.asset} on ${chosen.network}, which is not among the client's allowed assets ` +
        "(USDC on Base and World Chain and their testnets, plus the allowedAssets option). Nothing was signed.",
    );
  }
  const amountAtomic = BigInt(chosen.amount);
  if (policy.maxAmountAtomicPerPoll !== undefined && amountAtomic > policy.maxAmountAtomicPerPoll) {
    throw new SpendLimitError("maxAmountAtomicPerPoll", policy.maxAmountAtomicPerPoll, amountAtomic, chosen.network, chosen.asset);
  }
  const proposal: PaymentProposal = { amountAtomic, network: chosen.network, payTo: chosen.payTo, asset: chosen.asset };
  for (const check of policy.beforePayment) await check(proposal);
  return chosen;
}

/**
 * A fetch that pays one x402 challenge from `account`: the official wrapper over a fetch that judges the
 * challenge when the first 402 arrives (throwing refuses: nothing is signed). One per paid request.
 */
export function payingFetch(baseFetch: FetchLike, account: LocalAccount, network: string | undefined, policy: SpendPolicy): PayingFetch {
  const client = new x402Client();
  registerExactEvmScheme(client, { signer: account });
  const http = new x402HTTPClient(client);
  let approved: PaymentRequirements | undefined;
  let signature: string | undefined;

  // Until a challenge is approved nothing is payable; after, only the approved option.
  client.registerPolicy((_version, options) => options.filter((option) => approved !== undefined && sameOption(option, approved)));
  client.onBeforePaymentCreation(async ({ selectedRequirements }) =>
    approved !== undefined && sameOption(selectedRequirements, approved) ? undefined : { abort: true, reason: "not the payment the client approved" },
  );
  client.onAfterPaymentCreation(async ({ paymentPayload }) => {
    signature = http.encodePaymentSignatureHeader(paymentPayload)["PAYMENT-SIGNATURE"];
  });

  const judging: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    // @x402/fetch sets this response header on the paid request; as a request header it means nothing,
    // and a browser's CORS preflight refuses it where the service does not list it as allowed.
    request.headers.delete("access-control-expose-headers");
    const response = await baseFetch(request);
    if (response.status !== 402 || approved !== undefined) return response;
    const body: unknown = await response
      .clone()
      .json()
      .catch(() => undefined);
    const challenge = challengeOf(response, body);
    if (!challenge) throw await apiError(response);
    const option = await approvePayment(challenge, network, policy);
    if (!isNetwork(option.network)) throw new QualiClientError("unexpected_response", `"${option.network}" is not a CAIP-2 network.`);
    // The stock spend controls, opened for exactly this asset and capped at exactly this price (the stock
    // client otherwise skips assets outside its table, World Chain USDC among them, and caps at $1).
    client.setSpendControls({ allowedAssets: [{ network: option.network, asset: option.asset, maxAmountPerPayment: option.amount }] });
    approved = option;
    return response;
  };

  return { fetch: wrapFetchWithPayment(judging, client), paymentSignature: () => signature };
}
