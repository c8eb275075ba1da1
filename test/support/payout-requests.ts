// POST /api/v1/voter/payouts as a voter sends it: unsigned (only a balance that reached the threshold
// is paid), or signed by the payout address (any balance above zero).
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { payoutRequestMessage } from "../../src/payouts/request-signature";

export function requestPayout(baseUrl: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}/api/v1/voter/payouts`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** A payout request signed by `privateKey`'s address (EIP-191 personal_sign of payoutRequestMessage). */
export async function requestSignedPayout(
  baseUrl: string,
  privateKey: Hex,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  const account = privateKeyToAccount(privateKey);
  const address = account.address.toLowerCase();
  const message = payoutRequestMessage(address);
  const signature = await account.signMessage({ message });
  return requestPayout(baseUrl, { address, message, signature, ...extra }, headers);
}

/** A voter address whose key the test holds (lower-case, as the service stores it). */
export function voterAccount(privateKey: Hex): { address: `0x${string}`; privateKey: Hex } {
  return { address: privateKeyToAccount(privateKey).address.toLowerCase() as `0x${string}`, privateKey };
}
