// Where a poll may send its webhook. At creation we refuse what is visibly internal; delivery
// re-checks the resolved address (a public name can point at a private one).
import { BlockList, isIP } from "node:net";

const privateRanges = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  privateRanges.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
] as const) {
  privateRanges.addSubnet(network, prefix, "ipv6");
}

/** True for loopback, private, link-local, CGNAT, metadata and other non-public addresses. */
export function isNonPublicAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return privateRanges.check(address, "ipv4");
  if (version === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return privateRanges.check(mapped[1]!, "ipv4");
    return privateRanges.check(address, "ipv6");
  }
  return false;
}

const LOCAL_NAME = /(^|\.)(localhost|local|internal|lan|home\.arpa|localdomain)$/i;

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
}

/** Returns an error message, or undefined when the URL is acceptable in this mode. */
export function callbackUrlProblem(raw: string, mode: "local" | "production"): string | undefined {
  if (!URL.canParse(raw)) return "must be an absolute URL";
  const url = new URL(raw);
  if (url.username || url.password) return "must not contain credentials";
  const host = url.hostname.replace(/^\[|\]$/g, "");
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
