// "A callbackUrl can never make the service call into a private network." Production mode requires https
// to a public address, checked at creation (no DNS) and again at every delivery attempt after resolving
// the host (any non-public address refuses it), connecting only to the vetted address and never following
// a redirect. The resolver is injected so names can resolve to private addresses on demand.
import { afterEach, describe, expect, it } from "vitest";
import { isNonPublicAddress, publicUrlProblem as callbackUrlProblem } from "../src/lib/public-url";
import { assertDeliverableUrl, UndeliverableUrlError, type Resolver } from "../src/webhook/callback-url";
import { dispatchDue } from "../src/webhook/dispatcher-node";
import { fetchTransport, pinnedHttpTransport, TransportError, type Transport } from "../src/webhook/transport";
import { testClock } from "./support/clock";
import { OUTBOX_CLOCK_START, outboxFixture, type OutboxFixture } from "./support/webhook-outbox";
import { startReceiver, type Receiver } from "./support/webhook-receiver";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const started = await startReceiver(...args);
  cleanups.push(() => started.close());
  return started;
}
function fixture(): OutboxFixture {
  const f = outboxFixture();
  cleanups.push(() => f.close());
  return f;
}

/** Resolves `name` to the given addresses; anything else is NXDOMAIN. */
function resolverFor(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: (address.includes(":") ? 6 : 4) as 4 | 6 }));
  };
  return Object.assign(resolve, { calls });
}

async function refusal(url: string, resolver: Resolver): Promise<UndeliverableUrlError> {
  try {
    await assertDeliverableUrl(url, "production", resolver);
  } catch (error) {
    if (error instanceof UndeliverableUrlError) return error;
    throw error;
  }
  throw new Error(`${url} was not refused`);
}

const PRIVATE_ADDRESSES: [string, string][] = [
  ["loopback", "127.0.0.1"],
  ["loopback (other)", "127.53.0.9"],
  ["this network", "0.0.0.0"],
  ["private 10/8", "10.0.0.5"],
  ["private 172.16/12", "172.31.255.254"],
  ["private 192.168/16", "192.168.1.1"],
  ["link-local", "169.254.10.10"],
  ["cloud metadata", "169.254.169.254"],
  ["CGNAT", "100.64.0.1"],
  ["Alibaba metadata (CGNAT)", "100.100.100.200"],
  ["benchmarking", "198.18.0.1"],
  ["documentation", "192.0.2.10"],
  ["multicast", "224.0.0.1"],
  ["broadcast", "255.255.255.255"],
  ["IPv6 loopback", "::1"],
  ["IPv6 unspecified", "::"],
  ["IPv6 unique local", "fd12:3456::1"],
  ["AWS IPv6 metadata", "fd00:ec2::254"],
  ["IPv6 link-local", "fe80::1"],
  ["IPv6 multicast", "ff02::1"],
  ["IPv4-mapped loopback", "::ffff:127.0.0.1"],
  ["IPv4-mapped metadata, hex form", "::ffff:a9fe:a9fe"],
  ["NAT64 of a private address", "64:ff9b::a00:5"],
  ["6to4 of a private address", "2002:c0a8:101::1"],
  ["Teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2"],
];

