// The faulty facilitator (test/support/faulty-facilitator.ts) does what it says, seen from the official
// HTTPFacilitatorClient and x402ResourceServer, with real payloads from the official client, and the
// chain as the judge of whether money moved. Plus one pass-mode run of the real service behind it.
// Not a test of our route's answers to faults (that behaviour is being rewritten).
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import { HTTPFacilitatorClient, x402ResourceServer } from "@x402/core/server";
import { FacilitatorTimeoutError } from "@x402/core/types";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { ExactEvmScheme as ExactEvmServerScheme } from "@x402/evm/exact/server";
import { startDevnet, type Devnet } from "../src/devnet/devnet";
import { serveFacilitatorOverHttp, type FacilitatorHttpServer } from "../src/devnet/facilitator";
import { authorizationState, publicClientFor, usdcBalanceOf, type DevAccount } from "../src/devnet/chain";
import {
  INVALID_SIGNATURE_REASON,
  startFaultyFacilitator,
  startServiceBehindFaultyFacilitator,
  type FaultyFacilitator,
  type ServiceBehindFaultyFacilitator,
} from "./support/faulty-facilitator";
import { createPaidPoll } from "./support/polls";

const PRICE = 500_000n; // 0.50 USDC
const TX_HASH = /^0x[0-9a-f]{64}$/;

let devnet: Devnet;
let upstream: FacilitatorHttpServer;
let proxy: FaultyFacilitator;
let client: HTTPFacilitatorClient;

beforeAll(async () => {
  devnet = await startDevnet({ payerCount: 1 });
  upstream = await serveFacilitatorOverHttp(devnet.facilitator);
  proxy = await startFaultyFacilitator(upstream.url);
  client = new HTTPFacilitatorClient({ url: proxy.url, timeoutMs: 5_000 });
});
afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
  await devnet?.stop();
});

function requirements(): PaymentRequirements {
  return {
    scheme: "exact",
    network: devnet.network,
    amount: PRICE.toString(),
    asset: devnet.asset,
    payTo: devnet.payTo,
    maxTimeoutSeconds: 120,
    extra: { name: devnet.tokenName, version: devnet.tokenVersion },
  };
}

/** A fresh payload made the way an agent makes it (official x402Client), so a fresh nonce each time. */
async function pay(payer: DevAccount = devnet.payers[0]!): Promise<PaymentPayload> {
  const agent = new x402Client();
  registerExactEvmScheme(agent, { signer: privateKeyToAccount(payer.privateKey), networks: [devnet.network] });
  agent.setSpendControls({ allowedAssets: [{ network: devnet.network, asset: devnet.asset }] });
  return agent.createPaymentPayload({
    x402Version: 2,
    resource: { url: "http://127.0.0.1/polls", description: "create a poll", mimeType: "application/json" },
    accepts: [requirements()],
  });
}

function authorizationOf(payload: PaymentPayload): { from: `0x${string}`; nonce: `0x${string}` } {
  return (payload.payload as { authorization: { from: `0x${string}`; nonce: `0x${string}` } }).authorization;
}

/** What the chain says about a payload: how much the payer lost and whether its nonce is spent. */
async function onChain(payload: PaymentPayload, payerBefore: bigint) {
  const { from, nonce } = authorizationOf(payload);
  return {
    paid: payerBefore - (await usdcBalanceOf(devnet.rpcUrl, devnet.asset, from)),
    nonceUsed: await authorizationState(devnet.rpcUrl, devnet.asset, from, nonce),
  };
}

const payerBalance = () => usdcBalanceOf(devnet.rpcUrl, devnet.asset, devnet.payers[0]!.address);

/** Counters before/after a step, so each test reads only its own calls and broadcasts. */
function snapshot() {
  const settle = proxy.calls.settle;
  const broadcasts = proxy.broadcasts.length;
  return () => ({ settleCalls: proxy.calls.settle - settle, newBroadcasts: proxy.broadcasts.slice(broadcasts) });
}

async function resourceServer(): Promise<x402ResourceServer> {
  const server = new x402ResourceServer(client).register(devnet.network, new ExactEvmServerScheme());
  await server.initialize();
  return server;
}

