// The assets the client pays with unless told otherwise: Circle's USDC on the networks the service offers.
// Stock x402 clients know Base USDC but not World Chain's, and skip an asset they do not know; this client
// names each one instead, so an unknown asset is an explicit refusal (asset_not_allowed), never a silent skip.

export interface AllowedAsset {
  /** CAIP-2, e.g. eip155:8453. */
  network: string;
  /** The token contract. */
  asset: string;
}

export const USDC_ASSETS: readonly AllowedAsset[] = [
  { network: "eip155:8453", asset: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913" },
  { network: "eip155:480", asset: "0x79A02482A880bCE3F13e09Da970dC34db4CD24d1" },
  { network: "eip155:84532", asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e" },
  { network: "eip155:4801", asset: "0x66145f38cBAC35Ca6F1Dfb4914dF98F1614aeA88" },
];

export function isAllowedAsset(allowed: readonly AllowedAsset[], network: string, asset: string): boolean {
  return allowed.some((entry) => entry.network === network && entry.asset.toLowerCase() === asset.toLowerCase());
}