describe("SSRF: delivery-time check in production mode", () => {
  it.each(PRIVATE_ADDRESSES)("refuses a host name that resolves to %s (%s)", async (_label, address) => {
    expect(isNonPublicAddress(address)).toBe(true);
    const error = await refusal("https://hooks.agent-example.com/quali", resolverFor({ "hooks.agent-example.com": [address] }));
    expect(error.kind).toBe("address_not_public");
    expect(error.retryable).toBe(false);
  });

  it("refuses when ANY resolved address is private (a public A record beside a private one)", async () => {
    const error = await refusal(
      "https://mixed.agent-example.com/hook",
      resolverFor({ "mixed.agent-example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "10.1.2.3"] }),
    );
    expect(error.kind).toBe("address_not_public");
  });

  it("accepts public addresses and returns exactly the addresses it vetted", async () => {
    for (const address of ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) expect(isNonPublicAddress(address)).toBe(false);
    const target = await assertDeliverableUrl(
      "https://hooks.agent-example.com/quali",
      "production",
      resolverFor({ "hooks.agent-example.com": ["93.184.215.14", "2606:4700:4700::1111"] }),
    );
    expect(target.addresses).toEqual([
      { address: "93.184.215.14", family: 4 },
      { address: "2606:4700:4700::1111", family: 6 },
    ]);
  });

  it("refuses plain http, IP literals in private ranges (however spelled) and local names before resolving", async () => {
    const resolver = resolverFor({});
    for (const url of [
      "http://hooks.agent-example.com/quali",
      "https://10.0.0.5/hook",
      "https://[::1]/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://2130706433/hook", // 127.0.0.1 as one decimal number
      "https://0x7f.0.0.1/hook",
      "https://[::ffff:7f00:1]/hook",
      "https://localhost/hook",
      "https://localhost./hook",
      "https://metadata.google.internal/computeMetadata/v1/",
      "https://intranet/hook",
      "https://user:pass@hooks.agent-example.com/hook",
    ]) {
      const error = await refusal(url, resolver);
      expect(error.kind, url).toBe("url_not_allowed");
    }
    expect(resolver.calls).toEqual([]);
  });

  it("treats a name that does not resolve as retryable (dns_error)", async () => {
    const error = await refusal("https://nowhere.agent-example.com/hook", resolverFor({}));
    expect(error).toMatchObject({ kind: "dns_error", retryable: true });
  });
});

describe("SSRF: creation-time check", () => {
  it("production: https to a public host only", () => {
    expect(callbackUrlProblem("https://hooks.agent-example.com/quali", "production")).toBeUndefined();
    expect(callbackUrlProblem("https://93.184.215.14/hook", "production")).toBeUndefined();
    for (const url of [
      "http://hooks.agent-example.com/quali",
      "https://10.0.0.5/hook",
      "https://100.64.1.1/hook",
      "https://169.254.169.254/",
      "https://[fd00:ec2::254]/",
      "https://[::ffff:7f00:1]/",
      "https://2130706433/",
      "https://localhost/",
      "https://foo.internal/",
      "https://printer.local/",
      "https://intranet/",
      "ftp://hooks.agent-example.com/",
      "not a url",
    ]) {
      expect(callbackUrlProblem(url, "production"), url).toBeDefined();
    }
  });

  it("local mode: plain http only to loopback, for development", () => {
    expect(callbackUrlProblem("http://127.0.0.1:9999/hook", "local")).toBeUndefined();
    expect(callbackUrlProblem("http://localhost:9999/hook", "local")).toBeUndefined();
    expect(callbackUrlProblem("http://[::1]:9999/hook", "local")).toBeUndefined();
    expect(callbackUrlProblem("http://192.168.1.10/hook", "local")).toMatch(/HTTPS/);
    expect(callbackUrlProblem("http://example.com/hook", "local")).toMatch(/HTTPS/);
  });
});

describe("SSRF: the dispatcher", () => {
  it("records a refused delivery as failed without ever opening a connection", async () => {
    const f = fixture();
    const clock = testClock({ frozenAt: OUTBOX_CLOCK_START });
    const pollId = await f.insertPoll({ callbackUrl: "https://rebinding.agent-example.com/hook" });
    await f.transition(pollId, "completed", clock.now());
    const sent: string[] = [];
    const transport: Transport = async (delivery) => {
      sent.push(delivery.url.href);
      return { status: 200, retryAfter: null, snippet: "" };
    };
    const summary = await dispatchDue({
      store: f.store,
      mode: "production",
      now: clock.now,
      contractSecret: undefined,
      callbackSecrets: f.callbackSecrets,
      transport,
      resolve: resolverFor({ "rebinding.agent-example.com": ["10.0.0.5"] }),
    });
    expect(summary).toEqual({ attempted: 1, delivered: 0, retrying: 0, failed: 1 });
    expect(sent).toEqual([]);
    const row = await f.store.db.selectFrom("webhook_deliveries").selectAll().where("poll_id", "=", pollId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: "failed", last_error: "address_not_public", next_attempt_at: null });
  });

  it("connects to the address it vetted, never to what DNS answers later (pinned lookup)", async () => {
    const hook = await receiver(() => ({ status: 200 }));
    const port = new URL(hook.url).port;
    // ".invalid" never resolves through the system resolver: the request can only arrive because the
    // transport connected to the vetted 127.0.0.1 instead of looking the name up again.
    const response = await pinnedHttpTransport({
      url: new URL(`http://hooks.rebind.invalid:${port}/hook`),
      addresses: [{ address: "127.0.0.1", family: 4 }],
      headers: { "content-type": "application/json" },
      body: "{}",
      timeoutMs: 2_000,
    });
    expect(response.status).toBe(200);
    expect(hook.received[0]!.headers.get("host")).toBe(`hooks.rebind.invalid:${port}`);

    // Through the dispatcher (local mode, where loopback is allowed): resolved once per attempt.
    const f = fixture();
    const clock = testClock({ frozenAt: OUTBOX_CLOCK_START });
    const pollId = await f.insertPoll({ callbackUrl: `https://hooks.rebind.invalid:${port}/hook` });
    await f.transition(pollId, "completed", clock.now());
    const resolver = resolverFor({ "hooks.rebind.invalid": ["127.0.0.1"] });
    const plain: Transport = (delivery) => pinnedHttpTransport({ ...delivery, url: new URL(delivery.url.href.replace("https:", "http:")) });
    const summary = await dispatchDue({
      store: f.store,
      mode: "local",
      now: clock.now,
      contractSecret: undefined,
      callbackSecrets: f.callbackSecrets,
      transport: plain,
      resolve: resolver,
    });
    expect(summary.delivered).toBe(1);
    expect(resolver.calls).toEqual(["hooks.rebind.invalid"]);
  });

  it("never follows a redirect (a 3xx fails the delivery, not retried)", async () => {
    const target = await receiver(() => ({ status: 200 }));
    const redirecting = await receiver(() => ({ status: 307, headers: { location: target.url } }));
    const f = fixture();
    const clock = testClock({ frozenAt: OUTBOX_CLOCK_START });
    const pollId = await f.insertPoll({ callbackUrl: redirecting.url });
    await f.transition(pollId, "completed", clock.now());
    const base = { store: f.store, mode: "local" as const, now: clock.now, contractSecret: undefined, callbackSecrets: f.callbackSecrets };
    expect(await dispatchDue(base)).toEqual({ attempted: 1, delivered: 0, retrying: 0, failed: 1 });
    clock.advance(24 * 60 * 60_000);
    await dispatchDue(base);
    expect(redirecting.received).toHaveLength(1);
    expect(target.received).toHaveLength(0);
    const row = await f.store.db.selectFrom("webhook_deliveries").selectAll().where("poll_id", "=", pollId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: "failed", last_status: 307, last_error: "redirect_not_followed" });
  });

  it("the fetch transport (for Workers) does not follow redirects either, and times out", async () => {
    const target = await receiver(() => ({ status: 200 }));
    const redirecting = await receiver(() => ({ status: 302, headers: { location: target.url } }));
    const stalling = await receiver(() => "stall");
    const send = fetchTransport();
    const base = { addresses: [], headers: { "content-type": "application/json" }, body: "{}", timeoutMs: 300 };
    expect(await send({ ...base, url: new URL(redirecting.url) })).toMatchObject({ status: 302 });
    expect(target.received).toHaveLength(0);
    await expect(send({ ...base, url: new URL(stalling.url) })).rejects.toEqual(new TransportError("timeout", "no response within 300 ms"));
  });
});
