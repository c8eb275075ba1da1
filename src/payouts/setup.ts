// Which networks pay voters, from which wallet, over which RPC — built once by the Node entry point.
//
// Local mode: the devnet, paid from dev account 500 of anvil's public mnemonic (DEV_ROLES uses 0
// facilitator, 1 payTo, 2… payers, 1000 token admin), which gets 1 ETH of gas when below it and
// 1,000 test USDC the first time it is seen (a mint is looked up in the token's logs, so a restart or a
// second server on the same chain never mints again). PAYOUT_PRIVATE_KEY replaces it (not funded).
// Production: Base and World Chain, each with PAYOUT_PRIVATE_KEY_<NETWORK> or PAYOUT_PRIVATE_KEY and
// RPC_URL_<NETWORK>; a network without both has payouts off (logged at startup, paused in /healthz),
// and rewards keep accruing in the ledger until it is configured.
import type { Hex } from "viem";
import type { Config } from "../config";
import type { Devnet } from "../devnet/devnet";
import { devAccount, ensureGas, hasBeenMintedTo, mintUsdc } from "../devnet/chain";
import { BASE, WORLD_CHAIN, type EnabledNetwork, type NetworkSpec } from "../payment/networks";
import { describeChainError, viemPayoutChain } from "./chain";
import { configuredOwnAddresses, payoutAddressPolicy, type PayoutAddressPolicy } from "./address-policy";
import { cachedBlacklist } from "./blacklist-cache";
import type { Store } from "../db/store";
import { createPayoutWorker, schedulePayouts, type PayoutCrashPoint, type PayoutLog, type PayoutNetwork, type PayoutWorker } from "./job";

/** The devnet payout wallet: a dev-mnemonic account no other role uses. */
export const DEVNET_PAYOUT_ACCOUNT_INDEX = 500;
/** Minted once to the devnet payout wallet: 1,000 USDC = two million votes. */
export const DEVNET_PAYOUT_FUNDING_ATOMIC = 1_000_000_000n;

export interface PayoutNetworkOptions {
  config: Config;
  devnet: Devnet | undefined;
  /** Networks enabled for payment in this deployment (production testnets appear here). */
  paymentNetworks: readonly EnabledNetwork[];
  log: PayoutLog;
}

export async function payoutNetworks(options: PayoutNetworkOptions): Promise<PayoutNetwork[]> {
  const { config, devnet, log } = options;
  const settings = config.payouts;
  const out: PayoutNetwork[] = [];
  if (devnet) {
    const dev = devAccount(DEVNET_PAYOUT_ACCOUNT_INDEX);
    const privateKey = (settings.privateKey ?? dev.privateKey) as Hex;
    const chain = viemPayoutChain({
      network: devnet.network,
      chainId: devnet.chainId,
      rpcUrl: devnet.rpcUrl,
      token: devnet.asset,
      privateKey,
      pollIntervalMs: 100,
    });
    if (!settings.privateKey) {
      await ensureGas(devnet.rpcUrl, dev.address);
      if (!(await hasBeenMintedTo(devnet.rpcUrl, devnet.asset, dev.address))) {
        await mintUsdc(devnet.rpcUrl, devnet.minter.privateKey, devnet.asset, dev.address, DEVNET_PAYOUT_FUNDING_ATOMIC);
        await devnet.saveState();
      }
    }
    log(`payouts: ${devnet.network} from ${chain.wallet}${settings.privateKey ? " (PAYOUT_PRIVATE_KEY)" : " (devnet payout account, funded once)"}`);
    out.push({ network: devnet.network, label: "Local devnet", chain });
    return out;
  }

  const perNetwork: [NetworkSpec, string | undefined, string, string | undefined, string][] = [
    [BASE, settings.privateKeyBase, "PAYOUT_PRIVATE_KEY_BASE", config.payment.rpcUrlBase, "RPC_URL_BASE"],
    [WORLD_CHAIN, settings.privateKeyWorldChain, "PAYOUT_PRIVATE_KEY_WORLDCHAIN", config.payment.rpcUrlWorldChain, "RPC_URL_WORLDCHAIN"],
  ];
  for (const [spec, specificKey, keyVariable, rpcUrl, rpcVariable] of perNetwork) {
    const privateKey = specificKey ?? settings.privateKey;
    const missing = [...(privateKey ? [] : [`${keyVariable} or PAYOUT_PRIVATE_KEY`]), ...(rpcUrl ? [] : [rpcVariable])];
    if (missing.length > 0) {
      const offReason = `payouts are off on ${spec.label}: set ${missing.join(" and ")}. Rewards keep accruing in the ledger.`;
      log(`payouts: ${offReason}`);
      out.push({ network: spec.network, label: spec.label, offReason });
      continue;
    }
    const chain = viemPayoutChain({
      network: spec.network,
      chainId: spec.chainId,
      rpcUrl: rpcUrl!,
      token: spec.usdc.address,
      privateKey: privateKey as Hex,
    });
    log(`payouts: ${spec.label} (${spec.network}) from ${chain.wallet}`);
    out.push({ network: spec.network, label: spec.label, chain });
  }
  // Testnets accept payments (X402_ENABLE_TESTNETS) but have no RPC variable: rewards accrue, unpaid.
  for (const { spec } of options.paymentNetworks) {
    if (out.some((n) => n.network === spec.network)) continue;
    const offReason = `payouts are not supported on ${spec.label} yet. Rewards keep accruing in the ledger.`;
    out.push({ network: spec.network, label: spec.label, offReason });
  }
  return out;
}


