// An agent as users will run it: the official @x402/fetch client with a viem account, its spend
// controls opened for the devnet asset (stock clients refuse unknown assets and cap at $1).
import { x402Client } from "@x402/core/client";
import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { privateKeyToAccount } from "viem/accounts";

export interface AgentOptions {
  privateKey: `0x${string}`;
  network: `${string}:${string}`;
  asset: string;
  /** Atomic cap per payment; default 5,000 USDC (a 1,000,000-response poll). */
  maxAmountPerPaymentAtomic?: string;
  /** Pay only on this network (the client otherwise takes the first accepted option). */
  onlyThisNetwork?: boolean;
}

export function agentClient(options: AgentOptions): x402Client {
  const client = new x402Client();
  registerExactEvmScheme(client, {
    signer: privateKeyToAccount(options.privateKey),
    ...(options.onlyThisNetwork ? { networks: [options.network] } : {}),
  });
  client.setSpendControls({
    allowedAssets: [
      {
        network: options.network,
        asset: options.asset,
        maxAmountPerPayment: options.maxAmountPerPaymentAtomic ?? "5000000000",
      },
    ],
  });
  return client;
}

export function payingFetch(options: AgentOptions): typeof fetch {
  return wrapFetchWithPayment(fetch, agentClient(options)) as typeof fetch;
}
