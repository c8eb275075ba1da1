// Bazaar catalogues payments by resource URL: a payload that names another resource is refused
// before verification and nothing is settled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { usdcBalanceOf } from "../src/devnet/chain";
import { pollBody, startLocalService, type LocalService } from "./support/harness";
import { challengeFor, postPoll, signPayment } from "./support/sign";

let service: LocalService;
beforeAll(async () => {
  service = await startLocalService();
});
afterAll(async () => {
  await service?.stop();
});

describe("resource URL binding", () => {
  it.each([
    ["another host", "https://evil.example/api/v1/polls"],
    ["another path", "PLACEHOLDER/api/v1/polls/extra"],
    ["a trailing slash", "PLACEHOLDER/api/v1/polls/"],
  ])("refuses a payload whose resource.url is %s", async (_name, url) => {
    const body = pollBody();
    const before = await usdcBalanceOf(service.devnet!.rpcUrl, service.devnet!.asset, service.devnet!.payers[0]!.address);
    const signature = await signPayment(service, await challengeFor(service, body), 0, (payload) => ({
      ...payload,
      resource: { ...payload.resource!, url: url.replace("PLACEHOLDER", service.url) },
    }));
    const response = await postPoll(service, body, signature);
    expect(response.status).toBe(402);
    const json = await response.json();
    expect(json.error).toBe("resource_url_mismatch");
    expect(json.accepts).toHaveLength(1);
    expect(decodePaymentRequiredHeader(response.headers.get("PAYMENT-REQUIRED")!)).toEqual(json);
    const after = await usdcBalanceOf(service.devnet!.rpcUrl, service.devnet!.asset, service.devnet!.payers[0]!.address);
    expect(after).toBe(before);
  });

  it("refuses a payload that omits the resource", async () => {
    const body = pollBody();
    const signature = await signPayment(service, await challengeFor(service, body), 0, (payload) => {
      const { resource: _resource, ...rest } = payload;
      return rest as typeof payload;
    });
    const response = await postPoll(service, body, signature);
    expect(response.status).toBe(402);
    expect((await response.json()).error).toBe("resource_url_mismatch");
  });

  it("answers an unreadable signature with the challenge, not a 500", async () => {
    const response = await postPoll(service, pollBody(), "not-base64-json");
    expect(response.status).toBe(402);
    const json = await response.json();
    expect(json.x402Version).toBe(2);
    expect(json.error).toBe("invalid_payment_payload");
    expect(json.accepts.length).toBe(1);
  });

  it("answers a signature for a different amount with 402 and settles nothing", async () => {
    const cheap = pollBody({ maxResponses: 100 });
    const dear = pollBody({ maxResponses: 200 });
    const before = await usdcBalanceOf(service.devnet!.rpcUrl, service.devnet!.asset, service.devnet!.payers[2]!.address);
    const signature = await signPayment(service, await challengeFor(service, cheap), 2);
    const response = await postPoll(service, dear, signature);
    expect(response.status).toBe(402);
    const after = await usdcBalanceOf(service.devnet!.rpcUrl, service.devnet!.asset, service.devnet!.payers[2]!.address);
    expect(after).toBe(before);
    const polls = await service.store.db.selectFrom("polls").selectAll().execute();
    expect(polls).toHaveLength(0);
  });
});