export interface StartPayoutsOptions extends PayoutNetworkOptions {
  store: Store;
  now: () => Date;
}

export interface Payouts {
  worker: PayoutWorker;
  /** The local-mode crash-test hook (QUALI_TEST_PAYOUT_CRASH_AT), if set. */
  crashPoint: ((point: PayoutCrashPoint) => void) | undefined;
  /** Starts the schedule: a round now (reconciling whatever a previous process left), then every interval. */
  start(): void;
  stop(): Promise<void>;
}

export async function startPayouts(options: StartPayoutsOptions): Promise<Payouts> {
  const { config, devnet, log } = options;
  const networks = await payoutNetworks(options);
  const crashAt = config.mode === "local" ? config.payouts.testCrashAt : undefined;
  const crashPoint = crashAt
    ? (point: PayoutCrashPoint) => {
        if (point === crashAt) process.kill(process.pid, "SIGKILL");
      }
    : undefined;
  const worker = createPayoutWorker({
    store: options.store,
    networks,
    thresholdAtomic: config.payouts.thresholdAtomic,
    minGasWei: config.payouts.minGasWei,
    now: options.now,
    log,
    ...(crashPoint ? { crashPoint } : {}),
    ...(devnet ? { onConfirmed: devnet.saveState } : {}),
  });
  let unschedule: (() => Promise<void>) | undefined;
  return {
    worker,
    crashPoint,
    start() {
      unschedule ??= schedulePayouts(worker, config.payouts.intervalMs, log);
    },
    async stop() {
      await (unschedule ? unschedule() : worker.stop());
    },
  };
}

export interface NodePayoutAddressPolicyOptions {
  config: Config;
  knownNetworks: readonly NetworkSpec[];
  paymentNetworks: readonly EnabledNetwork[];
  worker: PayoutWorker;
  log: PayoutLog;
}

/**
 * The vote-time payout address rules on Node: our own addresses (configured keys, the wallets the job
 * pays from — the devnet's too — and payTo), and each paying network's token blacklist through the
 * payout chain's RPC, cached and failing open.
 */
export function nodePayoutAddressPolicy(options: NodePayoutAddressPolicyOptions): PayoutAddressPolicy {
  const { config, knownNetworks, paymentNetworks, worker, log } = options;
  const chains = worker.networks.flatMap((n) => (n.chain ? [n.chain] : []));
  const refused = configuredOwnAddresses(config, knownNetworks, paymentNetworks);
  for (const chain of chains) refused.set(chain.wallet.toLowerCase(), "this service's payout wallet");
  const blacklists = new Map(
    chains.map((chain) => [
      chain.network,
      cachedBlacklist((address) => chain.isBlacklisted(address), {
        onError: (error) =>
          log(`payouts: could not read the token blacklist on ${chain.network} (${describeChainError(error)}); votes are accepted meanwhile`, {
            level: "warn",
            network: chain.network,
          }),
      }),
    ]),
  );
  return payoutAddressPolicy({ refused, blacklists });
}
