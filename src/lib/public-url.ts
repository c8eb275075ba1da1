// Which URLs may point at the outside world: a poll's callbackUrl, its media and more-info links. One rule,
// checked without DNS, in plain TypeScript (no node:net) so Node and Cloudflare Workers share it: local mode
// allows https anywhere and plain http to loopback only; production requires https to a public host — no
// credentials, no IP literal in a non-public range, no single-label or local-suffix names. Options tighten
// or (for tests) loosen it per runtime.
import ipaddr from "ipaddr.js";
import type { Mode } from "../config";

// Address ranges that are not the public internet. IPv6 forms that embed an IPv4 address (mapped,
// compatible, NAT64, 6to4) are judged by the IPv4 address they embed.
const NON_PUBLIC_V4 = [
  "0.0.0.0/8", // "this network"
  "10.0.0.0/8", // private
  "100.64.0.0/10", // CGNAT (also Alibaba Cloud metadata 100.100.100.200)
  "127.0.0.0/8", // loopback
  "169.254.0.0/16", // link-local, cloud metadata (169.254.169.254)
  "172.16.0.0/12", // private
  "192.0.0.0/24", // IETF protocol assignments
  "192.0.2.0/24", // documentation (TEST-NET-1)
  "192.88.99.0/24", // 6to4 relay anycast (deprecated)
  "192.168.0.0/16", // private
  "198.18.0.0/15", // benchmarking
  "198.51.100.0/24", // documentation (TEST-NET-2)
  "203.0.113.0/24", // documentation (TEST-NET-3)
  "224.0.0.0/4", // multicast
  "240.0.0.0/4", // reserved, broadcast
].map((cidr) => ipaddr.IPv4.parseCIDR(cidr));

const NON_PUBLIC_V6 = [
  "::/128", // unspecified
  "::1/128", // loopback
  "64:ff9b:1::/48", // local-use NAT64
  "100::/64", // discard
  "2001::/32", // Teredo (hides an IPv4 address)
  "2001:db8::/32", // documentation
  "fc00::/7", // unique local (also AWS metadata fd00:ec2::254)
  "fe80::/10", // link-local
  "fec0::/10", // site-local (deprecated)
  "ff00::/8", // multicast
].map((cidr) => ipaddr.IPv6.parseCIDR(cidr));

const zoneless = (text: string) => text.replace(/%.*$/, "");

function parseV4(text: string): ipaddr.IPv4 | undefined {
  // Dotted quad only (no octal, hex or short forms), as node:net's isIP.
  return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text) : undefined;
}

function parseV6(text: string): ipaddr.IPv6 | undefined {
  if (!text.includes(":") || !ipaddr.IPv6.isValid(text)) return undefined;
  // An embedded IPv4 part must be a strict dotted quad too.
  const dotted = /:([^:]*\.[^:]*)$/.exec(zoneless(text));
  if (dotted && !ipaddr.IPv4.isValidFourPartDecimal(dotted[1]!)) return undefined;
  return ipaddr.IPv6.parse(text);
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined if it is not one. */
export function ipv6Groups(address: string): number[] | undefined {
  return parseV6(address.toLowerCase())?.parts;
}

/** 4 or 6 when `text` is an IPv4 (dotted quad) or IPv6 address (zone id allowed), else 0: node:net's isIP. */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (parseV4(text)) return 4;
  return parseV6(text) ? 6 : 0;
}

/** The IPv4 address an IPv6 address embeds (mapped, compatible, NAT64 well-known prefix, 6to4), if any. */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = address.parts as [number, number, number, number, number, number, number, number];
  const v4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroPrefix && (g5 === 0xffff || g5 === 0)) return v4(g6, g7); // ::ffff:a.b.c.d, ::a.b.c.d
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4(g6, g7); // 64:ff9b::/96
  if (g0 === 0x2002) return v4(g1, g2); // 6to4
  return undefined;
}

const isNonPublicV4 = (address: ipaddr.IPv4) => NON_PUBLIC_V4.some((range) => address.match(range));

/** True for loopback, private, link-local, CGNAT, metadata and other non-public addresses (and non-addresses). */
export function isNonPublicAddress(address: string): boolean {
  const v4 = parseV4(address);
  if (v4) return isNonPublicV4(v4);
  const v6 = parseV6(address.toLowerCase());
  if (!v6) return true; // not an address at all: refuse
  const embedded = embeddedIpv4(v6);
  if (embedded) return isNonPublicV4(embedded);
  return NON_PUBLIC_V6.some((range) => v6.match(range));
}

const LOCAL_NAME = /(^|\.)(localhost|local|internal|intranet|corp|lan|home|home\.arpa|localdomain|test|invalid|example)$/i;

/** A URL's hostname without IPv6 brackets or a trailing dot. */
export const bareHost = (hostname: string) => hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "");

export function isLoopbackHost(hostname: string): boolean {
  const host = bareHost(hostname).toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const v4 = parseV4(host);
  if (v4) return v4.octets[0] === 127;
  const v6 = parseV6(host);
  return v6 !== undefined && v6.parts.slice(0, 7).every((g) => g === 0) && v6.parts[7] === 1;
}

/** Per-runtime adjustments of the rule. */
export interface PublicUrlOptions {
  /** Refuse every IP literal, public or not (Workers: fetch to a bare IP is not how callbacks are reached). */
  refuseIpLiterals?: boolean;
  /** Also allow plain http to loopback in production mode. Test-only (WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS). */
  allowLoopbackHttp?: boolean;
}

/** Returns an error message, or undefined when the URL is acceptable in this mode (no DNS involved). */
export function publicUrlProblem(raw: string, mode: Mode, options: PublicUrlOptions = {}): string | undefined {
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
