// Which networks take payments in production, from the Config: Base and/or World Chain by their pay-to
// addresses, and their testnets behind X402_ENABLE_TESTNETS; and the chain readers that confirm their
// payments. Runtime-free, for both entry points.
import type { Config } from "./config";
import { viemChainReader, type ChainReader, BASE, BASE_SEPOLIA, WORLD_CHAIN, WORLD_CHAIN_SEPOLIA, type EnabledNetwork, type NetworkSpec } from "./payment";

export function productionNetworks(config: Config): EnabledNetwork[] {
  const { payToBase, payToWorldChain, enableTestnets } = config.payment;
  const pairs: [NetworkSpec, string | undefined][] = [
    [BASE, payToBase],
    [WORLD_CHAIN, payToWorldChain],
    ...(enableTestnets
      ? ([
          [BASE_SEPOLIA, payToBase],
          [WORLD_CHAIN_SEPOLIA, payToWorldChain],
        ] as [NetworkSpec, string | undefined][])
      : []),
  ];
  return pairs
    .filter((pair): pair is [NetworkSpec, string] => pair[1] !== undefined)
    .map(([spec, payTo]) => ({ spec, payTo: payTo as `0x${string}` }));
}

/**
 * A chain reader for every enabled network: payments are only ever confirmed from the chain. The
 * operator's RPC_URL_* where set, otherwise the network's public endpoint.
 */
export function productionChainReaders(config: Config, networks: readonly EnabledNetwork[]): Map<string, ChainReader> {
  const readers = new Map<string, ChainReader>();
  for (const { spec } of networks) {
    const url = productionRpcUrl(config, spec);
    if (url) readers.set(spec.network, viemChainReader(url));
  }
  return readers;
}

/** Where a production network's chain is read: the operator's RPC_URL_* where set, else its public endpoint. */
export function productionRpcUrl(config: Config, spec: NetworkSpec): string | undefined {
  const configured = spec.network === BASE.network ? config.payment.rpcUrlBase : spec.network === WORLD_CHAIN.network ? config.payment.rpcUrlWorldChain : undefined;
  return configured ?? spec.publicRpcUrl;
}
