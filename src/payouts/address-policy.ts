// Payout addresses that can be paid. Refused when a vote names them (world-id-request and votes), so
// no reward accrues to an address no transfer could ever reach:
//   - the zero address; a network's USDC token contract; our own payout wallets and payTo addresses
//     (static, known at start-up);
//   - an address the token's own blacklist names (FiatToken `isBlacklisted`), read through a short
//     cache that fails open: when the chain cannot answer, the vote goes through and the payout job
//     parks the payout if the token refuses it later.
import { privateKeyToAccount } from "viem/accounts";
import type { Config } from "../config";
import type { EnabledNetwork, NetworkSpec } from "../payment";
import type { BlacklistCheck } from "./blacklist-cache";
import { payoutRuleError } from "./errors";

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

export interface PayoutAddressPolicy {
  /** Why rewards on `network` cannot be paid to `address` (a phrase), or undefined. Never throws. */
  refusal(address: string, network: string): Promise<string | undefined>;
}

export interface OwnAddressSources {
  knownNetworks: readonly NetworkSpec[];
  /** Where poll payments go (EnabledNetwork.payTo). */
  payTo: Iterable<string>;
  /** The payout wallets (every network). */
  payoutWallets: Iterable<string>;
}

/** Address (lower-case) → what it is: every address that must never be a payout address. */
export function ownAddresses(sources: OwnAddressSources): Map<string, string> {
  const out = new Map<string, string>([[ZERO_ADDRESS, "the zero address"]]);
  for (const spec of sources.knownNetworks) out.set(spec.usdc.address.toLowerCase(), `the USDC token contract on ${spec.label}`);
  for (const address of sources.payTo) out.set(address.toLowerCase(), "this service's payment address");
  for (const address of sources.payoutWallets) out.set(address.toLowerCase(), "this service's payout wallet");
  return out;
}

/** The wallets the configured payout keys control, whether or not their network's payouts run. */
export function configuredPayoutWallets(settings: Config["payouts"]): string[] {
  const keys = [settings.privateKey, settings.privateKeyBase, settings.privateKeyWorldChain].filter((key): key is string => key !== undefined);
  return keys.map((key) => privateKeyToAccount(key as `0x${string}`).address);
}

/** Own addresses of a deployment from its configuration alone (no chain): what a Worker without payout runners refuses. */
export function configuredOwnAddresses(config: Config, knownNetworks: readonly NetworkSpec[], paymentNetworks: readonly EnabledNetwork[]): Map<string, string> {
  return ownAddresses({ knownNetworks, payTo: paymentNetworks.map((n) => n.payTo), payoutWallets: configuredPayoutWallets(config.payouts) });
}

export interface PayoutAddressPolicyInput {
  refused: ReadonlyMap<string, string>;
  /** Per network (CAIP-2): the token's blacklist there, where one can be read. */
  blacklists?: ReadonlyMap<string, BlacklistCheck>;
}

export function payoutAddressPolicy(input: PayoutAddressPolicyInput): PayoutAddressPolicy {
  return {
    async refusal(address, network) {
      const own = input.refused.get(address.toLowerCase());
      if (own) return own;
      const blacklisted = await input.blacklists?.get(network)?.isBlacklisted(address);
      return blacklisted === true ? "blacklisted by the USDC token on this network, so no transfer can reach it" : undefined;
    },
  };
}

/** Throws 400 payout_address_refused (param names the field) when rewards could never reach the address. */
export async function assertPayableAddress(policy: PayoutAddressPolicy | undefined, address: string, network: string, param: string): Promise<void> {
  const why = await policy?.refusal(address, network);
  if (why === undefined) return;
  throw payoutRuleError(
    "payout_address_refused",
    `${param}: rewards cannot be paid to ${address} (${why}). Use the address of a wallet you control.`,
    param,
  );
}
