// /agents.md and /llms.txt: the agent-facing contract for THIS deployment, rendered once from the
// templates below with its public base URL and the networks and USDC contracts it accepts.
// Templates live in code (not files) so the same module works where there is no file system (Workers).
import { DEFAULT_REFUND_POLICY, type RefundPolicy } from "../config";
import { formatUsdc, MCP_MAX_PER_DAY_SETTING, MCP_MAX_PER_POLL_SETTING, PRICE_PER_RESPONSE_ATOMIC, type EnabledNetwork } from "../payment";
import { DAY_MS, DEFAULT_MAX_EXPIRY_LEAD_MS, exampleExpiresAt, expiryWindowText } from "../polls";
import { MAX_POLL_COST_ATOMIC, spendControlsSnippet } from "./guidance";

export interface AgentDocsOptions {
  /** Origin without trailing slash, e.g. https://www.getquali.com */
  publicBaseUrl: string;
  /** The networks payments are accepted on; empty when payments are not configured. */
  networks: readonly EnabledNetwork[];
  mode: "local" | "production";
  /** config.polls.maxExpiryLeadMs: the limit the rules state and the examples stay within. Default: 365 days. */
  maxExpiryLeadMs?: number;
  /** The clock the example's expiresAt is relative to (tests). Default: Date.now. */
  now?: () => number;
  /** config.refunds.policy: what polls created on this deployment are sold under. Default: REFUND_POLICY's default. */
  refundPolicy?: RefundPolicy;
}

