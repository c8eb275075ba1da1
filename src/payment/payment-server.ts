// The x402 side of POST /api/v1/polls: one official x402ResourceServer with the exact-EVM scheme per
// enabled network, the stock @x402/hono middleware for verify → handler → settle, and a cache of
// challenges so identical 402s (and quotes) are answered without rebuilding them.
import type { MiddlewareHandler } from "hono";
import { paymentMiddlewareFromHTTPServer } from "@x402/hono";
import {
  x402HTTPResourceServer,
  x402ResourceServer,
  type FacilitatorClient,
  type HTTPAdapter,
  type RouteConfig,
} from "@x402/core/server";
import { decodePaymentRequiredHeader, encodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import { bazaarResourceServerExtension, declareDiscoveryExtension } from "@x402/extensions/bazaar";
import {
  declarePaymentIdentifierExtension,
  PAYMENT_IDENTIFIER,
  paymentIdentifierResourceServerExtension,
} from "@x402/extensions/payment-identifier";
import { BoundedMap } from "../lib/bounded-map";
import type { EnabledNetwork } from "./networks";
import { pollPrice } from "./pricing";
import { spendCapNotice } from "./spend-caps";


export interface ServiceMetadata {
  /** Absolute URL agents pay for (and must echo in paymentPayload.resource.url). */
  resourceUrl: string;
  description: string;
  serviceName: string;
  tags: string[];
  iconUrl: string | undefined;
  /** bazaar: example request body, its JSON Schema, an example response and (optionally) its JSON Schema. */
  bazaar: {
    exampleBody: Record<string, unknown>;
    bodySchema: Record<string, unknown>;
    outputExample: unknown;
    outputSchema?: Record<string, unknown>;
  };
}

export interface Challenge {
  paymentRequired: PaymentRequired;
  /** The base64 PAYMENT-REQUIRED header value for exactly this object. */
  header: string;
  /** JSON.stringify(paymentRequired), serialised once: the 402 body as sent. */
  json: string;
}

export interface PaymentServer {
  readonly networks: readonly EnabledNetwork[];
  readonly metadata: ServiceMetadata;
  /** The stock @x402/hono middleware (verify, then the handler, then settle). */
  readonly middleware: MiddlewareHandler;
  /** True once the facilitator's /supported answered and every route network is supported. */
  isReady(): boolean;
  /** Contacts the facilitator; resolves false (and logs why) when it cannot be used yet. */
  initialize(): Promise<boolean>;
  lastInitError(): string | undefined;
  /** The 402 challenge for a poll of `maxResponses`, optionally narrowed to one network. */
  challenge(maxResponses: number, network?: string): Promise<Challenge>;
}

export interface PaymentServerOptions {
  networks: readonly EnabledNetwork[];
  /** The paid route's path as this app serves it (POST); default: the path of metadata.resourceUrl. */
  resourcePath?: string;
  facilitator: FacilitatorClient;
  metadata: ServiceMetadata;
  maxTimeoutSeconds: number;
  log?: (message: string) => void;
}

/** Distinct challenges kept (one per maxResponses, and per maxResponses and network for quotes). */
const CHALLENGE_CACHE_LIMIT = 2_000;

/** Request body reader shared by the price function and challenge building. */
function maxResponsesOf(body: unknown): number {
  const value = (body as { maxResponses?: unknown } | undefined)?.maxResponses;
  // The body was validated before the payment middleware runs; anything else prices at the minimum.
  return typeof value === "number" && Number.isInteger(value) && value >= 100 && value <= 1_000_000 ? value : 100;
}

export function createPaymentServer(options: PaymentServerOptions): PaymentServer {
  const { networks, metadata, facilitator } = options;
  const resourcePath = options.resourcePath ?? new URL(metadata.resourceUrl).pathname;
  const log = options.log ?? ((message: string) => console.log(message));

  const resourceServer = new x402ResourceServer(facilitator);
  for (const { spec } of networks) resourceServer.register(spec.network, new ExactEvmScheme());
  resourceServer.registerExtension(bazaarResourceServerExtension);
  resourceServer.registerExtension(paymentIdentifierResourceServerExtension);

  const routeConfig: RouteConfig = {
    resource: metadata.resourceUrl,
    description: metadata.description,
    mimeType: "application/json",
    serviceName: metadata.serviceName,
    tags: metadata.tags,
    ...(metadata.iconUrl ? { iconUrl: metadata.iconUrl } : {}),
    accepts: networks.map(({ spec, payTo }) => ({
      scheme: "exact",
      network: spec.network,
      payTo,
      maxTimeoutSeconds: options.maxTimeoutSeconds,
      // AssetAmount keeps money in atomic integers and works for networks missing from
      // @x402/evm's default asset table (World Chain).
      price: async (context) => ({
        asset: spec.usdc.address,
        amount: pollPrice(maxResponsesOf(await context.adapter.getBody?.())).costAtomic.toString(),
        extra: { name: spec.usdc.name, version: spec.usdc.version },
      }),
    })),
    extensions: {
      // Optional idempotency key (src/payment/payment-identifier.ts): a retry under it gets the same answer.
      [PAYMENT_IDENTIFIER]: declarePaymentIdentifierExtension(false),
      ...declareDiscoveryExtension({
        bodyType: "json",
        input: metadata.bazaar.exampleBody,
        inputSchema: metadata.bazaar.bodySchema,
        output: {
          example: metadata.bazaar.outputExample,
          ...(metadata.bazaar.outputSchema ? { schema: metadata.bazaar.outputSchema } : {}),
        },
      }),
    },
  };
  const routes = { [`POST ${resourcePath}`]: routeConfig };
  const httpServer = new x402HTTPResourceServer(resourceServer, routes);
  // We initialise ourselves (below) so a facilitator outage is a clear 503, not process.exit(1).
  const middleware = paymentMiddlewareFromHTTPServer(httpServer, undefined, undefined, false);

  let ready = false;
  let initError: string | undefined;
  let initializing: Promise<boolean> | undefined;
  const initialize = () => {
    if (ready) return Promise.resolve(true);
    initializing ??= httpServer
      .initialize()
      .then(() => {
        ready = true;
        initError = undefined;
        return true;
      })
      .catch((error: unknown) => {
        initError = error instanceof Error ? error.message : String(error);
        log(`payment: facilitator not usable yet: ${initError}`);
        return false;
      })
      .finally(() => {
        initializing = undefined;
      });
    return initializing;
  };

  // Challenges depend only on maxResponses: build each once through the real middleware path
  // (so a quote is byte-for-byte what POST would answer) and keep a bounded number of them.
  const challenges = new BoundedMap<number | string, Promise<Challenge>>(CHALLENGE_CACHE_LIMIT);
  const buildChallenge = async (maxResponses: number): Promise<Challenge> => {
    const adapter = syntheticPaidRequest(metadata.resourceUrl, resourcePath, { maxResponses });
    const result = await httpServer.processHTTPRequest({ adapter, path: resourcePath, method: "POST" });
    if (result.type !== "payment-error") throw new Error(`expected a 402 challenge, got ${result.type}`);
    const header = result.response.headers["PAYMENT-REQUIRED"];
    if (!header) throw new Error("the challenge has no PAYMENT-REQUIRED header");
    const paymentRequired = decodePaymentRequiredHeader(header);
    return withSpendCapNotice(paymentRequired, maxResponses, networks.map((n) => n.spec)) ?? { paymentRequired, header, json: JSON.stringify(paymentRequired) };
  };
  const cached = (key: number | string, build: () => Promise<Challenge>): Promise<Challenge> =>
    challenges.getOrSet(key, () => {
      const entry = build();
      // A failed build is not kept: the next request tries again.
      entry.catch(() => challenges.delete(key));
      return entry;
    });

  const challenge = (maxResponses: number, network?: string): Promise<Challenge> => {
    const full = cached(maxResponses, () => buildChallenge(maxResponses));
    if (!network) return full;
    // Narrowed to one network (quotes): derived from the full one, and cached as well.
    return cached(`${maxResponses}|${network}`, async () => {
      const built = await full;
      const paymentRequired = {
        ...built.paymentRequired,
        accepts: built.paymentRequired.accepts.filter((accept) => accept.network === network),
      };
      const narrowed = networks.filter((n) => n.spec.network === network).map((n) => n.spec);
      return (
        withSpendCapNotice(paymentRequired, maxResponses, narrowed) ?? {
          paymentRequired,
          header: encodePaymentRequiredHeader(paymentRequired),
          json: JSON.stringify(paymentRequired),
        }
      );
    });
  };

  return {
    networks,
    metadata,
    middleware,
    isReady: () => ready,
    initialize,
    lastInitError: () => initError,
    challenge,
  };
}

/**
 * The challenge of a poll a stock x402 client refuses to pay (over $1): its `error` says which setting
 * lifts the cap (src/payment/spend-caps.ts). Undefined when the price is within the stock cap.
 */
function withSpendCapNotice(
  paymentRequired: PaymentRequired,
  maxResponses: number,
  networks: readonly EnabledNetwork["spec"][],
): Challenge | undefined {
  const error = spendCapNotice(pollPrice(maxResponses).costAtomic, networks);
  if (error === undefined) return undefined;
  const noticed = { ...paymentRequired, error };
  return { paymentRequired: noticed, header: encodePaymentRequiredHeader(noticed), json: JSON.stringify(noticed) };
}

/** A request-shaped adapter for building the challenge outside of a live request. */
function syntheticPaidRequest(url: string, path: string, body: unknown): HTTPAdapter {
  return {
    getHeader: () => undefined,
    getMethod: () => "POST",
    getPath: () => path,
    getUrl: () => url,
    getAcceptHeader: () => "application/json",
    getUserAgent: () => "",
    getQueryParams: () => ({}),
    getQueryParam: () => undefined,
    getBody: async () => body,
  };
}
