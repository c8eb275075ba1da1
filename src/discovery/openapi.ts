// GET /openapi.json: the OpenAPI 3.1 document generated from every @hono/zod-openapi route, completed
// with what discovery needs and route definitions do not say: info.x-guidance and info.contact,
// x-payment-info + a documented 402 on paid operations, and an explicit `security` on every operation
// (`[]` = public, or the read token). x402scan reads it through @agentcash/discovery.
//
// The document is deployment-neutral except `servers`: the committed openapi.json is this document
// without `servers` (npm run openapi), and a test regenerates and compares it.
import type { OpenAPIHono } from "@hono/zod-openapi";
import { pollPrice, USDC_DECIMALS } from "../payment";
import { POLLS_PATH } from "../polls";
import { MAX_RESPONSES, MIN_RESPONSES } from "../polls";
import { X_GUIDANCE } from "./guidance";

type DocumentConfig = Parameters<OpenAPIHono["getOpenAPI31Document"]>[0];
/** Any OpenAPIHono app (whatever its Env): all we need is its generator. */
export interface OpenApiSource {
  getOpenAPI31Document(config: DocumentConfig): unknown;
}

type JsonObject = { [key: string]: unknown };

export const API_INFO = {
  title: "Quali API for Agents",
  version: "1.0.0",
  description:
    "Human taste on demand: create text or image polls answered by World ID-verified humans, pay per requested " +
    "response in USDC over x402 V2 (no API keys), and read aggregate results with the poll's read token. " +
    "Agent contract: /agents.md.",
  contact: { name: "Quali", url: "https://www.getquali.com" },
} as const;

/** "500000" atomic → "0.500000": the decimal USD string x-payment-info uses (6 decimals, always). */
export function usdDecimal(atomic: bigint): string {
  const scale = 10n ** BigInt(USDC_DECIMALS);
  return `${atomic / scale}.${(atomic % scale).toString().padStart(USDC_DECIMALS, "0")}`;
}

/** Paid operations and what they cost (decimal USD, while 402 `accepts[].amount` is atomic). */
export const PAID_OPERATIONS: Readonly<Record<string, JsonObject>> = {
  [`POST ${POLLS_PATH}`]: {
    price: {
      mode: "dynamic",
      currency: "USD",
      min: usdDecimal(pollPrice(MIN_RESPONSES).costAtomic),
      max: usdDecimal(pollPrice(MAX_RESPONSES).costAtomic),
    },
    protocols: [{ x402: {} }],
  },
};

/** Security scheme names for the poll read token (or the paying wallet's sign-in); routes may reference them in `security`. */
export const READ_TOKEN_SECURITY = [{ ReadToken: [] }, { ReadTokenBearer: [] }, { SignInWithX: [] }];
const SECURITY_SCHEMES = {
  // OpenAPI has no sign-in-with-x type: an apiKey header marked the way @agentcash/discovery recognises.
  SignInWithX: {
    type: "apiKey",
    in: "header",
    name: "SIGN-IN-WITH-X",
    "x-agentcash-auth-kind": "siwx",
    description:
      "x402 sign-in-with-x (CAIP-122 / EIP-4361, EIP-191 signatures of externally owned accounts): base64 JSON of the signed payload. " +
      "The wallet that paid for a poll reads it, and lists its own polls, with a fresh message per request. Challenge: error.details.extensions on the 401.",
  },
  ReadToken: {
    type: "apiKey",
    in: "header",
    name: "X-Read-Token",
    description: "The readToken returned when the poll was created.",
  },
  ReadTokenBearer: { type: "http", scheme: "bearer", description: "Authorization: Bearer <readToken>." },
};

/** Operations that need the read token, when their route definition does not declare `security` itself. */
export const READ_TOKEN_OPERATIONS: readonly string[] = [
  `GET ${POLLS_PATH}/{id}/results`,
  `GET ${POLLS_PATH}/{id}/votes`,
  `GET ${POLLS_PATH}/{id}/events`,
];

const METHOD_ORDER = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