describe("faulty facilitator, seen through the official HTTPFacilitatorClient", () => {
  it("pass: /supported, /verify and /settle are upstream's answers; the money moves once", async () => {
    proxy.setFault("pass");
    const calls = { ...proxy.calls };
    const since = snapshot();
    const payload = await pay();
    const before = await payerBalance();

    const supported = await client.getSupported();
    expect(supported.kinds).toContainEqual(expect.objectContaining({ scheme: "exact", network: devnet.network }));
    expect(await client.verify(payload, requirements())).toMatchObject({ isValid: true, payer: authorizationOf(payload).from });
    const settled = await client.settle(payload, requirements());

    expect(settled).toMatchObject({ success: true, network: devnet.network, transaction: expect.stringMatching(TX_HASH) });
    expect(proxy.calls).toEqual({ supported: calls.supported + 1, verify: calls.verify + 1, settle: calls.settle + 1 });
    expect(since().newBroadcasts).toEqual([settled.transaction]);
    expect(await onChain(payload, before)).toEqual({ paid: PRICE, nonceUsed: true });
  });

  it("pending_after_broadcast: settlement_pending with the mined tx hash, on every call, broadcast once", async () => {
    proxy.setFault("pending_after_broadcast");
    const since = snapshot();
    const payload = await pay();
    const before = await payerBalance();

    const first = await client.settle(payload, requirements());
    const again = await client.settle(payload, requirements());

    expect(first).toMatchObject({
      success: false,
      errorReason: "settlement_pending",
      transaction: expect.stringMatching(TX_HASH),
      network: devnet.network,
      payer: authorizationOf(payload).from,
    });
    expect(again).toEqual(first);
    expect(since()).toEqual({ settleCalls: 2, newBroadcasts: [first.transaction] });
    // "Pending" is a lie of the facilitator: the transfer is mined and succeeded.
    const receipt = await publicClientFor(devnet.rpcUrl).getTransactionReceipt({ hash: first.transaction as `0x${string}` });
    expect(receipt.status).toBe("success");
    expect(await onChain(payload, before)).toEqual({ paid: PRICE, nonceUsed: true });
  });

  it("html_504_after_broadcast: the client throws 'Facilitator settle failed (504): <html>…', yet the money moved", async () => {
    proxy.setFault("html_504_after_broadcast");
    const since = snapshot();
    const payload = await pay();
    const before = await payerBalance();

    const error = await client.settle(payload, requirements()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error?.name).toBe("Error"); // a plain Error: neither SettleError nor FacilitatorResponseError
    expect(error?.message).toBe(
      "Facilitator settle failed (504): <html> <head><title>504 Gateway Time-out</title></head> <body> " +
        "<center><h1>504 Gateway Time-out</h1></center> <hr><center>nginx</center> </body> </html>",
    );
    expect(since()).toMatchObject({ settleCalls: 1, newBroadcasts: [expect.stringMatching(TX_HASH)] });
    expect(await onChain(payload, before)).toEqual({ paid: PRICE, nonceUsed: true });
  });

  it("drop_after_broadcast: the client throws 'fetch failed' (other side closed), yet the money moved", async () => {
    proxy.setFault("drop_after_broadcast");
    const since = snapshot();
    const payload = await pay();
    const before = await payerBalance();

    const error = await client.settle(payload, requirements()).then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: Error & { code?: string } },
    );
    expect(error).toBeInstanceOf(TypeError); // undici's, passed through unwrapped
    expect(error?.message).toBe("fetch failed");
    expect(error?.cause).toMatchObject({ code: "UND_ERR_SOCKET", message: "other side closed" });
    expect(since()).toMatchObject({ settleCalls: 1, newBroadcasts: [expect.stringMatching(TX_HASH)] });
    expect(await onChain(payload, before)).toEqual({ paid: PRICE, nonceUsed: true });
  });

  it("hang_before_broadcast: the client times out (FacilitatorTimeoutError), nothing moved, the payload still settles later", async () => {
    proxy.setFault("hang_before_broadcast");
    const since = snapshot();
    const payload = await pay();
    const before = await payerBalance();
    const impatient = new HTTPFacilitatorClient({ url: proxy.url, timeoutMs: 300 });

    const started = Date.now();
    const error = await impatient.settle(payload, requirements()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    // Its own deadline ended the call, not a response that never comes (the bound only has to be finite).
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(error).toBeInstanceOf(FacilitatorTimeoutError);
    expect(error?.message).toBe("Facilitator settle request timed out after 300ms");
    expect(since()).toEqual({ settleCalls: 1, newBroadcasts: [] });
    expect(await onChain(payload, before)).toEqual({ paid: 0n, nonceUsed: false });

    // A caller without a deadline waits until releaseHung(), which destroys the held socket.
    let settledBeforeRelease = false;
    let released = false;
    const waiting = fetch(`${proxy.url}/settle`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ x402Version: 2, paymentPayload: payload, paymentRequirements: requirements() }),
    })
      .then(
        () => "answered",
        () => "connection destroyed",
      )
      .finally(() => {
        settledBeforeRelease = !released;
      });
    // Held: the proxy has it (its second settle call), and a few round trips later still no answer.
    await vi.waitUntil(() => since().settleCalls === 2, { timeout: 30_000, interval: 10 });
    for (let i = 0; i < 3; i++) await client.getSupported();
    expect(settledBeforeRelease).toBe(false);
    released = true;
    proxy.releaseHung();
    expect(await waiting).toBe("connection destroyed");
    expect(await onChain(payload, before)).toEqual({ paid: 0n, nonceUsed: false });

    // Nothing was broadcast, so the same authorization is still good.
    proxy.setFault("pass");
    expect(await client.settle(payload, requirements())).toMatchObject({ success: true });
    expect(await onChain(payload, before)).toEqual({ paid: PRICE, nonceUsed: true });
  });

  it("reject_invalid_before_broadcast: success:false invalid_exact_evm_signature, empty transaction, nothing moved", async () => {
    proxy.setFault("reject_invalid_before_broadcast");
    const since = snapshot();
    const payload = await pay();
    const before = await payerBalance();

    const settled = await client.settle(payload, requirements());
    expect(settled).toMatchObject({
      success: false,
      errorReason: INVALID_SIGNATURE_REASON,
      errorMessage: expect.stringContaining("invalid signature"),
      transaction: "",
      network: devnet.network,
      payer: authorizationOf(payload).from,
    });
    expect(since()).toEqual({ settleCalls: 1, newBroadcasts: [] });
    expect(await onChain(payload, before)).toEqual({ paid: 0n, nonceUsed: false });
  });
});

