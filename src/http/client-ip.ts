// The client's address as the rate limits see it: behind N proxies of ours, the right-most X-Forwarded-For
// entry they did not write; and one key per IPv4 address or per IPv6 /64. Plain TypeScript (no node:net),
// so the Workers entry shares it.
import { ipv6Groups } from "../lib/public-url";

/**
 * The client IP behind `trustedHops` reverse proxies of ours. Each proxy appends the address it received
 * the request from, so the entry `trustedHops` from the right is the first one none of ours vouches for;
 * anything left of it is whatever the client sent, and never chooses the key. Fewer entries than hops
 * (the request did not come through all of them): the socket's peer.
 */
export function forwardedClientIp(forwardedFor: string | undefined, trustedHops: number, socketAddress: string | undefined): string | undefined {
  if (trustedHops <= 0 || !forwardedFor) return socketAddress;
  // Several X-Forwarded-For header lines arrive joined with ", " (node:http does it): one list.
  const entries = forwardedFor.split(",").map((entry) => entry.trim());
  if (entries.length < trustedHops) return socketAddress;
  const entry = entries[entries.length - trustedHops];
  return entry ? entry : socketAddress;
}

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * The rate-limit key of an address: an IPv4 address as is (also when written IPv4-mapped, ::ffff:a.b.c.d,
 * as a dual-stack socket reports it); an IPv6 address by its /64, the block one subscriber gets, so
 * rotating through it does not buy more requests. Anything else (a proxy's "unknown") is its own key.
 */
export function rateLimitKeyOfIp(address: string): string {
  let text = address.trim().toLowerCase();
  if (text.startsWith("[")) text = text.slice(1, text.indexOf("]") > 0 ? text.indexOf("]") : undefined);
  if (IPV4.test(text)) return text;
  // "1.2.3.4:5678" (some proxies keep the port).
  const withPort = /^([\d.]+):\d+$/.exec(text);
  if (withPort && IPV4.test(withPort[1]!)) return withPort[1]!;
  const groups = ipv6Groups(text);
  if (!groups) return text;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff) {
    return `${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`;
  }
  return `${[g0, g1, g2, g3].map((g) => g.toString(16)).join(":")}::/64`;
}
