// Which networks take payments in production, from the Config: Base and/or World Chain by their pay-to
// addresses, and their testnets behind X402_ENABLE_TESTNETS. Runtime-free, for both entry points
// (src/server.ts has the same rule inline; src/worker.ts uses this).
import type { Config } from "./config";
import {
  BASE,
  BASE_SEPOLIA,
  WORLD_CHAIN,
  WORLD_CHAIN_SEPOLIA,
  type EnabledNetwork,
  type NetworkSpec,
} from "./payment/networks";

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
