// The official x402 facilitator (in-process and over HTTP through the official HTTPFacilitatorClient)
// verifying and settling payloads made by the official client, against a real local chain.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import { HTTPFacilitatorClient, x402ResourceServer, type FacilitatorClient } from "@x402/core/server";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { ExactEvmScheme as ExactEvmServerScheme } from "@x402/evm/exact/server";
import { startDevnet, type Devnet } from "../src/devnet/devnet.js";
import { serveFacilitatorOverHttp, type FacilitatorHttpServer } from "../src/devnet/facilitator.js";
import { authorizationState, publicClientFor, usdcBalanceOf, type DevAccount } from "../src/devnet/chain.js";

const PRICE = 500_000n; // 0.50 USDC

let devnet: Devnet;
let http: FacilitatorHttpServer;
let httpClient: HTTPFacilitatorClient;

beforeAll(async () => {
  devnet = await startDevnet({ payerCount: 3 });
  http = await serveFacilitatorOverHttp(devnet.facilitator);
  httpClient = new HTTPFacilitatorClient({ url: http.url });
});
afterAll(async () => {
  await http?.close();
  await devnet?.stop();
});

function requirements(amount: bigint = PRICE): PaymentRequirements {
  return {
    scheme: "exact",
    network: devnet.network,
    amount: amount.toString(),
    asset: devnet.asset,
    payTo: devnet.payTo,
    maxTimeoutSeconds: 120,
    extra: { name: devnet.tokenName, version: devnet.tokenVersion },
  };
}

/** A payload made the way an agent makes it: official x402Client + registerExactEvmScheme. */
async function pay(payer: DevAccount, req: PaymentRequirements): Promise<PaymentPayload> {
  const client = new x402Client();
  registerExactEvmScheme(client, { signer: privateKeyToAccount(payer.privateKey), networks: [devnet.network] });
  // Stock clients only pay default-table assets (capped at $1); our devnet token is neither.
  client.setSpendControls({ allowedAssets: [{ network: devnet.network, asset: devnet.asset }] });
  return client.createPaymentPayload({
    x402Version: 2,
    resource: { url: "http://127.0.0.1/polls", description: "create a poll", mimeType: "application/json" },
    accepts: [req],
  });
}

async function balances(payer: DevAccount) {
  const [p, t] = await Promise.all([
    usdcBalanceOf(devnet.rpcUrl, devnet.asset, payer.address),
    usdcBalanceOf(devnet.rpcUrl, devnet.asset, devnet.payTo),
  ]);
  return { payer: p, payTo: t };
}

function nonceOf(payload: PaymentPayload): `0x${string}` {
  return (payload.payload as { authorization: { nonce: `0x${string}` } }).authorization.nonce;
}

describe.each([
  ["in-process", () => devnet.facilitator as FacilitatorClient],
  ["over HTTP via HTTPFacilitatorClient", () => httpClient as FacilitatorClient],
])("official facilitator %s", (_label, facilitatorOf) => {
  it("lists the devnet network and its settlement signer in /supported", async () => {
    const supported = await facilitatorOf().getSupported();
    expect(supported.kinds).toContainEqual(expect.objectContaining({ x402Version: 2, scheme: "exact", network: devnet.network }));
    expect(Object.values(supported.signers).flat()).toContain(devnet.facilitatorAddress);
  });

  it("verifies and settles a real payment: payer -500000, payTo +500000, nonce used on chain", async () => {
    const facilitator = facilitatorOf();
    const payer = devnet.payers[0]!;
    const req = requirements();
    const payload = await pay(payer, req);
    const before = await balances(payer);

    const verified = await facilitator.verify(payload, req);
    expect(verified).toMatchObject({ isValid: true, payer: payer.address });

    const settled = await facilitator.settle(payload, req);
    expect(settled).toMatchObject({ success: true, network: devnet.network, payer: payer.address });
    expect(settled.transaction).toMatch(/^0x[0-9a-f]{64}$/);

    const after = await balances(payer);
    expect(after.payer).toBe(before.payer - PRICE);
    expect(after.payTo).toBe(before.payTo + PRICE);
    expect(await authorizationState(devnet.rpcUrl, devnet.asset, payer.address, nonceOf(payload))).toBe(true);
    const receipt = await publicClientFor(devnet.rpcUrl).getTransactionReceipt({ hash: settled.transaction as `0x${string}` });
    expect(receipt.status).toBe("success");
    expect(receipt.from.toLowerCase()).toBe(devnet.facilitatorAddress.toLowerCase());
  });

  it("refuses to settle the same payload twice, moves nothing, and still settles the next payment", async () => {
    const facilitator = facilitatorOf();
    const payer = devnet.payers[1]!;
    const req = requirements();
    const payload = await pay(payer, req);
    expect((await facilitator.settle(payload, req)).success).toBe(true);
    const afterFirst = await balances(payer);

    const second = await facilitator.settle(payload, req);
    expect(second.success).toBe(false);
    expect(second.errorReason).toBe("invalid_exact_evm_nonce_already_used");
    expect(await balances(payer)).toEqual(afterFirst);

    // verify of the spent payload is answered from the chain (Multicall3 diagnostics), not "simulation failed"
    const reverify = await facilitator.verify(payload, req);
    expect(reverify).toMatchObject({ isValid: false, invalidReason: "invalid_exact_evm_nonce_already_used" });

    // the failed settle must not leave the facilitator's account nonce out of step
    const next = await pay(payer, req);
    expect((await facilitator.settle(next, req)).success).toBe(true);
    expect((await balances(payer)).payer).toBe(afterFirst.payer - PRICE);
  });

  it("rejects at verify a payload for more than the payer's balance (insufficient_balance)", async () => {
    const payer = devnet.payers[2]!;
    const { payer: balance } = await balances(payer);
    const req = requirements(balance + 1n);
    const payload = await pay(payer, req);
    const verified = await facilitatorOf().verify(payload, req);
    expect(verified).toMatchObject({ isValid: false, invalidReason: "invalid_exact_evm_insufficient_balance" });
    expect((await balances(payer)).payer).toBe(balance);
  });

  it("rejects at verify a payload whose amount differs from the requirements", async () => {
    const payer = devnet.payers[2]!;
    const payload = await pay(payer, requirements(PRICE));
    const verified = await facilitatorOf().verify(payload, requirements(PRICE + 1n));
    expect(verified.isValid).toBe(false);
  });
});

describe("x402ResourceServer with the in-process facilitator as its FacilitatorClient", () => {
  it("initializes from getSupported and verifies + settles through the resource server API", async () => {
    const server = new x402ResourceServer(devnet.facilitator).register(devnet.network, new ExactEvmServerScheme());
    await server.initialize();
    const payer = devnet.payers[0]!;
    const req = requirements();
    const payload = await pay(payer, req);
    const before = await balances(payer);

    expect(await server.verifyPayment(payload, req)).toMatchObject({ isValid: true });
    expect(await server.settlePayment(payload, req)).toMatchObject({ success: true });
    expect((await balances(payer)).payer).toBe(before.payer - PRICE);
  });
});

describe("facilitator HTTP server", () => {
  it("answers malformed requests with 400 and unknown routes with 404", async () => {
    const bad = await fetch(`${http.url}/verify`, { method: "POST", body: "{not json" });
    expect(bad.status).toBe(400);
    const missing = await fetch(`${http.url}/settle`, { method: "POST", body: JSON.stringify({ x402Version: 2 }) });
    expect(missing.status).toBe(400);
    expect((await fetch(`${http.url}/nope`)).status).toBe(404);
  });
});
