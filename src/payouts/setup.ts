// Which networks pay voters, from which wallet, over which RPC — built by the entry points (Node once; Workers
// per isolate and per payout runner).
//
// Production: Base and World Chain, each with PAYOUT_PRIVATE_KEY_<NETWORK> or PAYOUT_PRIVATE_KEY and
// RPC_URL_<NETWORK>; a network without both has payouts off (logged at startup, paused in /healthz),
// and rewards keep accruing in the ledger until it is configured. Local mode pays on the devnet instead
// (src/devnet/payout-wallet.ts builds that network and hands it to startPayouts).
import type { Hex } from "viem";
import type { Config } from "../config";
import { BASE, WORLD_CHAIN, type EnabledNetwork, type NetworkSpec } from "../payment";
import { describeChainError, viemPayoutChain } from "./chain";
import { configuredOwnAddresses, payoutAddressPolicy, type PayoutAddressPolicy } from "./address-policy";
import { cachedBlacklist } from "./blacklist-cache";
import type { Store } from "../db/store";
import { createPayoutWorker, schedulePayouts, type PayoutCrashPoint, type PayoutLog, type PayoutNetwork, type PayoutWorker } from "./job";

export interface ProductionPayoutNetworkOptions {
  config: Config;
  /** Networks enabled for payment in this deployment (production testnets appear here). */
  paymentNetworks: readonly EnabledNetwork[];
  log: PayoutLog;
}

export function productionPayoutNetworks(options: ProductionPayoutNetworkOptions): PayoutNetwork[] {
  const { config, log } = options;
  const settings = config.payouts;
  const out: PayoutNetwork[] = [];
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

export interface StartPayoutsOptions {
  config: Config;
  store: Store;
  /** Where voters are paid: productionPayoutNetworks(), or the devnet's network in local mode. */
  networks: readonly PayoutNetwork[];
  now: () => Date;
  log: PayoutLog;
  /** After each confirmed payout (the devnet saves its chain state). */
  onConfirmed?: () => Promise<void>;
}

export interface Payouts {
  worker: PayoutWorker;
  /** The local-mode crash-test hook (QUALI_TEST_PAYOUT_CRASH_AT), if set. */
  crashPoint: ((point: PayoutCrashPoint) => void) | undefined;
  /** Starts the schedule: a round now (reconciling whatever a previous process left), then every interval. */
  start(): void;
  stop(): Promise<void>;
}

export function startPayouts(options: StartPayoutsOptions): Payouts {
  const { config, log } = options;
  const crashAt = config.mode === "local" ? config.payouts.testCrashAt : undefined;
  const crashPoint = crashAt
    ? (point: PayoutCrashPoint) => {
        if (point === crashAt) process.kill(process.pid, "SIGKILL");
      }
    : undefined;
  const worker = createPayoutWorker({
    store: options.store,
    networks: options.networks,
    thresholdAtomic: config.payouts.thresholdAtomic,
    minGasWei: config.payouts.minGasWei,
    now: options.now,
    log,
    ...(crashPoint ? { crashPoint } : {}),
    ...(options.onConfirmed ? { onConfirmed: options.onConfirmed } : {}),
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
 * The vote-time payout address rules (Node, and Workers with payout runners): our own addresses
 * (configured keys, the wallets the job pays from — the devnet's too — and payTo), and each paying
 * network's token blacklist through the payout chain's RPC, cached and failing open.
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
