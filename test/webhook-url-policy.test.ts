// The callback URL rules are plain TypeScript (src/lib/public-url.ts, on ipaddr.js) so the Workers entry can use
// them; Node used node:net's BlockList and isIP. Here the pure address classification is checked against
// node:net on the same ranges, over edge cases and many random addresses, and the Workers options are
// pinned down: no IP literals, no DNS, and loopback http only behind the test-only switch.
import { BlockList, isIP } from "node:net";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { ipVersion, isNonPublicAddress, publicUrlProblem as callbackUrlProblem } from "../src/lib/public-url";
import { unresolvedDeliverableUrl, UndeliverableUrlError } from "../src/webhook/url-policy";
import { configVariables, workerConfig } from "../src/worker-config";

// The Node implementation before the split (src/webhook/callback-url.ts at the webhooks commit), verbatim:
// node:net BlockList and isIP. The reference the pure implementation must agree with.
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
function originalIsNonPublicAddress(address: string): boolean {
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

const referenceNonPublic = originalIsNonPublicAddress;

let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const byte = () => Math.floor(random() * 256);
const group = () => Math.floor(random() * 0x10000).toString(16);

describe("pure IP classification (the same answers as node:net)", () => {
  const edges = [
    "0.0.0.0", "9.255.255.255", "10.0.0.0", "10.255.255.255", "11.0.0.0", "100.63.255.255", "100.64.0.0", "100.127.255.255",
    "100.128.0.0", "126.255.255.255", "127.0.0.1", "128.0.0.0", "169.253.255.255", "169.254.169.254", "169.255.0.0",
    "172.15.255.255", "172.16.0.0", "172.31.255.255", "172.32.0.0", "192.0.0.255", "192.0.1.0", "192.0.2.1", "192.88.99.1",
    "192.167.255.255", "192.168.0.1", "192.169.0.0", "198.17.255.255", "198.18.0.0", "198.19.255.255", "198.20.0.0",
    "198.51.100.7", "203.0.113.9", "223.255.255.255", "224.0.0.0", "239.255.255.255", "240.0.0.1", "255.255.255.255",
    "8.8.8.8", "93.184.215.14", "::", "::1", "::2", "fe80::1", "fe80::1%eth0", "febf:ffff::1", "fec0::1", "fc00::1",
    "fdff:ffff::1", "fe00::1", "ff02::1", "2001:db8::1", "2001:db9::1", "2001::1", "2001:1::1", "2002:808:808::1",
    "2606:4700:4700::1111", "64:ff9b:1::1", "64:ff9b:2::1", "100::1", "100:0:0:1::1", "::ffff:127.0.0.1", "::ffff:8.8.8.8",
    "::ffff:10.1.2.3", "::10.1.2.3", "1:2:3:4:5:6:7:8", "2a00:1450:4001:81c::200e",
  ];

  it.each(edges)("%s", (address) => {
    expect(ipVersion(address)).toBe(isIP(address.replace(/%.*$/, "")));
    expect(isNonPublicAddress(address)).toBe(referenceNonPublic(address));
  });

  it("agrees on 20,000 random IPv4 and IPv6 addresses", () => {
    for (let i = 0; i < 10_000; i += 1) {
      const address = `${byte()}.${byte()}.${byte()}.${byte()}`;
      expect(isNonPublicAddress(address), address).toBe(referenceNonPublic(address));
    }
    const prefixes = ["fc", "fd", "fe8", "fe9", "fec", "ff0", "200", "2001:db8", "2001:0", "2002", "64:ff9b:0:0:0", "64:ff9b:1", "100:0:0:0", "0:0:0:0:ffff", "2a0", "260"];
    let checked = 0;
    for (let i = 0; i < 10_000; i += 1) {
      const head = i % 2 === 0 ? prefixes[i % prefixes.length]! : group();
      const address = `${head}${head.includes(":") ? "" : group().slice(0, Math.max(0, 4 - head.length))}:${group()}:${group()}::${group()}`;
      if (isIP(address) !== 6) continue;
      checked += 1;
      expect(ipVersion(address), address).toBe(6);
      expect(isNonPublicAddress(address), address).toBe(referenceNonPublic(address));
    }
    expect(checked).toBeGreaterThan(5_000);
  });

  it("refuses what is not an address at all", () => {
    for (const text of ["", "localhost", "1.2.3", "1.2.3.256", "01.2.3.4", "1::2::3", "12345::1", "1g::1", "::ffff:1.2.300.4"]) {
      expect(ipVersion(text), text).toBe(isIP(text));
      expect(isNonPublicAddress(text), text).toBe(true);
    }
  });
});

describe("callback URLs on Workers", () => {
  const workers = { refuseIpLiterals: true };

  it("refuses every IP literal, public ones too, and keeps the production rules", () => {
    expect(callbackUrlProblem("https://93.184.215.14/hook", "production", workers)).toMatch(/host name/);
    expect(callbackUrlProblem("https://[2606:4700:4700::1111]/hook", "production", workers)).toMatch(/host name/);
    expect(callbackUrlProblem("https://93.184.215.14/hook", "production")).toBeUndefined();
    expect(callbackUrlProblem("https://hooks.agent-example.com/quali", "production", workers)).toBeUndefined();
    for (const url of ["http://hooks.agent-example.com/q", "https://localhost/q", "https://intranet/q", "https://metadata.google.internal/", "http://127.0.0.1:9/q"]) {
      expect(callbackUrlProblem(url, "production", workers), url).toBeDefined();
    }
  });

  it("allows plain http to loopback only behind the test switch", () => {
    const testing = { ...workers, allowLoopbackHttp: true };
    expect(callbackUrlProblem("http://127.0.0.1:9/hook", "production", testing)).toBeUndefined();
    expect(callbackUrlProblem("http://localhost:9/hook", "production", testing)).toBeUndefined();
    expect(callbackUrlProblem("http://[::1]:9/hook", "production", testing)).toBeUndefined();
    for (const url of ["http://10.0.0.5/hook", "http://hooks.agent-example.com/hook", "https://10.0.0.5/hook", "http://169.254.169.254/"]) {
      expect(callbackUrlProblem(url, "production", testing), url).toBeDefined();
    }
  });

  it("checks at delivery time without DNS and without pinning", async () => {
    const check = unresolvedDeliverableUrl(workers);
    await expect(check("https://hooks.agent-example.com/quali", "production")).resolves.toMatchObject({ addresses: [] });
    const refused = await check("https://10.0.0.5/hook", "production").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UndeliverableUrlError);
    expect((refused as UndeliverableUrlError).kind).toBe("url_not_allowed");
  });

  it("the test switch is refused with NODE_ENV=production", () => {
    expect(loadConfig({ MODE: "production", WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS: "true" }).webhook.allowLoopbackForTests).toBe(true);
    expect(loadConfig({ MODE: "production" }).webhook.allowLoopbackForTests).toBe(false);
    expect(() => loadConfig({ MODE: "production", NODE_ENV: "production", WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS: "true" })).toThrow(/WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS/);
  });
});

describe("the Worker's configuration", () => {
  it("reads the string bindings through loadConfig, in production mode only", () => {
    const env = { DB: {}, ASSETS: {}, PUBLIC_BASE_URL: "https://polls.example.org/", READ_TOKEN_SECRET: "x".repeat(40) };
    expect(configVariables(env)).toEqual({ PUBLIC_BASE_URL: "https://polls.example.org/", READ_TOKEN_SECRET: "x".repeat(40) });
    const config = workerConfig(env);
    expect(config.mode).toBe("production");
    expect(config.publicBaseUrl).toBe("https://polls.example.org");
    expect(config.problems.map((p) => p.variable)).toContain("OPENAI_API_KEY");
    expect(workerConfig({ ...env, MODE: "production" }).mode).toBe("production");
    expect(() => workerConfig({ ...env, MODE: "local" })).toThrow(/production mode only/);
  });
});
