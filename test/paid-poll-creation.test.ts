// The core promise to an agent: pay once with the official x402 client and get a poll; the money
// moves on chain exactly by the quoted amount; the poll becomes visible only after settlement.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { payingFetch } from "../scripts/lib/agent";
import { usdcBalanceOf } from "../src/devnet/chain";
import { pollBody, startLocalService, type LocalService } from "./support/harness";

let service: LocalService;

beforeAll(async () => {
  service = await startLocalService();
});
afterAll(async () => {
  await service?.stop();
});

const balances = async () => {
  const devnet = service.devnet!;
  return {
    payer: await usdcBalanceOf(devnet.rpcUrl, devnet.asset, devnet.payers[0]!.address),
    payTo: await usdcBalanceOf(devnet.rpcUrl, devnet.asset, devnet.payTo),
  };
};

const agent = (index = 0) => {
  const devnet = service.devnet!;
  return payingFetch({ privateKey: devnet.payers[index]!.privateKey, network: devnet.network, asset: devnet.asset });
};

describe("paid poll creation on the local chain", () => {
  it("settles exactly the quoted amount on chain and answers the contract's 201", async () => {
    const quote = await (await fetch(`${service.url}/api/v1/quote?maxResponses=250`)).json();
    expect(quote.costAtomic).toBe("1250000");
    const before = await balances();

    const response = await agent()(`${service.url}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(pollBody({ maxResponses: 250, layoutType: "grid", callbackUrl: "https://example.com/hook" })),
    });
    expect(response.status).toBe(201);
    const body = await response.json();

    // The contract's fields in the contract's order; callbackSecret (ours, additive) only with a callbackUrl.
    expect(Object.keys(body)).toEqual(["id", "url", "readToken", "payment", "pricing", "endpoints", "callbackSecret"]);
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.readToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(body.url).toBe(`${service.url}/polls/${body.id}`);
    expect(body.payment).toEqual({
      network: service.devnet!.network,
      networkLabel: "Local devnet",
      txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      payer: service.devnet!.payers[0]!.address.toLowerCase(),
      amountUsdc: 1.25,
      amountAtomic: "1250000",
    });
    expect(body.pricing).toEqual({ maxResponses: 250, rewardPoolUsdc: 0.125, qualiFeeUsdc: 1.125, costUsdc: 1.25 });
    expect(body.endpoints).toEqual({
      poll: `${service.url}/api/v1/polls/${body.id}`,
      results: `${service.url}/api/v1/polls/${body.id}/results`,
      votes: `${service.url}/api/v1/polls/${body.id}/votes`,
    });

    const settlement = decodePaymentResponseHeader(response.headers.get("PAYMENT-RESPONSE")!);
    expect(settlement.success).toBe(true);
    expect(settlement.transaction).toBe(body.payment.txHash);

    const after = await balances();
    expect(before.payer - after.payer).toBe(1_250_000n);
    expect(after.payTo - before.payTo).toBe(1_250_000n);

    const poll = await (await fetch(`${service.url}/api/v1/polls/${body.id}`)).json();
    expect(poll).toMatchObject({ id: body.id, status: "active", maxResponses: 250, layoutType: "grid", voteCount: 0 });
    expect(poll.options.map((o: { text: string }) => o.text)).toEqual(["Option A", "Option B"]);
    expect(JSON.stringify(poll)).not.toContain(body.readToken);

    const payment = await service.store.db.selectFrom("payments").selectAll().where("poll_id", "=", body.id).executeTakeFirstOrThrow();
    expect(payment).toMatchObject({ status: "settled", tx_hash: body.payment.txHash, amount_atomic: "1250000" });
    // Money adds up: reward pool + fee = amount settled.
    const row = await service.store.db.selectFrom("polls").selectAll().where("id", "=", body.id).executeTakeFirstOrThrow();
    expect(BigInt(row.reward_pool_atomic) + BigInt(row.fee_atomic)).toBe(BigInt(payment.amount_atomic));
  });

  it("never stores the read token in plain text, and adds nothing to the contract's 201 without a callback", async () => {
    const response = await agent(1)(`${service.url}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(pollBody()),
    });
    expect(response.status).toBe(201);
    const created = await response.json();
    expect(Object.keys(created)).toEqual(["id", "url", "readToken", "payment", "pricing", "endpoints"]);
    const { readToken } = created;
    const dump = service.store.sqlite.serialize().toString("latin1");
    expect(dump).not.toContain(readToken);
    expect(dump).not.toContain(readToken.replaceAll("-", ""));
  });

  it("answers a bare POST with the minimum-price challenge in header and body alike", async () => {
    const response = await fetch(`${service.url}/api/v1/polls`, { method: "POST" });
    expect(response.status).toBe(402);
    const body = await response.json();
    const header = decodePaymentRequiredHeader(response.headers.get("PAYMENT-REQUIRED")!);
    expect(body).toEqual(header);
    expect(body.x402Version).toBe(2);
    expect(body.accepts).toHaveLength(1);
    expect(body.accepts[0]).toMatchObject({
      scheme: "exact",
      network: service.devnet!.network,
      amount: "500000",
      asset: service.devnet!.asset,
      payTo: service.devnet!.payTo,
      maxTimeoutSeconds: 120,
      extra: { name: "USDC", version: "2" },
    });
    expect(body.resource).toMatchObject({
      url: `${service.url}/api/v1/polls`,
      mimeType: "application/json",
      serviceName: "Quali",
      tags: ["taste", "polls", "feedback", "world-id", "agents"],
    });
    expect(body.extensions.bazaar.info.input).toMatchObject({ type: "http", method: "POST", bodyType: "json" });
  });

  it("prices the challenge from the body and matches the quote exactly", async () => {
    const quote = await (await fetch(`${service.url}/api/v1/quote?maxResponses=1000`)).json();
    const response = await fetch(`${service.url}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(pollBody({ maxResponses: 1000 })),
    });
    expect(response.status).toBe(402);
    const body = await response.json();
    expect(body.accepts[0].amount).toBe("5000000");
    expect(quote.paymentRequired).toEqual(body);
  });
});
