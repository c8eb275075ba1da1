// The owner's view of a payout address's rewards (POST /api/v1/voter/rewards), signed with its key the way
// a wallet does (EIP-191 personal_sign), and the public view (GET) that anyone gets.
import type { PrivateKeyAccount } from "viem/accounts";
import { rewardsOwnerMessage } from "../../src/payouts/rewards-owner";

export interface Answer<T = Record<string, any>> {
  status: number;
  body: T;
}

/** The owner's view, signed by `signer` (default: the account itself) over a message dated `at`. */
export async function ownerRewards(
  baseUrl: string,
  account: PrivateKeyAccount,
  options: { at?: Date; signer?: PrivateKeyAccount; message?: string; address?: string } = {},
): Promise<Answer> {
  const address = options.address ?? account.address.toLowerCase();
  const message = options.message ?? rewardsOwnerMessage(address, options.at ?? new Date());
  const signature = await (options.signer ?? account).signMessage({ message });
  const response = await fetch(`${baseUrl}/api/v1/voter/rewards`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ address, message, signature }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

export async function publicRewards(baseUrl: string, address: string): Promise<Answer> {
  const response = await fetch(`${baseUrl}/api/v1/voter/rewards?${new URLSearchParams({ address })}`);
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}
