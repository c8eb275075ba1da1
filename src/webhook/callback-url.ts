// Where a poll may send its webhook (SSRF protection), checked twice:
//
// - at creation (`callbackUrlProblem`, synchronous, no DNS): local mode allows https anywhere and plain
//   http to loopback only (development); production requires https to a public host — no credentials,
//   no IP literal in a non-public range, no single-label or local-suffix names;
// - at every delivery attempt (`assertDeliverableUrl`): the same rule, then the host is resolved and, in
//   production, refused if ANY resolved address is non-public (loopback, private, link-local, CGNAT,
//   cloud metadata, multicast, reserved, and IPv6 forms that embed such an IPv4 address). The caller
//   connects to the vetted addresses only (src/webhook/transport.ts pins them), so a DNS answer that
//   changes between the check and the connection (rebinding) cannot bypass it. Redirects are never
//   followed.
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import type { Mode } from "../config";

const privateV4 = new BlockList();
for (const [network, prefix] of [
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
] as const) {
  privateV4.addSubnet(network, prefix, "ipv4");
}

const privateV6 = new BlockList();
for (const [network, prefix] of [
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
] as const) {
  privateV6.addSubnet(network, prefix, "ipv6");
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined if it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/, "");
  const dotted = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined) => (part ? part.split(":").map((group) => Number.parseInt(group, 16)) : []);
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...new Array<number>(Math.max(0, fill)).fill(0), ...tail];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined;
  return groups;
}

const v4From = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;

/** The IPv4 address an IPv6 address embeds (mapped, compatible, NAT64 well-known prefix, 6to4), if any. */
function embeddedIpv4(groups: readonly number[]): string | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroPrefix && (g5 === 0xffff || g5 === 0)) return v4From(g6, g7); // ::ffff:a.b.c.d, ::a.b.c.d
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4From(g6, g7); // 64:ff9b::/96
  if (g0 === 0x2002) return v4From(g1, g2); // 6to4
  return undefined;
}

/** True for loopback, private, link-local, CGNAT, metadata and other non-public addresses. */
export function isNonPublicAddress(address: string): boolean {
  const version = isIP(address.replace(/%.*$/, ""));
  if (version === 4) return privateV4.check(address, "ipv4");
  if (version === 6) {
    const groups = ipv6Groups(address);
    if (!groups) return true;
    const v4 = embeddedIpv4(groups);
    if (v4 !== undefined) return privateV4.check(v4, "ipv4");
    return privateV6.check(address.replace(/%.*$/, ""), "ipv6");
  }
  return true; // not an address at all: refuse
}

const LOCAL_NAME = /(^|\.)(localhost|local|internal|intranet|corp|lan|home|home\.arpa|localdomain|test|invalid|example)$/i;

const bareHost = (hostname: string) => hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "");

function isLoopbackHost(hostname: string): boolean {
  const host = bareHost(hostname).toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) {
    const groups = ipv6Groups(host);
    return groups !== undefined && groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1;
  }
  return false;
}

/** Returns an error message, or undefined when the URL is acceptable in this mode (no DNS involved). */
export function callbackUrlProblem(raw: string, mode: Mode): string | undefined {
  if (!URL.canParse(raw)) return "must be an absolute URL";
  const url = new URL(raw);
  if (url.username || url.password) return "must not contain credentials";
  const host = bareHost(url.hostname);
  if (host === "") return "must have a host";
  if (url.protocol === "http:") {
    if (mode === "local" && isLoopbackHost(url.hostname)) return undefined;
    return mode === "local" ? "must be HTTPS (plain http is allowed only to loopback in local mode)" : "must be HTTPS";
  }
  if (url.protocol !== "https:") return "must be HTTPS";
  if (mode === "production") {
    if (isIP(host) !== 0 && isNonPublicAddress(host)) return "must point at a public address";
    if (isIP(host) === 0 && (LOCAL_NAME.test(host) || !host.includes("."))) return "must point at a public host name";
  }
  return undefined;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (A and AAAA). Injectable for tests. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

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
  /** The vetted addresses: connect to these and nothing else. */
  addresses: ResolvedAddress[];
}

/**
 * The delivery-time check. Throws UndeliverableUrlError; otherwise returns the addresses to connect to.
 * Production: every resolved address must be public. Local mode: the creation rule only (development
 * receivers live on loopback), but the connection is still pinned to what was resolved here.
 */
export async function assertDeliverableUrl(raw: string, mode: Mode, resolver: Resolver = systemResolver): Promise<DeliverableTarget> {
  const problem = callbackUrlProblem(raw, mode);
  if (problem) throw new UndeliverableUrlError("url_not_allowed", `callback URL ${problem}`);
  const url = new URL(raw);
  const host = bareHost(url.hostname);
  let addresses: ResolvedAddress[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await resolver(host);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new UndeliverableUrlError("dns_error", `could not resolve the callback host${typeof code === "string" ? ` (${code})` : ""}`);
    }
    if (addresses.length === 0) throw new UndeliverableUrlError("dns_error", "the callback host has no address");
  }
  if (mode === "production") {
    const refused = addresses.find((a) => isNonPublicAddress(a.address));
    if (refused) {
      throw new UndeliverableUrlError("address_not_public", `the callback host resolves to a non-public address (${refused.address})`);
    }
  }
  return { url, addresses };
}
