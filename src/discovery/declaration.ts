// What the 402 challenge on POST /api/v1/polls says about the service, for crawlers (x402scan,
// CDP Bazaar) and agents: resource.serviceName/tags/iconUrl and the bazaar declaration (an example
// request, the JSON Schema of the real request body, an example response and its schema).
// Limits that make @x402/core's PaymentRequiredV2Schema reject the WHOLE challenge when broken:
// serviceName 1..32 printable ASCII, at most 5 tags of 1..32 printable ASCII, iconUrl absolute http(s),
// not an IP, not localhost. We are stricter on iconUrl (https only), as the contract asks.
import { z } from "@hono/zod-openapi";
import { isValidIconUrl, isValidServiceName, sanitizeTags } from "@x402/extensions/bazaar";
import type { RefundPolicy } from "../config";
import { type NetworkSpec, type ServiceMetadata, pollPrice, usdcNumber } from "../payment";
import { DEFAULT_MAX_EXPIRY_LEAD_MS, CreatePollBody, CreatePollResponse, EXAMPLE_MAX_RESPONSES, exampleCreatePollBody } from "../polls";

export const SERVICE_NAME = "Quali";
export const SERVICE_TAGS = ["taste", "polls", "feedback", "world-id", "agents"] as const;
export const SERVICE_DESCRIPTION =
  "Human taste on-demand: create text or image polls for World ID-verified humans, pay per response with x402, " +
  "and retrieve aggregate results through the Quali API.";

/**
 * resource.iconUrl: X402_RESOURCE_ICON_URL, else `${publicBaseUrl}/favicon.ico`, but only when it is a
 * public https URL (never localhost or an IP): an invalid one would make clients reject the challenge,
 * so a local deployment simply advertises no icon.
 */
export function resourceIconUrl(publicBaseUrl: string, configured?: string): string | undefined {
  const candidate = configured ?? `${publicBaseUrl}/favicon.ico`;
  return candidate.startsWith("https://") && isValidIconUrl(candidate) ? candidate : undefined;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const FORMAT_HINTS: Record<string, string> = {
  "date-time": "ISO 8601 date-time with seconds and a time zone: YYYY-MM-DDTHH:mm:ss then Z or ±HH:MM",
  uuid: "UUID",
};

/**
 * The shape of an ISO 8601 date-time with seconds and a zone: what we accept is a subset (zod also checks
 * the ranges — month 13, Feb 30 — and answers a clear 400), so nothing we accept fails it. zod's own
 * pattern says the same at several times the length, and every 402 carries it twice (body and base64 header).
 */
export const DATE_TIME_SHAPE = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$";

/** zod's own date-time patterns, which DATE_TIME_SHAPE stands in for; a pattern a field declares itself stays. */
const ZOD_DATE_TIME_PATTERNS: ReadonlySet<unknown> = new Set(
  [false, true].map((offset) => (z.toJSONSchema(z.iso.datetime({ offset })) as { pattern?: string }).pattern),
);

const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/**
 * A zod schema as a self-contained JSON Schema (draft 2020-12) to embed in the bazaar declaration, in
 * as few bytes as say the same thing: every 402 and every quote carries it.
 * - `format` is moved into the description: Ajv inside @x402/extensions (and other bazaar validators)
 *   runs without ajv-formats and logs `unknown format "date-time" ignored` for every format it meets.
 *   A request date-time keeps the pattern it declares (expiresAt's, the expiry rule's shape); zod's own
 *   becomes a short shape (DATE_TIME_SHAPE). The response's patterns go (the response is ours, its
 *   description says what the value is).
 * - `anyOf: [X, {type: "null"}]` (zod's nullable) becomes X with `null` added to its type (and enum).
 * - zod's ±2^53-1 bounds of a plain integer say nothing and go.
 * - The nested `$schema` goes too: the declaration's root carries it.
 */
export function bazaarJsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as Json;
  const clean = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(clean);
    if (node === null || typeof node !== "object") return node;
    const nullable = nullableMember(node);
    if (nullable) return clean(nullable);
    const out: { [key: string]: Json } = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "$schema" || key === "format") continue;
      if ((key === "minimum" || key === "maximum") && typeof value === "number" && SAFE_INTEGER_BOUNDS.has(value)) continue;
      if (key === "pattern" && typeof node.format === "string") {
        if (io === "input" && node.format === "date-time") out.pattern = ZOD_DATE_TIME_PATTERNS.has(value) ? DATE_TIME_SHAPE : value;
        else if (io === "input") out.pattern = value;
        continue;
      }
      out[key] = clean(value);
    }
    if (typeof node.format === "string" && out.description === undefined) {
      out.description = FORMAT_HINTS[node.format] ?? `Format: ${node.format}.`;
    }
    return out;
  };
  return clean(generated) as Record<string, unknown>;
}

