// x402's payment-identifier extension: the 402 declares it; a retry under the same id with the same
// payment and body gets the very same 201 (read token included) and moves no money; the same id with a
// different request is a 409 that creates and charges nothing. Without an id, the contract's 409 for a
// reused signature stands (test/payment-replay.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PaymentRequired } from "@x402/core/types";
import { appendPaymentIdentifierToExtensions, PAYMENT_IDENTIFIER } from "@x402/extensions/payment-identifier";
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

const balanceOf = (payerIndex: number) => usdcBalanceOf(service.devnet!.rpcUrl, service.devnet!.asset, service.devnet!.payers[payerIndex]!.address);
const countPolls = async () => (await service.store.db.selectFrom("polls").select("id").execute()).length;

async function signWithIdentifier(body: Record<string, unknown>, payerIndex: number, id: string): Promise<string> {
  const challenge: PaymentRequired = await challengeFor(service, body);
  appendPaymentIdentifierToExtensions(challenge.extensions as Record<string, unknown>, id);
  return signPayment(service, challenge, payerIndex);
}

describe("payment-identifier retries", () => {
  it("is declared in the 402 as optional", async () => {
    const challenge = await challengeFor(service, pollBody());
    expect(challenge.extensions?.[PAYMENT_IDENTIFIER]).toMatchObject({ info: { required: false } });
  });

  it("answers a retry with the same id and request with the identical 201, charging once", async () => {
    const id = `pay_${crypto.randomUUID().replaceAll("-", "")}`;
    const body = pollBody();
    const signature = await signWithIdentifier(body, 0, id);
    const before = await balanceOf(0);

    const first = await postPoll(service, body, signature);
    expect(first.status).toBe(201);
    const created = await first.json();
    const second = await postPoll(service, body, signature);
    expect(second.status).toBe(201);
    expect(await second.json()).toEqual(created);
    const third = await postPoll(service, body, signature);
    expect(await third.json()).toEqual(created);

    expect(before - (await balanceOf(0))).toBe(500_000n);
    const rows = await service.store.db.selectFrom("payments").selectAll().where("payment_identifier", "=", id).execute();
    expect(rows).toHaveLength(1);
  });

  it("answers the same id with a different body, or a different payment, with 409 and creates nothing", async () => {
    const id = `pay_${crypto.randomUUID().replaceAll("-", "")}`;
    const body = pollBody();
    const first = await postPoll(service, body, await signWithIdentifier(body, 1, id));
    expect(first.status).toBe(201);
    const pollsAfterFirst = await countPolls();
    const balanceAfterFirst = await balanceOf(1);

    const otherBody = pollBody({ question: "Which colour is calmer?" });
    const conflicting = await postPoll(service, otherBody, await signWithIdentifier(otherBody, 1, id));
    expect(conflicting.status).toBe(409);
    const error = (await conflicting.json()).error;
    expect(error.code).toBe("payment_identifier_conflict");
    expect(JSON.stringify(error)).not.toContain((await first.clone().json()).readToken);

    // Same body, a fresh signature (another nonce): a different payment under the same id.
    const resigned = await postPoll(service, body, await signWithIdentifier(body, 1, id));
    expect(resigned.status).toBe(409);
    expect((await resigned.json()).error.code).toBe("payment_identifier_conflict");

    expect(await countPolls()).toBe(pollsAfterFirst);
    expect(await balanceOf(1)).toBe(balanceAfterFirst);
  });

  it("never compiles the JSON Schema a client echoes: a bogus schema changes nothing", async () => {
    // The extension's own validator compiles the echoed schema with Ajv (code generated from client input,
    // and impossible on Workers); ours checks the id by the extension's rule and ignores the echo's schema.
    const body = pollBody();
    const challenge: PaymentRequired = await challengeFor(service, body);
    const id = `pay_${crypto.randomUUID().replaceAll("-", "")}`;
    appendPaymentIdentifierToExtensions(challenge.extensions as Record<string, unknown>, id);
    const extension = (challenge.extensions as Record<string, { schema?: unknown }>)[PAYMENT_IDENTIFIER]!;
    extension.schema = { type: "not-a-type", properties: { id: { pattern: "(" } } };
    const response = await postPoll(service, body, await signPayment(service, challenge, 2));
    expect(response.status).toBe(201);
  });

  it("refuses a malformed identifier with a clear 400 before any facilitator call", async () => {
    const body = pollBody();
    const challenge: PaymentRequired = await challengeFor(service, body);
    (challenge.extensions as Record<string, unknown>)[PAYMENT_IDENTIFIER] = { info: { required: false, id: "short" } };
    const response = await postPoll(service, body, await signPayment(service, challenge, 2));
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("invalid_payment_identifier");
  });
});
