// Where a poll may send its webhook (SSRF protection): the rules themselves, in plain TypeScript with no
// runtime module (no node:net, no node:dns), so the same code runs on Node and on Cloudflare Workers.
//
// - `callbackUrlProblem` (synchronous, no DNS), at creation and again at every delivery attempt: local
//   mode allows https anywhere and plain http to loopback only (development); production requires https
//   to a public host — no credentials, no IP literal in a non-public range, no single-label or
//   local-suffix names. Options tighten or (for tests) loosen it per runtime: Workers also refuse every
//   IP literal (`refuseIpLiterals`), and a Worker under `wrangler dev` may allow plain http to loopback
//   (`allowLoopbackHttp`, WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS).
// - `checkDeliverableUrl`, the delivery-time check with DNS: the rule above, then every address the host
//   resolves to must be public in production. Node runs it with the system resolver and pins the
//   connection to the vetted addresses (src/webhook/callback-url.ts, src/webhook/transport.ts).
// - `unresolvedDeliverableUrl`, the delivery-time check without DNS (Workers: no resolver, and Workers'
//   egress cannot reach private networks).
import type { Mode } from "../config";

const IPV4_OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)";
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);
const HEX_GROUP = /^[0-9a-f]{1,4}$/;

/** The four octets of a dotted-quad IPv4 address, or undefined. */
function ipv4Octets(text: string): [number, number, number, number] | undefined {
  if (!IPV4.test(text)) return undefined;
  return text.split(".").map(Number) as [number, number, number, number];
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined if it is not one. */
export function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%[0-9a-z\-.:]+$/, "");
  if (!text.includes(":")) return undefined;
  const dotted = /:((?:\d{1,3}\.){3}\d{1,3})$/.exec(text);
  if (dotted) {
    const octets = ipv4Octets(dotted[1]!);
    if (!octets) return undefined;
    const [a, b, c, d] = octets;
    text = `${text.slice(0, dotted.index + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined): number[] | undefined => {
    if (!part) return [];
    const groups = part.split(":");
    if (!groups.every((group) => HEX_GROUP.test(group))) return undefined;
    return groups.map((group) => Number.parseInt(group, 16));
  };
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  if (!head || !tail) return undefined;
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return undefined;
    return [...head, ...new Array<number>(fill).fill(0), ...tail];
  }
  return head.length === 8 ? head : undefined;
}

/** 4 or 6 when `text` is an IPv4 (dotted quad) or IPv6 address (zone id allowed), else 0: node:net's isIP. */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (IPV4.test(text)) return 4;
  return ipv6Groups(text) ? 6 : 0;
}

// IPv4 ranges that are not the public internet: [network, prefix length].
const PRIVATE_V4: readonly (readonly [string, number])[] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // CGNAT (also Alibaba Cloud metadata 100.100.100.200)
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, cloud metadata (169.254.169.254)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation (TEST-NET-1)
  ["192.88.99.0", 24], // 6to4 relay anycast (deprecated)
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation (TEST-NET-2)
  ["203.0.113.0", 24], // documentation (TEST-NET-3)
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

// IPv6 ranges that are not the public internet.
const PRIVATE_V6: readonly (readonly [string, number])[] = [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["64:ff9b:1::", 48], // local-use NAT64
  ["100::", 64], // discard
  ["2001::", 32], // Teredo (hides an IPv4 address)
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local (also AWS metadata fd00:ec2::254)
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
];

const v4Number = (octets: readonly number[]) => ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;

const PRIVATE_V4_RANGES = PRIVATE_V4.map(([network, prefix]) => {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (v4Number(ipv4Octets(network)!) & mask) >>> 0, mask };
});

const PRIVATE_V6_RANGES = PRIVATE_V6.map(([network, prefix]) => ({ groups: ipv6Groups(network)!, prefix }));

function inV6Range(groups: readonly number[], range: { groups: readonly number[]; prefix: number }): boolean {
  let bits = range.prefix;
  for (let i = 0; i < 8 && bits > 0; i += 1, bits -= 16) {
    const take = Math.min(16, bits);
    const mask = (0xffff << (16 - take)) & 0xffff;
    if ((groups[i]! & mask) !== (range.groups[i]! & mask)) return false;
  }
  return true;
}

function isNonPublicV4(octets: readonly number[]): boolean {
  const value = v4Number(octets);
  return PRIVATE_V4_RANGES.some(({ base, mask }) => ((value & mask) >>> 0) === base);
}

/** The IPv4 address an IPv6 address embeds (mapped, compatible, NAT64 well-known prefix, 6to4), if any. */
function embeddedIpv4(groups: readonly number[]): number[] | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  const v4 = (high: number, low: number) => [high >> 8, high & 0xff, low >> 8, low & 0xff];
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroPrefix && (g5 === 0xffff || g5 === 0)) return v4(g6, g7); // ::ffff:a.b.c.d, ::a.b.c.d
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4(g6, g7); // 64:ff9b::/96
  if (g0 === 0x2002) return v4(g1, g2); // 6to4
  return undefined;
}

/** True for loopback, private, link-local, CGNAT, metadata and other non-public addresses (and non-addresses). */
export function isNonPublicAddress(address: string): boolean {
  const v4 = ipv4Octets(address);
  if (v4) return isNonPublicV4(v4);
  const groups = ipv6Groups(address);
  if (!groups) return true; // not an address at all: refuse
  const embedded = embeddedIpv4(groups);
  if (embedded !== undefined) return isNonPublicV4(embedded);
  return PRIVATE_V6_RANGES.some((range) => inV6Range(groups, range));
}

const LOCAL_NAME = /(^|\.)(localhost|local|internal|intranet|corp|lan|home|home\.arpa|localdomain|test|invalid|example)$/i;

const bareHost = (hostname: string) => hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "");

function isLoopbackHost(hostname: string): boolean {
  const host = bareHost(hostname).toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const v4 = ipv4Octets(host);
  if (v4) return v4[0] === 127;
  const groups = ipv6Groups(host);
  return groups !== undefined && groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1;
}

/** Per-runtime adjustments of the callback URL rule. */
export interface CallbackUrlOptions {
  /** Refuse every IP literal, public or not (Workers: fetch to a bare IP is not how callbacks are reached). */
  refuseIpLiterals?: boolean;
  /** Also allow plain http to loopback in production mode. Test-only (WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS). */
  allowLoopbackHttp?: boolean;
}

/** Returns an error message, or undefined when the URL is acceptable in this mode (no DNS involved). */
export function callbackUrlProblem(raw: string, mode: Mode, options: CallbackUrlOptions = {}): string | undefined {
  if (!URL.canParse(raw)) return "must be an absolute URL";
  const url = new URL(raw);
  if (url.username || url.password) return "must not contain credentials";
  const host = bareHost(url.hostname);
  if (host === "") return "must have a host";
  if (url.protocol === "http:") {
    if ((mode === "local" || options.allowLoopbackHttp) && isLoopbackHost(url.hostname)) return undefined;
    return mode === "local" ? "must be HTTPS (plain http is allowed only to loopback in local mode)" : "must be HTTPS";
  }
  if (url.protocol !== "https:") return "must be HTTPS";
  const literal = ipVersion(host) !== 0;
  if (options.refuseIpLiterals && literal) return "must use a host name, not an IP address";
  if (mode === "production") {
    if (literal && isNonPublicAddress(host)) return "must point at a public address";
    if (!literal && (LOCAL_NAME.test(host) || !host.includes("."))) return "must point at a public host name";
  }
  return undefined;
}

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
  const problem = callbackUrlProblem(raw, mode, options);
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
    const problem = callbackUrlProblem(raw, mode, options);
    if (problem) throw new UndeliverableUrlError("url_not_allowed", `callback URL ${problem}`);
    return { url: new URL(raw), addresses: [] };
  };
}
