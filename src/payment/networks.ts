// The networks this service can be paid on, with their USDC contracts and EIP-712 domains.
// `extra.name`/`extra.version` must equal the token's own name()/version() or every signature fails.
export type NetworkId = `eip155:${number}`;

export interface UsdcAsset {
  address: `0x${string}`;
  name: string;
  version: string;
  decimals: 6;
}

export interface NetworkSpec {
  key: "base" | "worldchain" | "base-sepolia" | "worldchain-sepolia" | "devnet";
  network: NetworkId;
  chainId: number;
  label: string;
  /** Accepted spellings of the /quote `network` filter (lower-case), besides the CAIP-2 id. */
  aliases: readonly string[];
  usdc: UsdcAsset;
  testnet: boolean;
  /** The network's public JSON-RPC endpoint: where payments are confirmed unless the operator names another. */
  publicRpcUrl?: string;
}

export const BASE: NetworkSpec = {
  key: "base",
  network: "eip155:8453",
  chainId: 8453,
  label: "Base",
  aliases: ["base"],
  usdc: { address: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", name: "USD Coin", version: "2", decimals: 6 },
  testnet: false,
  publicRpcUrl: "https://mainnet.base.org",
};

export const WORLD_CHAIN: NetworkSpec = {
  key: "worldchain",
  network: "eip155:480",
  chainId: 480,
  label: "World Chain",
  aliases: ["worldchain", "world-chain", "world"],
  usdc: { address: "0x79A02482A880bCE3F13e09Da970dC34db4CD24d1", name: "USDC", version: "2", decimals: 6 },
  testnet: false,
  publicRpcUrl: "https://worldchain-mainnet.g.alchemy.com/public",
};

export const BASE_SEPOLIA: NetworkSpec = {
  key: "base-sepolia",
  network: "eip155:84532",
  chainId: 84532,
  label: "Base Sepolia",
  aliases: ["base-sepolia"],
  usdc: { address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", name: "USDC", version: "2", decimals: 6 },
  testnet: true,
  publicRpcUrl: "https://sepolia.base.org",
};

export const WORLD_CHAIN_SEPOLIA: NetworkSpec = {
  key: "worldchain-sepolia",
  network: "eip155:4801",
  chainId: 4801,
  label: "World Chain Sepolia",
  aliases: ["worldchain-sepolia", "world-chain-sepolia"],
  usdc: { address: "0x66145f38cBAC35Ca6F1Dfb4914dF98F1614aeA88", name: "USDC", version: "2", decimals: 6 },
  testnet: true,
  publicRpcUrl: "https://worldchain-sepolia.g.alchemy.com/public",
};

export const PRODUCTION_NETWORKS: readonly NetworkSpec[] = [BASE, WORLD_CHAIN, BASE_SEPOLIA, WORLD_CHAIN_SEPOLIA];

/** The local devnet: whatever chain id and token address the devnet reports. */
export function devnetNetwork(chainId: number, usdc: Omit<UsdcAsset, "decimals">): NetworkSpec {
  return {
    key: "devnet",
    network: `eip155:${chainId}`,
    chainId,
    label: "Local devnet",
    aliases: ["local", "devnet"],
    usdc: { ...usdc, decimals: 6 },
    testnet: true,
  };
}

/** A network that is switched on for this deployment, with where its payments go. */
export interface EnabledNetwork {
  spec: NetworkSpec;
  payTo: `0x${string}`;
}

/** Resolves a /quote `network` filter among every known network (enabled or not). */
export function resolveNetworkAlias(filter: string, known: readonly NetworkSpec[]): NetworkSpec | undefined {
  const wanted = filter.trim().toLowerCase();
  return known.find((spec) => spec.network === wanted || spec.aliases.includes(wanted));
}
