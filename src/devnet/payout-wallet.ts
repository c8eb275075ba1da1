// The devnet's payout network: local mode pays voters from dev account 500 of anvil's public mnemonic
// (DEV_ROLES uses 0 facilitator, 1 payTo, 2… payers, 1000 token admin), which gets 1 ETH of gas when
// below it and 1,000 test USDC the first time it is seen (a mint is looked up in the token's logs, so a
// restart or a second server on the same chain never mints again). PAYOUT_PRIVATE_KEY replaces it (not
// funded).
import type { Hex } from "viem";
import { viemPayoutChain, type PayoutLog, type PayoutNetwork } from "../payouts";
import { devAccount, ensureGas, hasBeenMintedTo, mintUsdc } from "./chain";
import type { Devnet } from "./devnet";

/** The devnet payout wallet: a dev-mnemonic account no other role uses. */
export const DEVNET_PAYOUT_ACCOUNT_INDEX = 500;
/** Minted once to the devnet payout wallet: 1,000 USDC = two million votes. */
export const DEVNET_PAYOUT_FUNDING_ATOMIC = 1_000_000_000n;

export interface DevnetPayoutNetworkOptions {
  devnet: Devnet;
  /** PAYOUT_PRIVATE_KEY, when set: pays from that wallet instead, which is not funded. */
  privateKey: string | undefined;
  log: PayoutLog;
}

export async function devnetPayoutNetwork(options: DevnetPayoutNetworkOptions): Promise<PayoutNetwork> {
  const { devnet, privateKey, log } = options;
  const dev = devAccount(DEVNET_PAYOUT_ACCOUNT_INDEX);
  const chain = viemPayoutChain({
    network: devnet.network,
    chainId: devnet.chainId,
    rpcUrl: devnet.rpcUrl,
    token: devnet.asset,
    privateKey: (privateKey ?? dev.privateKey) as Hex,
    pollIntervalMs: 100,
  });
  if (!privateKey) {
    await ensureGas(devnet.rpcUrl, dev.address);
    if (!(await hasBeenMintedTo(devnet.rpcUrl, devnet.asset, dev.address))) {
      await mintUsdc(devnet.rpcUrl, devnet.minter.privateKey, devnet.asset, dev.address, DEVNET_PAYOUT_FUNDING_ATOMIC);
      await devnet.saveState();
    }
  }
  log(`payouts: ${devnet.network} from ${chain.wallet}${privateKey ? " (PAYOUT_PRIVATE_KEY)" : " (devnet payout account, funded once)"}`);
  return { network: devnet.network, label: "Local devnet", chain };
}
