// Where a poll may send its webhook (SSRF protection), in plain TypeScript with no runtime module (no
// node:net, no node:dns), so the same code runs on Node and on Cloudflare Workers. The URL rule itself is
// shared with the poll's other links (src/lib/public-url.ts); this module adds the delivery-time checks:
//
// - `checkDeliverableUrl`, with DNS: the rule, then every address the host resolves to must be public in
//   production. Node runs it with the system resolver and pins the connection to the vetted addresses
//   (src/webhook/callback-url.ts, src/webhook/transport.ts).
// - `unresolvedDeliverableUrl`, without DNS (Workers: no resolver, and Workers' egress cannot reach
//   private networks).
import type { Mode } from "../config";
import { bareHost, ipVersion, isLoopbackHost, isNonPublicAddress, publicUrlProblem, type PublicUrlOptions } from "../lib/public-url";

/** Per-runtime adjustments of the callback URL rule (Workers refuse IP literals; a test switch allows loopback http). */
export type CallbackUrlOptions = PublicUrlOptions;

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (A and AAAA). Injectable for tests. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export type UndeliverableKind = "url_not_allowed" | "address_not_public" | "dns_error";

/** The URL may not be delivered to now. `retryable` only for DNS failures (the name may resolve later). */
export class UndeliverableUrlError extends Error {
  override name = "UndeliverableUrlError";
  constructor(
    readonly kind: UndeliverableKind,
    message: string,
  ) {
    super(message);
  }
  get retryable(): boolean {
    return this.kind === "dns_error";
  }
}

export interface DeliverableTarget {
  url: URL;
  /** The vetted addresses: a pinning transport connects to these and nothing else. Empty: not resolved. */
  addresses: ResolvedAddress[];
}

/** The delivery-time check for a runtime: throws UndeliverableUrlError, or says where to deliver. */
export type DeliverableTargetCheck = (raw: string, mode: Mode) => Promise<DeliverableTarget>;

/**
 * The delivery-time check with DNS. Throws UndeliverableUrlError; otherwise returns the addresses to
 * connect to. Production: every resolved address must be public. Local mode: the creation rule only
 * (development receivers live on loopback), but the connection is still pinned to what was resolved here.
 */
export async function checkDeliverableUrl(
  raw: string,
  mode: Mode,
  resolver: Resolver,
  options: CallbackUrlOptions = {},
): Promise<DeliverableTarget> {
  const problem = publicUrlProblem(raw, mode, options);
  if (problem) throw new UndeliverableUrlError("url_not_allowed", `callback URL ${problem}`);
  const url = new URL(raw);
  const host = bareHost(url.hostname);
  let addresses: ResolvedAddress[];
  const version = ipVersion(host);
  if (version !== 0) {
    addresses = [{ address: host, family: version }];
  } else {
    try {
      addresses = await resolver(host);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new UndeliverableUrlError("dns_error", `could not resolve the callback host${typeof code === "string" ? ` (${code})` : ""}`);
    }
    if (addresses.length === 0) throw new UndeliverableUrlError("dns_error", "the callback host has no address");
  }
  if (mode === "production" && !(options.allowLoopbackHttp && isLoopbackHost(url.hostname))) {
    const refused = addresses.find((a) => isNonPublicAddress(a.address));
    if (refused) {
      throw new UndeliverableUrlError("address_not_public", `the callback host resolves to a non-public address (${refused.address})`);
    }
  }
  return { url, addresses };
}

/**
 * The delivery-time check where there is no resolver (Cloudflare Workers): the URL rule only — no IP
 * literal, no local or single-label name — and no DNS. Safe there because Workers' outbound fetch does not
 * reach private networks; the connection is not pinned (`addresses` is empty).
 */
export function unresolvedDeliverableUrl(options: CallbackUrlOptions = {}): DeliverableTargetCheck {
  return async (raw, mode) => {
    const problem = publicUrlProblem(raw, mode, options);
    if (problem) throw new UndeliverableUrlError("url_not_allowed", `callback URL ${problem}`);
    return { url: new URL(raw), addresses: [] };
  };
}
