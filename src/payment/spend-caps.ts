// What stock x402 clients refuse to pay, and the setting that lifts it, as the 402 and the agent docs
// say it. @x402/core's x402Client (which @x402/fetch wraps) allows only the assets of @x402/evm's default
// table (USDC on Base and Base Sepolia, not on World Chain) and at most $1 per payment
// (DEFAULT_MAX_AMOUNT_PER_PAYMENT), unless `spendControls` say otherwise; our MCP server caps a poll at
// QUALI_MAX_USDC_PER_POLL.
import { findDefaultAsset } from "@x402/evm";
import type { NetworkSpec } from "./networks";
import { formatUsdc } from "./pricing";

/** The most a stock x402 client pays in one payment: $1 of a default asset (USDC, 6 decimals). */
export const STOCK_CLIENT_MAX_ATOMIC = 1_000_000n;

/** The MCP server's per-poll limit (USDC, default 1), and its daily one. */
export const MCP_MAX_PER_POLL_SETTING = "QUALI_MAX_USDC_PER_POLL";
export const MCP_MAX_PER_DAY_SETTING = "QUALI_MAX_USDC_PER_DAY";

/** Whether a stock client pays this network's USDC without an `allowedAssets` entry. */
export function isStockClientAsset(spec: Pick<NetworkSpec, "network" | "usdc">): boolean {
  return findDefaultAsset(spec.usdc.address, spec.network) !== undefined;
}

/**
 * The 402's `error` for a poll a stock client will not pay: it names the client setting and the MCP
 * setting that lift the cap, at exactly this price, and the asset entry a network outside the default
 * table needs. Undefined at $1 or less: that challenge stays the stock "Payment required".
 */
export function spendCapNotice(costAtomic: bigint, networks: readonly Pick<NetworkSpec, "network" | "usdc">[]): string | undefined {
  if (costAtomic <= STOCK_CLIENT_MAX_ATOMIC) return undefined;
  const usdc = formatUsdc(costAtomic);
  const unlisted = networks.filter((spec) => !isStockClientAsset(spec)).map((spec) => spec.network);
  const client = `@x402/fetch: x402Client.setSpendControls({ maxAmountPerPayment: "$${usdc}" })`;
  const asset =
    unlisted.length > 0
      ? ` USDC on ${unlisted.join(", ")} is not in @x402/evm's default assets: add allowedAssets: [{ network, asset, maxAmountPerPayment: "${costAtomic}" }] (from accepts) to the same call.`
      : "";
  return (
    `Payment required. This poll costs ${usdc} USDC; stock x402 clients pay at most $1. ${client}.${asset} ` +
    `quali-mcp: ${MCP_MAX_PER_POLL_SETTING}=${usdc} (and ${MCP_MAX_PER_DAY_SETTING} >= ${usdc}).`
  );
}