const byKey = <T>(entries: [string, T][]) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const sortKeys = (object: JsonObject) => Object.fromEntries(byKey(Object.entries(object)));

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function completeOperation(key: string, operation: JsonObject): JsonObject {
  const paymentInfo = PAID_OPERATIONS[key];
  const responses: JsonObject = isObject(operation.responses) ? { ...operation.responses } : {};
  const out: JsonObject = { ...operation };
  if (paymentInfo) {
    out["x-payment-info"] = paymentInfo;
    out.security ??= [];
    const challenge: JsonObject = isObject(responses["402"])
      ? { ...responses["402"] }
      : { description: "Payment Required" };
    challenge.headers = {
      ...(isObject(challenge.headers) ? challenge.headers : {}),
      "PAYMENT-REQUIRED": {
        description: "The x402 V2 PaymentRequired object (the same as the body), base64-encoded JSON.",
        schema: { type: "string" },
      },
    };
    responses["402"] = challenge;
    for (const [status, response] of Object.entries(responses)) {
      if (!status.startsWith("2") || !isObject(response)) continue;
      responses[status] = {
        ...response,
        headers: {
          ...(isObject(response.headers) ? response.headers : {}),
          "PAYMENT-RESPONSE": {
            description: "x402 settlement result (transaction, network, payer), base64-encoded JSON.",
            schema: { type: "string" },
          },
        },
      };
    }
  } else if (out.security === undefined) {
    out.security = READ_TOKEN_OPERATIONS.includes(key) ? READ_TOKEN_SECURITY : [];
  }
  out.responses = sortKeys(responses);
  return out;
}

export interface BuildOptions {
  /** The deployment's origin; omitted for the committed, deployment-neutral file. */
  publicBaseUrl?: string;
}

/** Generates the document from the app's routes. Call once, after every route is registered. */
export function buildOpenApiDocument(app: OpenApiSource, options: BuildOptions = {}): JsonObject {
  const generated = structuredClone(
    app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: { ...API_INFO, "x-guidance": X_GUIDANCE } as DocumentConfig["info"],
    }),
  ) as JsonObject;

  const paths: JsonObject = {};
  for (const [path, item] of byKey(Object.entries(isObject(generated.paths) ? generated.paths : {}))) {
    if (!isObject(item)) continue;
    const methods = Object.entries(item).sort(
      ([a], [b]) => (METHOD_ORDER.indexOf(a) + 1 || 99) - (METHOD_ORDER.indexOf(b) + 1 || 99),
    );
    paths[path] = Object.fromEntries(
      methods.map(([method, operation]) =>
        METHOD_ORDER.includes(method) && isObject(operation)
          ? [method, completeOperation(`${method.toUpperCase()} ${path}`, operation)]
          : [method, operation],
      ),
    );
  }

  const components: JsonObject = isObject(generated.components) ? { ...generated.components } : {};
  components.securitySchemes = { ...SECURITY_SCHEMES, ...(isObject(components.securitySchemes) ? components.securitySchemes : {}) };
  for (const [name, value] of Object.entries(components)) {
    if (isObject(value)) components[name] = sortKeys(value);
  }

  const { openapi, info, webhooks, ...rest } = generated;
  delete rest.paths;
  delete rest.components;
  delete rest.servers;
  return {
    openapi,
    info,
    ...(options.publicBaseUrl ? { servers: [{ url: options.publicBaseUrl }] } : {}),
    ...rest,
    paths,
    ...(webhooks ? { webhooks } : {}),
    components: sortKeys(components),
  };
}

/** The committed openapi.json: the document without `servers`, 2-space JSON, trailing newline. */
export function committedOpenApiText(document: JsonObject): string {
  const { servers: _servers, ...neutral } = document;
  return `${JSON.stringify(neutral, null, 2)}\n`;
}

/**
 * API routes the app serves but the document does not describe (registered with plain app.get/post
 * instead of createRoute + app.openapi), as "METHOD /path/{param}". Middleware entries are ignored.
 */
export function undocumentedApiRoutes(
  routes: readonly { method: string; path: string }[],
  document: JsonObject,
): string[] {
  const paths = isObject(document.paths) ? document.paths : {};
  const missing = new Set<string>();
  for (const { method, path } of routes) {
    // ALL: middleware; OPTIONS: CORS preflights, which OpenAPI does not document.
    if (method === "ALL" || method === "OPTIONS" || !path.startsWith("/api/")) continue;
    const openApiPath = path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");
    const item = paths[openApiPath];
    if (!isObject(item) || !isObject(item[method.toLowerCase()])) missing.add(`${method} ${openApiPath}`);
  }
  return [...missing];
}