/** `{anyOf: [{type: T, ...}, {type: "null"}]}` as one `{type: [T, "null"], ...}` schema; else undefined. */
function nullableMember(node: { [key: string]: Json }): { [key: string]: Json } | undefined {
  const members = node.anyOf;
  if (!Array.isArray(members) || members.length !== 2 || Object.keys(node).length !== 1) return undefined;
  const isNull = (m: Json) => typeof m === "object" && m !== null && !Array.isArray(m) && m.type === "null" && Object.keys(m).length === 1;
  const other = members.find((m) => !isNull(m));
  if (!members.some(isNull) || typeof other !== "object" || other === null || Array.isArray(other) || typeof other.type !== "string") return undefined;
  const merged: { [key: string]: Json } = { ...other, type: [other.type, "null"] };
  if (Array.isArray(other.enum)) merged.enum = [...other.enum, null];
  return merged;
}

const EXAMPLE_POLL_ID = "3f0c2a8e-6a4b-4c1d-9f7e-2b5d8c1a9e40";
const EXAMPLE_READ_TOKEN = "9b1e4c7a-2d3f-4a6b-8c9d-0e1f2a3b4c5d";

/** A 201 body as POST /api/v1/polls answers it for the bazaar example request (100 responses). */
export function exampleCreatePollResponse(publicBaseUrl: string, network: NetworkSpec) {
  const price = pollPrice(EXAMPLE_MAX_RESPONSES);
  const poll = `${publicBaseUrl}/api/v1/polls/${EXAMPLE_POLL_ID}`;
  return {
    id: EXAMPLE_POLL_ID,
    url: `${publicBaseUrl}/polls/${EXAMPLE_POLL_ID}`,
    readToken: EXAMPLE_READ_TOKEN,
    payment: {
      network: network.network,
      networkLabel: network.label,
      txHash: `0x${"5e".repeat(32)}`,
      payer: "0x00000000000000000000000000000000000a9e47",
      amountUsdc: usdcNumber(price.costAtomic),
      amountAtomic: price.costAtomic.toString(),
    },
    pricing: {
      maxResponses: price.maxResponses,
      rewardPoolUsdc: usdcNumber(price.rewardPoolAtomic),
      qualiFeeUsdc: usdcNumber(price.feeAtomic),
      costUsdc: usdcNumber(price.costAtomic),
    },
    endpoints: { poll, results: `${poll}/results`, votes: `${poll}/votes` },
  };
}

export interface DiscoveryMetadataOptions {
  publicBaseUrl: string;
  /** Absolute URL agents pay for. */
  resourceUrl: string;
  /** X402_RESOURCE_ICON_URL, when set. */
  configuredIconUrl?: string | undefined;
  /** The network the example response shows (the first enabled one). */
  exampleNetwork: NetworkSpec;
  /** config.polls.maxExpiryLeadMs: the example body's expiresAt stays within it. Default: 365 days. */
  maxExpiryLeadMs?: number;
  /** The clock the example's expiresAt is relative to (tests). Default: Date.now. */
  now?: () => number;
  /** REFUND_POLICY: under 'unfilled' the 402 says that unfilled responses are refunded. */
  refundPolicy?: RefundPolicy;
}

/** The 402's resource.description: the service, and the refund policy in force when there is one. */
export function resourceDescription(refundPolicy: RefundPolicy | undefined): string {
  return refundPolicy === "unfilled" ? `${SERVICE_DESCRIPTION} Unfilled responses are refunded when a poll ends.` : SERVICE_DESCRIPTION;
}

/** Everything the payment server needs to describe POST /api/v1/polls in its 402. */
export function discoveryMetadata(options: DiscoveryMetadataOptions): ServiceMetadata {
  const tags = sanitizeTags([...SERVICE_TAGS]) ?? [];
  if (!isValidServiceName(SERVICE_NAME) || tags.length !== SERVICE_TAGS.length) {
    throw new Error("service metadata breaks the x402 limits (serviceName ≤ 32 ASCII, ≤ 5 tags of ≤ 32 ASCII)");
  }
  return {
    resourceUrl: options.resourceUrl,
    description: resourceDescription(options.refundPolicy),
    serviceName: SERVICE_NAME,
    tags,
    iconUrl: resourceIconUrl(options.publicBaseUrl, options.configuredIconUrl),
    bazaar: {
      // Built once per payment server, so every challenge of this process carries the same example.
      exampleBody: exampleCreatePollBody(options.now?.() ?? Date.now(), options.maxExpiryLeadMs ?? DEFAULT_MAX_EXPIRY_LEAD_MS),
      bodySchema: bazaarJsonSchema(CreatePollBody, "input"),
      outputExample: exampleCreatePollResponse(options.publicBaseUrl, options.exampleNetwork),
      outputSchema: bazaarJsonSchema(CreatePollResponse, "output"),
    },
  };
}
