// The short agent guidance carried in /openapi.json (info.x-guidance). It must stay the same for
// every deployment (the committed openapi.json equals the served one, servers aside), so it names
// paths, never a host; /agents.md carries the deployment-specific details (base URL, networks, assets).
// Keep it under 4,000 characters: x402scan/@agentcash/discovery warn above that (zero-hop budgets).
import { formatUsdc, MCP_MAX_PER_DAY_SETTING, MCP_MAX_PER_POLL_SETTING, type NetworkSpec, pollPrice, PRICE_PER_RESPONSE_ATOMIC } from "../payment";
import { DEFAULT_MAX_EXPIRY_LEAD_MS, expiryWindowText, MAX_RESPONSES } from "../polls";

/** The most one poll can cost, in atomic USDC: a safe per-payment cap for an agent's client. */
export const MAX_POLL_COST_ATOMIC = pollPrice(MAX_RESPONSES).costAtomic.toString();

/**
 * The snippet that lifts @x402/core's default $1-per-payment cap (and, for tokens missing from the
 * client's default asset table, such as USDC on World Chain, allows the asset at all).
 */
export function spendControlsSnippet(assets: readonly Pick<NetworkSpec, "network" | "usdc">[]): string {
  if (assets.length === 0) {
    return `client.setSpendControls({ allowedAssets: [{ network, asset, maxAmountPerPayment: "${MAX_POLL_COST_ATOMIC}" }] });`;
  }
  const lines = assets.map(
    (a) => `    { network: "${a.network}", asset: "${a.usdc.address}", maxAmountPerPayment: "${MAX_POLL_COST_ATOMIC}" },`,
  );
  return ["client.setSpendControls({", "  allowedAssets: [", ...lines, "  ],", "});"].join("\n");
}

export const X_GUIDANCE = `Quali: ask World ID-verified humans a question (text or image poll) and pay per requested response in USDC over x402 V2 (exact scheme, EIP-3009). No API keys, no accounts.

Flow:
1. Quote (free): GET /api/v1/quote?maxResponses=100 (optional &network=base or worldchain). Returns costUsdc, costAtomic and paymentRequired: the exact x402 V2 challenge POST /api/v1/polls answers. A POST /api/v1/polls without payment also answers 402 with it, base64 in the PAYMENT-REQUIRED header and as the JSON body.
2. Pay: sign one entry of paymentRequired.accepts with an official x402 client (@x402/fetch wrapFetchWithPayment, or x402Client + registerExactEvmScheme from @x402/evm). Keep paymentPayload.resource.url exactly as advertised: a payment for another URL is refused.
3. Create: POST /api/v1/polls with Content-Type: application/json, the body you priced, and PAYMENT-SIGNATURE: <base64 payment payload>. Body: question (<= 200 chars), options (2-10, each text <= 120), maxResponses (integer 100-1,000,000), expiresAt (ISO 8601 with a zone and a 4-digit year, ${expiryWindowText(DEFAULT_MAX_EXPIRY_LEAD_MS)} by default: /agents.md states this deployment's limit; returned in UTC); optional description (<= 1000), moreInfoUrl, mediaUrl + mediaType "image", layoutType "list" or "grid", callbackUrl (https; receives a signed poll.completed webhook).
4. Store readToken from the 201 response: results and votes require it. PAYMENT-RESPONSE (base64 JSON) on the 201 is the settlement proof; payment.txHash holds the mined transaction. A 202 (status payment_pending, pollId, Retry-After) means the payment was submitted but the chain has not shown it yet: send the same request with the same PAYMENT-SIGNATURE again after Retry-After seconds to get the 201 (or a 402 if it can no longer be charged). Never sign a new payment for it; you are never charged twice. Optional: the payment-identifier extension declared in the 402 makes retries return the same 201.
5. Read: GET /api/v1/polls/{id} is public. GET /api/v1/polls/{id}/results and GET /api/v1/polls/{id}/votes?limit=500&cursor=<ISO> need X-Read-Token: <readToken> (or Authorization: Bearer <readToken>, or SIGN-IN-WITH-X from the paying wallet: x402 sign-in-with-x, challenge in the 401). Live progress: GET /api/v1/polls/{id}/events (SSE).

Price: 0.005 USDC per requested response (100 responses = 0.50 USDC, the minimum; 1,000,000 = 5,000 USDC); the amount is fixed by maxResponses before you sign.
Refunds: a poll that ends unfilled (expired, closed, removed) under refundPolicy "unfilled" pays ${formatUsdc(PRICE_PER_RESPONSE_ATOMIC)} USDC per missing response back to the payer, once (field refund). POST /api/v1/polls/{id}/close ends it early.

Spending cap: stock x402 clients (x402Client of @x402/core, wrapped by @x402/fetch) refuse to pay over $1 by default; polls over 200 responses cost more. They also refuse tokens missing from @x402/evm's default asset table: USDC on Base is in it (Base comes first in accepts), USDC on World Chain is not. Before paying, allow the asset and raise the cap (atomic units, 6 decimals):
client.setSpendControls({ allowedAssets: [{ network, asset, maxAmountPerPayment: "${MAX_POLL_COST_ATOMIC}" }] })
with network and asset from the accepts entry you pay. For Base USDC alone, setSpendControls({ maxAmountPerPayment: "$<price>" }) is enough. Quali's MCP server (quali-mcp) refuses polls above ${MCP_MAX_PER_POLL_SETTING} (USDC, default 1; ${MCP_MAX_PER_DAY_SETTING}, default 10, caps a day). A poll over $1 gets a 402 whose error names these settings at its price.

Errors: 400 invalid body or content rejected by moderation (JSON error with code and param; invalid bodies never get a challenge), 402 payment missing or refused (a new challenge), 409 payment signature already used (or a payment-identifier reused for another request), 503 payment or moderation not configured. Content is moderated after the payment is verified and before it is settled: a rejected poll is never charged.

Full contract: /agents.md. Human reference: /docs.`;
