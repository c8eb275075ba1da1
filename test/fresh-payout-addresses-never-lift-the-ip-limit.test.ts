// Voter writes (World ID requests, votes, payout requests) are counted per client IP as well as per voter.
// The per-voter key is the payout address in the body, which the caller picks: before, 40 of 40 World ID
// requests from one IP with fresh addresses were answered (each a row and a relying-party signature).
// Now one IP gets RATE_LIMIT_VOTER_WRITES_PER_IP_PER_MINUTE of them a minute, whatever the addresses; the
// refused ones are the usual 429 envelope with X-RateLimit-* and Retry-After, and write nothing. IPv6
// clients count per /64 and an IPv4-mapped address is its IPv4 address.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rateLimitKeyOfIp } from "../src/http/client-ip";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

const address = (i: number) => `0x${(i + 1).toString(16).padStart(40, "0")}`;
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

describe("voter writes from one IP", () => {
  let service: LocalService;
  let poll: CreatedPoll;
  beforeAll(async () => {
    service = await startLocalService({ RATE_LIMIT_VOTER_WRITES_PER_IP_PER_MINUTE: "120" });
    poll = await createPaidPoll(service);
  });
  afterAll(async () => {
    await service?.stop();
  });

  it("200 World ID requests with 200 fresh payout addresses: 120 answered, 80 refused with 429, nothing written for them", async () => {
    const seen: { status: number; limit: string | null; remaining: string | null; reset: string | null; retryAfter: string | null; body: any }[] = [];
    for (let i = 0; i < 200; i++) {
      const response = await post(`${service.url}/api/v1/polls/${poll.id}/world-id-request`, { optionId: poll.options[0]!.id, payoutAddress: address(i) });
      seen.push({
        status: response.status,
        limit: response.headers.get("x-ratelimit-limit"),
        remaining: response.headers.get("x-ratelimit-remaining"),
        reset: response.headers.get("x-ratelimit-reset"),
        retryAfter: response.headers.get("retry-after"),
        body: await response.json(),
      });
    }
    expect(seen.slice(0, 120).map((s) => s.status)).toEqual(new Array(120).fill(200));
    expect(seen.slice(120).map((s) => s.status)).toEqual(new Array(80).fill(429));

    // Answered: the headers show the rule closest to refusing (per voter: 59 left of 60; then per IP).
    seen.slice(0, 120).forEach((s, i) => {
      expect(Number(s.remaining), `request ${i}`).toBe(Math.min(119 - i, 59));
      expect(s.limit).toBe(119 - i <= 59 ? "120" : "60");
    });
    for (const refused of seen.slice(120)) {
      expect(refused.body).toEqual({
        error: {
          code: "rate_limited",
          message: expect.stringContaining("at most 120 per 60 s"),
          details: { limit: 120, windowSeconds: 60, rule: "voter-writes-per-ip" },
        },
      });
      expect(refused.limit).toBe("120");
      expect(refused.remaining).toBe("0");
      expect(Number(refused.reset)).toBeGreaterThan(Date.now() / 1000);
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    }
    const rows = await service.store.db.selectFrom("world_id_requests").select("payout_address").where("poll_id", "=", poll.id).execute();
    expect(rows).toHaveLength(120);
    expect(new Set(rows.map((r) => r.payout_address.toLowerCase()))).toEqual(new Set(Array.from({ length: 120 }, (_, i) => address(i))));
  });

  it("refuses that IP's votes and payout requests too, before their bodies are looked at, and writes nothing", async () => {
    const vote = await post(`${service.url}/api/v1/polls/${poll.id}/votes`, { optionId: poll.options[0]!.id, payoutAddress: address(500), proof: {} });
    const payout = await post(`${service.url}/api/v1/voter/payouts`, { address: address(501) });
    for (const response of [vote, payout]) {
      expect(response.status).toBe(429);
      expect(response.headers.get("x-ratelimit-limit")).toBe("120");
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    }
    expect(await service.store.db.selectFrom("votes").select("id").execute()).toHaveLength(0);
    expect(await service.store.db.selectFrom("payouts").select("id").execute()).toHaveLength(0);
    // Reads are not voter writes: the voter feed still answers.
    expect((await fetch(`${service.url}/api/v1/voter/polls`)).status).toBe(200);
  });
});

describe("the per-IP key", () => {
  it("is the IPv4 address, the IPv4 inside an IPv4-mapped IPv6 address, or the IPv6 /64", () => {
    expect(rateLimitKeyOfIp("203.0.113.7")).toBe("203.0.113.7");
    expect(rateLimitKeyOfIp("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(rateLimitKeyOfIp("::FFFF:cb00:7107")).toBe("203.0.113.7");
    expect(rateLimitKeyOfIp("[::ffff:203.0.113.7]")).toBe("203.0.113.7");
    expect(rateLimitKeyOfIp("203.0.113.7:51234")).toBe("203.0.113.7");
    expect(rateLimitKeyOfIp("2001:db8:aa:1::1")).toBe("2001:db8:aa:1::/64");
    expect(rateLimitKeyOfIp("2001:0DB8:00aa:0001:ffff:ffff:ffff:ffff")).toBe("2001:db8:aa:1::/64");
    expect(rateLimitKeyOfIp("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(rateLimitKeyOfIp("2001:db8:aa:2::1")).not.toBe(rateLimitKeyOfIp("2001:db8:aa:1::1"));
    expect(rateLimitKeyOfIp("unknown")).toBe("unknown");
  });

  describe("through a proxy", () => {
    let service: LocalService;
    beforeAll(async () => {
      service = await startLocalService({ TRUST_PROXY_HOPS: "1", RATE_LIMIT_VOTER_WRITES_PER_IP_PER_MINUTE: "2", RATE_LIMIT_VOTES_PER_MINUTE: "1" });
    });
    afterAll(async () => {
      await service?.stop();
    });

    const request = (client: string, i: number) =>
      post(`${service.url}/api/v1/polls/00000000-0000-4000-8000-000000000000/world-id-request`, { optionId: "x", payoutAddress: address(i) }, { "x-forwarded-for": client });

    it("counts every address of one IPv6 /64 together, and another /64 apart", async () => {
      expect((await request("2001:db8:aa:1::1", 1)).status).toBe(404);
      expect((await request("2001:db8:aa:1:ffff:ffff:ffff:ffff", 2)).status).toBe(404);
      const third = await request("2001:db8:aa:1::1234", 3);
      expect(third.status).toBe(429);
      expect(((await third.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
      expect((await request("2001:db8:aa:2::1", 4)).status).toBe(404);
    });

    it("answers a refusal with the headers of the rule that refused it", async () => {
      // Per IP: 1 of 2 left after the first; per voter: 1 allowed, so the second is refused per voter.
      expect((await request("192.0.2.50", 9)).status).toBe(404);
      const refused = await request("192.0.2.50", 9);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("x-ratelimit-limit")).toBe("1");
      expect(refused.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(await refused.json()).toMatchObject({ error: { code: "rate_limited", details: { rule: "per-voter", limit: 1 } } });
    });

    it("counts an IPv4-mapped IPv6 address as its IPv4 address", async () => {
      expect((await request("198.51.100.9", 5)).status).toBe(404);
      expect((await request("::ffff:198.51.100.9", 6)).status).toBe(404);
      expect((await request("198.51.100.9", 7)).status).toBe(429);
    });
  });
});