/** Replaces every {{NAME}}; an unknown or unused placeholder is a bug, so both throw. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  const used = new Set<string>();
  const out = template.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    used.add(name);
    return value;
  });
  const unused = Object.keys(values).filter((name) => !used.has(name));
  if (unused.length) throw new Error(`template values never used: ${unused.join(", ")}`);
  return out;
}

const AGENTS_MD = `# Quali API for Agents

Quali gives agents human taste on demand: create polls that ask World ID-verified humans a question using text or images, pay per response with x402, and retrieve aggregate results.
Payment is per request with x402 V2. There are no API keys.
{{MODE_NOTE}}
- Base URL: {{BASE_URL}}/api/v1
- Paid endpoint: POST {{BASE_URL}}/api/v1/polls
- OpenAPI discovery: {{BASE_URL}}/openapi.json (info.x-guidance, request/response schemas, x-payment-info)
- Human API reference: {{BASE_URL}}/docs
- Payment protocol: x402 V2 exact scheme (EIP-3009 USDC transfer authorization)
- Request payment header: PAYMENT-SIGNATURE
- 402 response header: PAYMENT-REQUIRED
- Success response header: PAYMENT-RESPONSE
- Accepted settlement asset: USDC
- Accepted networks on this deployment:
{{NETWORK_LIST}}
- Discovery metadata: 402 responses include resource.serviceName, resource.tags, resource.iconUrl (when the deployment has a public https URL) and extensions.bazaar
- Minimum poll size: 100 responses
- Price: 0.005 USDC per requested response
- Voter pool: 0.0005 USDC per completed vote
- Refund policy for polls created now: {{REFUND_POLICY}} (see Refunds)

## Raise your x402 client's spending cap first

Stock x402 clients (@x402/core \`x402Client\`, used by @x402/fetch) refuse any payment above **$1** by default, and they refuse tokens missing from their built-in asset table (USDC on World Chain is missing). A poll costs 0.005 USDC per requested response, so **every poll over 200 responses costs more than $1**. Allow this deployment's USDC and raise the per-payment cap (atomic units, 6 decimals; \`${MAX_POLL_COST_ATOMIC}\` = 5,000 USDC, the largest poll) before you pay:

\`\`\`ts
{{SPEND_CONTROLS}}
\`\`\`

For USDC on Base alone (a default asset), \`setSpendControls({ maxAmountPerPayment: "$2.5" })\`, a dollar amount at least the poll's price, is enough; USDC on World Chain needs its \`allowedAssets\` entry whatever the price. Quali's MCP server (\`quali-mcp\`) refuses polls above \`${MCP_MAX_PER_POLL_SETTING}\` (USDC, default 1) and stops at \`${MCP_MAX_PER_DAY_SETTING}\` (default 10) a day: raise them in its environment. A poll that costs more than $1 is answered with a 402 whose \`error\` names these settings at its price.

A complete agent in TypeScript:

\`\`\`ts
import { x402Client } from "@x402/core/client";
import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { privateKeyToAccount } from "viem/accounts";

const client = new x402Client();
registerExactEvmScheme(client, { signer: privateKeyToAccount(process.env.AGENT_PRIVATE_KEY as \`0x\${string}\`) });
{{SPEND_CONTROLS}}
const payingFetch = wrapFetchWithPayment(fetch, client);

const response = await payingFetch("{{BASE_URL}}/api/v1/polls", {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({
    question: "Which name is clearer?",
    options: [{ text: "Option A" }, { text: "Option B" }],
    maxResponses: 100,
    expiresAt: new Date(Date.now() + {{SNIPPET_EXPIRY_DAYS}} * 24 * 3600 * 1000).toISOString(),
  }),
});
const poll = await response.json(); // store poll.readToken: results and votes need it
\`\`\`

## Flow

1. Quote: GET {{BASE_URL}}/api/v1/quote?maxResponses=100
2. Read the returned paymentRequired.accepts array. It lists every network above unless a network filter is supplied.
3. Create a V2 x402 PaymentPayload from the returned paymentRequired object with an official x402 client and the chosen accepted requirement. Preserve paymentPayload.resource.url.
4. POST {{BASE_URL}}/api/v1/polls with Content-Type: application/json and PAYMENT-SIGNATURE: <base64 payload>. Send the same body you priced (the price depends on maxResponses).
5. Store readToken from the response. It is required for results and votes.
6. Decode PAYMENT-RESPONSE from the success response if you need settlement proof.

A POST without PAYMENT-SIGNATURE answers 402 with the same paymentRequired object in the JSON body and, base64-encoded, in the PAYMENT-REQUIRED header; an invalid body answers 400 and never gets a challenge.

Network filters accepted by /quote on this deployment:

{{NETWORK_FILTERS}}

## Quote

GET {{BASE_URL}}/api/v1/quote?maxResponses=100

Response: maxResponses, costUsdc (0.5), costAtomic ("500000"), rewardPoolUsdc (0.05), qualiFeeUsdc (0.45), x402Version (2) and paymentRequired, the exact x402 V2 challenge (resource, accepts, extensions.bazaar) that POST /api/v1/polls answers for that body.

## Create Poll

POST {{BASE_URL}}/api/v1/polls requires PAYMENT-SIGNATURE.

Request body:

\`\`\`json
{
  "question": "Which name is clearer?",
  "description": "Optional context for voters",
  "moreInfoUrl": "https://example.com/context",
  "options": [{ "text": "Option A" }, { "text": "Option B" }],
  "maxResponses": 100,
  "expiresAt": "{{EXAMPLE_EXPIRES_AT}}",
  "mediaUrl": null,
  "mediaType": null,
  "layoutType": "grid",
  "callbackUrl": "https://example.com/quali-webhook"
}
\`\`\`

Rules:

- 2 to 10 options.
- question <= 200 characters.
- description <= 1000 characters.
- each option text <= 120 characters.
- maxResponses must be an integer from 100 to 1,000,000.
- expiresAt must be an ISO 8601 timestamp with seconds and a zone (Z or ±HH:MM) whose year has 4 digits, also in UTC, and {{EXPIRY_WINDOW}} (this deployment's limit). It is stored and returned in UTC as YYYY-MM-DDTHH:mm:ss.sssZ.
- moreInfoUrl, mediaUrl and option mediaUrl must be https URLs; mediaType, when set, is "image" and needs a mediaUrl.
- callbackUrl is optional, must be HTTPS, and receives a signed poll.completed webhook when the poll completes.
- publicResults is optional (default false; an addition to the contract): true lets anyone read the aggregate results (GET /api/v1/polls/{id}/results, and the page {{BASE_URL}}/polls/{id}/results) without the read token. Votes always need the read token.
- Unknown fields are rejected.
- Content is moderated before payment settlement. Violations are rejected without settling payment.
- Paid requests whose PAYMENT-SIGNATURE does not carry the paymentPayload.resource.url advertised by PAYMENT-REQUIRED ({{BASE_URL}}/api/v1/polls) are rejected.

Success response (201):

\`\`\`json
{
  "id": "uuid",
  "url": "{{BASE_URL}}/polls/<id>",
  "readToken": "uuid",
  "payment": {
    "network": "{{FIRST_NETWORK}}",
    "networkLabel": "{{FIRST_NETWORK_LABEL}}",
    "txHash": "0x...",
    "payer": "0x...",
    "amountUsdc": 0.5,
    "amountAtomic": "500000"
  },
  "pricing": {
    "maxResponses": 100,
    "rewardPoolUsdc": 0.05,
    "qualiFeeUsdc": 0.45,
    "costUsdc": 0.5
  },
  "endpoints": {
    "poll": "{{BASE_URL}}/api/v1/polls/<id>",
    "results": "{{BASE_URL}}/api/v1/polls/<id>/results",
    "votes": "{{BASE_URL}}/api/v1/polls/<id>/votes"
  }
}
\`\`\`

## Payment being confirmed (202)

The poll is paid when the chain shows the transfer, not when a facilitator says so. If the settlement was
submitted but its outcome is not visible on chain yet (the facilitator answered settlement_pending, an
error, or nothing), POST /api/v1/polls answers 202 with a Retry-After header:

\`\`\`json
{
  "pollId": "uuid",
  "status": "payment_pending",
  "message": "Your payment is being confirmed on chain. ...",
  "retryAfterSeconds": 5,
  "payment": { "network": "{{FIRST_NETWORK}}", "networkLabel": "{{FIRST_NETWORK_LABEL}}", "txHash": "0x... or null", "payer": "0x...", "amountUsdc": 0.5, "amountAtomic": "500000" }
}
\`\`\`

Send the same request with the same PAYMENT-SIGNATURE again after Retry-After seconds: you get the 201
(with the readToken and the same poll id) once the transfer is mined, or a 402 when the authorization can
no longer move money (cancelled, or expired unused: nothing was charged). Do not sign a new payment for
it. Once the 201 has been delivered, the same signature is answered 409 payment_already_used as usual.

Idempotent retries: the 402 declares the x402 payment-identifier extension (optional). Put an id in your
payment payload (appendPaymentIdentifierToExtensions from @x402/extensions/payment-identifier); a retry
with the same id and the same request gets the same answer, the 201 included; the same id with a
different payment or body is refused with 409 payment_identifier_conflict.

## Read Endpoints

- GET {{BASE_URL}}/api/v1/polls/{id}: public poll metadata for settled API polls.
- GET {{BASE_URL}}/api/v1/polls/{id}/results: requires X-Read-Token or Authorization: Bearer <readToken>.
- GET {{BASE_URL}}/api/v1/polls/{id}/votes?limit=500&cursor=ISO: requires the read token.
- GET {{BASE_URL}}/api/v1/polls/{id}/votes with Accept: text/csv (or ?format=csv): every vote as one CSV download (RFC 4180, a header row; a field starting with =, +, -, @, tab, CR, LF or NUL is prefixed with '); requires the read token.
- GET {{BASE_URL}}/api/v1/polls?payer=0x...: lists settled API polls paid by a wallet.
- POST {{BASE_URL}}/api/v1/polls/{id}/close: ends your poll early (read token, no body). It takes no more votes, its status becomes closed, the poll.completed webhook is sent with status "closed", and the unfilled responses are refunded per its refundPolicy. Closing a closed poll answers the same 200; a poll that already completed, expired or was removed answers 409 poll_already_ended.
- GET {{BASE_URL}}/api/v1/polls/{id}/events: live progress as Server-Sent Events (read token as a header, so use fetch rather than EventSource): progress {pollId, status, voteCount, maxResponses} as votes land, then one final event named by the status (completed, expired, closed, removed) and the stream ends. Reconnect with Last-Event-ID to resume without gaps or repeats.

A poll's status is active, completed, expired, closed (ended early by its creator) or removed (taken down by the operator: results stay readable with the read token).

Wallet sign-in: instead of the read token, the wallet that paid for a poll may send SIGN-IN-WITH-X: <base64 JSON> (x402 sign-in-with-x, CAIP-122/EIP-4361, EIP-191) on results, votes, events, deliveries and close; a 401 carries the challenge in error.details.extensions["sign-in-with-x"]. Sign a fresh message per request (a nonce works once; issuedAt under 5 minutes old; domain and uri name {{BASE_URL}}). GET /api/v1/polls without payer and with a sign-in lists your own polls. Another wallet gets 403 wallet_not_payer.

Browser-based agents may call the quote, the paid endpoint and every read endpoint from any origin; PAYMENT-REQUIRED and PAYMENT-RESPONSE are exposed to scripts.

## Refunds

{{REFUND_POLICY_TEXT}}

Every poll records the policy it was created under as refundPolicy ("unfilled" or "none"); a later change of this deployment's policy never touches an existing poll. When a refund is owed, GET {{BASE_URL}}/api/v1/polls/{id} and /results carry it:

\`\`\`json
"refund": { "status": "confirmed", "amountAtomic": "485000", "amountUsdc": 0.485, "txHash": "0x..." }
\`\`\`

status: pending (queued, or waiting for the payout wallet to be funded), sent, confirmed (txHash is the transfer back to you), parked (the USDC token refuses transfers to your address; the operator retries it). The refund is sent from the same wallet that pays voters, exactly once; nothing else is refunded (a poll that filled up owes nothing).

## Webhook

If callbackUrl was provided, Quali sends:

- Method: POST
- Event header: X-Quali-Event: poll.completed
- Delivery header: X-Quali-Delivery: <uuid>
- Signature header if the deployment configured a callback secret: X-Quali-Signature: sha256=<hmac>
- Signature base string: <deliveryId>.<raw JSON body>

Webhook body includes pollId, status, voteCount, maxResponses, completedAt, resultsUrl, votesUrl, and readToken; when a refund is owed, a last key refund (status pending, amountAtomic, amountUsdc, txHash null).

## Errors

Every error except the 402 is JSON: { "error": { "code", "message", "param"? } }. The 402 body is the x402 PaymentRequired object.

| Status | Meaning |
|---|---|
| 400 | Malformed request or content moderation rejection. |
| 401 | Missing read token on private endpoint (read_token_missing), or a refused wallet sign-in (sign_in_invalid, sign_in_replayed). |
| 202 | Payment submitted, not yet confirmed on chain: retry with the same PAYMENT-SIGNATURE (see above). |
| 402 | Payment required or payment verification/settlement failed; nothing was charged. |
| 403 | Read token does not match this poll (read_token_invalid), or the signed-in wallet did not pay for it (wallet_not_payer). |
| 404 | Poll not found, not API-created, or not settled. |
| 409 | Payment signature was already used (payment_already_used), or a payment-identifier was reused for another request (payment_identifier_conflict). |
| 415 | Body is not JSON (send Content-Type: application/json). |
| 429 | Too many requests (rate_limited; Retry-After says when), or too many open event streams. |
| 503 | Server missing payment or moderation configuration. |

Full docs: {{BASE_URL}}/docs
`;

const LLMS_TXT = `# Quali

> Human taste on demand for AI agents: create text or image polls answered by World ID-verified humans, pay per requested response (0.005 USDC) in USDC over x402 V2, and read aggregate results with the poll's read token. No API keys.

Paid endpoint: POST {{BASE_URL}}/api/v1/polls (x402 V2 exact scheme; PAYMENT-SIGNATURE request header, PAYMENT-REQUIRED on the 402, PAYMENT-RESPONSE on success). Quote first with GET {{BASE_URL}}/api/v1/quote?maxResponses=100. Store the readToken from the 201: GET /api/v1/polls/{id}/results and /votes need it as X-Read-Token.

Accepted: USDC on
{{NETWORK_LIST}}

Stock x402 clients cap each payment at $1 and polls over 200 responses cost more, so raise the cap before paying (quali-mcp: ${MCP_MAX_PER_POLL_SETTING}):

\`\`\`ts
{{SPEND_CONTROLS}}
\`\`\`

## Docs

- [Agent contract]({{BASE_URL}}/agents.md): flow, request rules, responses, errors, webhook
- [OpenAPI 3.1]({{BASE_URL}}/openapi.json): every route with schemas, x-payment-info and info.x-guidance
- [API reference]({{BASE_URL}}/docs): the same document for humans

## Endpoints

- [Quote]({{BASE_URL}}/api/v1/quote?maxResponses=100): price and the exact x402 challenge for a poll size
- POST {{BASE_URL}}/api/v1/polls: create a paid poll (100 to 1,000,000 responses)
- GET {{BASE_URL}}/api/v1/polls/{id}: public poll metadata
- GET {{BASE_URL}}/api/v1/polls/{id}/results: aggregate results (read token)
- GET {{BASE_URL}}/api/v1/polls/{id}/votes: individual votes, paginated (read token)
- GET {{BASE_URL}}/api/v1/polls/{id}/events: live progress, Server-Sent Events (read token)
`;

function networkList(networks: readonly EnabledNetwork[]): string {
  if (networks.length === 0) return "  - none: payments are not configured on this deployment yet (POST /api/v1/polls answers 503)";
  return networks
    .map(({ spec }) => `  - ${spec.label} (${spec.network}), USDC ${spec.usdc.address}${spec.testnet ? " (test network)" : ""}`)
    .join("\n");
}

function values(options: AgentDocsOptions): Record<string, string> {
  return {
    BASE_URL: options.publicBaseUrl,
    NETWORK_LIST: networkList(options.networks),
    SPEND_CONTROLS: spendControlsSnippet(options.networks.map((n) => n.spec)),
  };
}

/** The expiry rule as /agents.md states it, with this deployment's limit. */
function expiryValues(options: AgentDocsOptions): Record<string, string> {
  const maxLeadMs = options.maxExpiryLeadMs ?? DEFAULT_MAX_EXPIRY_LEAD_MS;
  return {
    EXPIRY_WINDOW: expiryWindowText(maxLeadMs),
    // Rendered once per process: relative to the current UTC day, like the 402's example.
    EXAMPLE_EXPIRES_AT: exampleExpiresAt(options.now?.() ?? Date.now(), maxLeadMs),
    // The agent's own clock runs the snippet: a week, or the whole limit when shorter.
    SNIPPET_EXPIRY_DAYS: String(Math.max(1, Math.min(7, Math.floor(maxLeadMs / DAY_MS)))),
  };
}

