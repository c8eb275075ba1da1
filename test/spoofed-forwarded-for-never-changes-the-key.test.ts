// Behind N reverse proxies of ours (TRUST_PROXY_HOPS=N; TRUST_PROXY=true is N=1) the client IP is the
// X-Forwarded-For entry N from the right: the one our first proxy appended. Before, the FIRST entry was
// used, which the client writes itself, so every request could pick a fresh rate-limit key. Entries a
// client puts in front never change the key; a request with fewer entries than hops did not come through
// all our proxies and counts under the socket's address.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { forwardedClientIp } from "../src/http/client-ip";
import { startLocalService, type LocalService } from "./support/harness";

describe("the client IP behind trusted proxies", () => {
  it("is the entry N from the right, whatever the client put in front", () => {
    expect(forwardedClientIp("6.6.6.6, 198.51.100.23", 1, "10.0.0.2")).toBe("198.51.100.23");
    expect(forwardedClientIp("1.1.1.1, 6.6.6.6,198.51.100.23", 1, "10.0.0.2")).toBe("198.51.100.23");
    expect(forwardedClientIp("6.6.6.6, 198.51.100.23, 10.0.0.1", 2, "10.0.0.2")).toBe("198.51.100.23");
    expect(forwardedClientIp("198.51.100.23, 10.0.0.1", 2, "10.0.0.2")).toBe("198.51.100.23");
    // Fewer entries than hops, no header, no trust: the socket's peer.
    expect(forwardedClientIp("198.51.100.23", 2, "10.0.0.2")).toBe("10.0.0.2");
    expect(forwardedClientIp(undefined, 1, "10.0.0.2")).toBe("10.0.0.2");
    expect(forwardedClientIp("198.51.100.23", 0, "10.0.0.2")).toBe("10.0.0.2");
    // An empty slot where our proxy's entry should be does not let the client's entries through.
    expect(forwardedClientIp("6.6.6.6, ", 1, "10.0.0.2")).toBe("10.0.0.2");
  });

  it("reads TRUST_PROXY_HOPS, with TRUST_PROXY=true meaning one hop", () => {
    expect(loadConfig({}).http).toMatchObject({ trustProxyHops: 0, trustProxy: false });
    expect(loadConfig({ TRUST_PROXY: "true" }).http).toMatchObject({ trustProxyHops: 1, trustProxy: true });
    expect(loadConfig({ TRUST_PROXY_HOPS: "2" }).http).toMatchObject({ trustProxyHops: 2, trustProxy: true });
    expect(loadConfig({ TRUST_PROXY: "true", TRUST_PROXY_HOPS: "3" }).http.trustProxyHops).toBe(3);
    expect(() => loadConfig({ TRUST_PROXY_HOPS: "-1" })).toThrow(/TRUST_PROXY_HOPS/);
  });
});

for (const hops of [1, 2]) {
  describe(`the rate-limit key with TRUST_PROXY_HOPS=${hops}`, () => {
    let service: LocalService;
    beforeAll(async () => {
      service = await startLocalService({ TRUST_PROXY_HOPS: String(hops), RATE_LIMIT_PER_MINUTE: "3", RATE_LIMIT_VOTER_WRITES_PER_IP_PER_MINUTE: "2" });
    });
    afterAll(async () => {
      await service?.stop();
    });

    // What our proxies append after the client's address: hops - 1 addresses of our own.
    const ours = Array.from({ length: hops - 1 }, (_, i) => `10.0.0.${i + 1}`);
    const chain = (spoofed: string[], client: string) => [...spoofed, client, ...ours].join(", ");
    const quote = (forwardedFor: string) => fetch(`${service.url}/api/v1/quote?maxResponses=100`, { headers: { "x-forwarded-for": forwardedFor } });

    it("never changes with spoofed leading entries", async () => {
      const client = "198.51.100.23";
      const spoofs = [[], ["1.2.3.4"], ["5.6.7.8", "9.9.9.9"], ["2001:db8::1", "unknown", "203.0.113.1"]];
      const statuses: number[] = [];
      for (const spoofed of spoofs) statuses.push((await quote(chain(spoofed, client))).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await quote(chain(["7.7.7.7"], client));
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({ error: { code: "rate_limited", details: { rule: "per-ip" } } });
      // The key is that entry: another client behind the same proxies has its own counter.
      expect((await quote(chain(["1.2.3.4"], "198.51.100.24"))).status).toBe(200);
    });

    it("never changes the voter-write key either", async () => {
      const request = (spoofed: string[], i: number) =>
        fetch(`${service.url}/api/v1/polls/00000000-0000-4000-8000-000000000000/world-id-request`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": chain(spoofed, "198.51.100.77") },
          body: JSON.stringify({ optionId: "x", payoutAddress: `0x${String(i).padStart(40, "0")}` }),
        });
      expect([(await request([], 1)).status, (await request(["1.1.1.1"], 2)).status, (await request(["2.2.2.2", "3.3.3.3"], 3)).status]).toEqual([404, 404, 429]);
    });

    if (hops > 1) {
      it("counts a request with fewer entries than hops under the socket's address", async () => {
        // From 127.0.0.1, whatever the single entry says.
        const statuses: number[] = [];
        for (const entry of ["203.0.113.10", "203.0.113.11", "203.0.113.12", "203.0.113.13"]) statuses.push((await quote(entry)).status);
        expect(statuses).toEqual([200, 200, 200, 429]);
      });
    }
  });
}