describe("faulty facilitator, seen through the official x402ResourceServer (what @x402/hono calls)", () => {
  it("pending_after_broadcast: settlePayment retries once, gets settlement_pending again; one broadcast", async () => {
    proxy.setFault("pending_after_broadcast");
    const server = await resourceServer();
    const since = snapshot();
    const payload = await pay();
    const before = await payerBalance();

    const settled = await server.settlePayment(payload, requirements());
    expect(settled).toMatchObject({ success: false, errorReason: "settlement_pending", transaction: expect.stringMatching(TX_HASH) });
    expect(since()).toEqual({ settleCalls: 2, newBroadcasts: [settled.transaction] });
    expect(await onChain(payload, before)).toEqual({ paid: PRICE, nonceUsed: true });
  });

  it("html_504 and drop: settlePayment rethrows the client's error without retrying", async () => {
    const server = await resourceServer();
    for (const [fault, message] of [
      ["html_504_after_broadcast", /^Facilitator settle failed \(504\): <html>/],
      ["drop_after_broadcast", /^fetch failed$/],
    ] as const) {
      proxy.setFault(fault);
      const since = snapshot();
      const payload = await pay();
      await expect(server.settlePayment(payload, requirements())).rejects.toThrow(message);
      expect(since().settleCalls).toBe(1);
    }
  });

  it("reject_invalid: settlePayment returns the refusal as is, without retrying", async () => {
    proxy.setFault("reject_invalid_before_broadcast");
    const server = await resourceServer();
    const since = snapshot();
    const settled = await server.settlePayment(await pay(), requirements());
    expect(settled).toMatchObject({ success: false, errorReason: INVALID_SIGNATURE_REASON, transaction: "" });
    expect(since()).toEqual({ settleCalls: 1, newBroadcasts: [] });
  });
});

describe("the real service behind the faulty facilitator (pass mode)", () => {
  let running: ServiceBehindFaultyFacilitator;
  beforeAll(async () => {
    running = await startServiceBehindFaultyFacilitator();
  });
  afterAll(async () => {
    await running?.stop();
  });

  it("creates a paid poll (201) with one verify, one settle and one broadcast through the proxy", async () => {
    const { service, devnet: chain, proxy: harnessProxy } = running;
    harnessProxy.setFault("pass");
    const payer = chain.payers[0]!;
    const before = await usdcBalanceOf(chain.rpcUrl, chain.asset, payer.address);

    const poll = await createPaidPoll(service); // throws unless 201
    expect(poll.payment.payer.toLowerCase()).toBe(payer.address.toLowerCase());

    expect(harnessProxy.calls.supported).toBeGreaterThanOrEqual(1); // the service's start-up sync
    expect(harnessProxy.calls).toMatchObject({ verify: 1, settle: 1 });
    expect(harnessProxy.broadcasts).toHaveLength(1);
    const receipt = await publicClientFor(chain.rpcUrl).getTransactionReceipt({ hash: harnessProxy.broadcasts[0] as `0x${string}` });
    expect(receipt.from.toLowerCase()).toBe(chain.facilitatorAddress.toLowerCase()); // the test's facilitator paid the gas
    expect(await usdcBalanceOf(chain.rpcUrl, chain.asset, payer.address)).toBeLessThan(before);
  });
});