export function renderAgentsMarkdown(options: AgentDocsOptions): string {
  const first = options.networks[0]?.spec;
  return renderTemplate(AGENTS_MD, {
    ...values(options),
    ...expiryValues(options),
    MODE_NOTE:
      options.mode === "local"
        ? "\n> This is a local development deployment: payments settle on a local devnet in a test USDC token, not on a real chain.\n"
        : "",
    NETWORK_FILTERS: options.networks.length
      ? options.networks.map(({ spec }) => `- ${[...spec.aliases, spec.network].join(", ")}`).join("\n")
      : "- none (payments are not configured)",
    FIRST_NETWORK: first?.network ?? "eip155:8453",
    FIRST_NETWORK_LABEL: first?.label ?? "Base",
    ...refundValues(options.refundPolicy ?? DEFAULT_REFUND_POLICY),
  });
}

/** The refund policy as /agents.md states it for polls created on this deployment now. */
function refundValues(policy: RefundPolicy): Record<string, string> {
  const price = `${formatUsdc(PRICE_PER_RESPONSE_ATOMIC)} USDC`;
  return {
    REFUND_POLICY: policy === "unfilled" ? `unfilled (${price} back per response a poll ends without)` : "none (no refunds)",
    REFUND_POLICY_TEXT:
      policy === "unfilled"
        ? `Polls created on this deployment now are sold under the refund policy "unfilled": when a poll ends without filling up — it expired, you closed it early, or the operator took it down — you get back (maxResponses − voteCount) × ${price} (the full price of each missing response), in USDC on the network you paid on, to the address that paid, sent by the service's payout job after the poll ends (the poll's refund field follows it).`
        : `Polls created on this deployment now are sold under the refund policy "none": a poll that ends without filling up is not refunded.`,
  };
}

export function renderLlmsTxt(options: AgentDocsOptions): string {
  return renderTemplate(LLMS_TXT, values(options));
}
