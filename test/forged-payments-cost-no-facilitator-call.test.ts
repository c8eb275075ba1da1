// Every facilitator /verify costs a call on the operator's key: a forged or mismatched payment (another
// key's signature, a tampered recipient or amount, an authorization outside its time window) is answered
// with the 402 challenge naming the official reason, without asking the facilitator, and writes and moves
// nothing. A genuine payment still costs exactly one verify.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePaymentRequiredHeader, decodePaymentSignatureHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { usdcBalanceOf } from "../src/devnet/chain";
import { EXACT_EVM_REASONS } from "../src/payment/precheck";
import { authorizationOf, resignHeader, type TokenDomain, type WireAuthorization } from "./support/authorization-signing";
import { pollBody, startLocalService, type LocalService } from "./support/harness";
import { challengeFor, postPoll, signPayment } from "./support/sign";

let service: LocalService;
let domain: TokenDomain;
const calls = { verify: 0, settle: 0 };

beforeAll(async () => {
  service = await startLocalService();
  const devnet = service.devnet!;
  domain = { chainId: devnet.chainId, asset: devnet.asset, name: devnet.tokenName, version: devnet.tokenVersion };
  // Counted on the official facilitator itself, whatever path the service takes to reach it.
  devnet.facilitator.facilitator
    .onBeforeVerify(async () => {
      calls.verify += 1;
    })
    .onBeforeSettle(async () => {
      calls.settle += 1;
    });
});
afterAll(async () => {
  await service?.stop();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function snapshot() {
  const devnet = service.devnet!;
  const { db } = service.store;
  const count = async (table: "polls" | "payments") =>
    Number((await db.selectFrom(table).select(({ fn }) => fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);
  return {
    calls: { ...calls },
    polls: await count("polls"),
    payments: await count("payments"),
    payer: await usdcBalanceOf(devnet.rpcUrl, devnet.asset, devnet.payers[0]!.address),
    payTo: await usdcBalanceOf(devnet.rpcUrl, devnet.asset, devnet.payTo),
  };
}

/** Tampers without signing again: the signature no longer covers the authorization. */
function tampered(header: string, changes: Partial<WireAuthorization>): string {
  const payload = decodePaymentSignatureHeader(header);
  const authorization = { ...authorizationOf(payload), ...changes };
  return encodePaymentSignatureHeader({ ...payload, payload: { ...payload.payload, authorization } });
}

type Forge = (genuine: string) => Promise<string>;

describe("forged payments cost no facilitator call", () => {
  it.each<[string, Forge, string]>([
    [
      "a signature by another payer's key for the same from",
      (genuine) => resignHeader(genuine, service.devnet!.payers[1]!.privateKey, domain),
      EXACT_EVM_REASONS.signature,
    ],
    ["a tampered recipient", async (genuine) => tampered(genuine, { to: service.devnet!.payers[1]!.address }), EXACT_EVM_REASONS.recipientMismatch],
    ["a tampered amount", async (genuine) => tampered(genuine, { value: "1" }), EXACT_EVM_REASONS.valueMismatch],
    [
      "a validly signed but expired authorization",
      (genuine) =>
        resignHeader(genuine, service.devnet!.payers[0]!.privateKey, domain, {
          validAfter: String(nowSeconds() - 3600),
          validBefore: String(nowSeconds() - 60),
        }),
      EXACT_EVM_REASONS.validBefore,
    ],
    [
      "a validly signed authorization not valid yet",
      (genuine) => resignHeader(genuine, service.devnet!.payers[0]!.privateKey, domain, { validAfter: String(nowSeconds() + 3600) }),
      EXACT_EVM_REASONS.validAfter,
    ],
  ])("answers %s with the 402 challenge and the reason, free", async (_name, forge, reason) => {
    const body = pollBody();
    const challenge = await challengeFor(service, body);
    const forged = await forge(await signPayment(service, challenge, 0));
    const before = await snapshot();

    const response = await postPoll(service, body, forged);

    expect(response.status).toBe(402);
    const json = (await response.json()) as PaymentRequired;
    expect(json.error).toBe(reason);
    expect(json.accepts).toEqual(challenge.accepts);
    expect(decodePaymentRequiredHeader(response.headers.get("PAYMENT-REQUIRED")!)).toEqual(json);
    expect(response.headers.get("PAYMENT-RESPONSE")).toBeNull();
    expect(await snapshot()).toEqual(before);
  });

  it("gives the official facilitator's own reason for each validly signed forgery", async () => {
    // The same payloads, asked of the facilitator directly: our refusal says what it would have said.
    const body = pollBody();
    const challenge = await challengeFor(service, body);
    const requirements = challenge.accepts[0]!;
    const payer = service.devnet!.payers;
    const cases: [string, string][] = [
      [await resignHeader(await signPayment(service, challenge, 0), payer[1]!.privateKey, domain), EXACT_EVM_REASONS.signature],
      [
        await resignHeader(await signPayment(service, challenge, 0), payer[0]!.privateKey, domain, { validBefore: String(nowSeconds() - 60) }),
        EXACT_EVM_REASONS.validBefore,
      ],
      [
        await resignHeader(await signPayment(service, challenge, 0), payer[0]!.privateKey, domain, { validAfter: String(nowSeconds() + 3600) }),
        EXACT_EVM_REASONS.validAfter,
      ],
    ];
    for (const [header, reason] of cases) {
      const verdict = await service.devnet!.facilitator.verify(decodePaymentSignatureHeader(header), requirements);
      expect(verdict.invalidReason).toBe(reason);
    }
  });

  it("still lets a genuine payment create its poll, with exactly one verify", async () => {
    const body = pollBody();
    const signature = await signPayment(service, await challengeFor(service, body), 0);
    const before = await snapshot();

    const response = await postPoll(service, body, signature);

    expect(response.status).toBe(201);
    const after = await snapshot();
    expect(after.calls).toEqual({ verify: before.calls.verify + 1, settle: before.calls.settle + 1 });
    expect(after.polls).toBe(before.polls + 1);
    expect(after.payments).toBe(before.payments + 1);
    expect(before.payer - after.payer).toBe(after.payTo - before.payTo);
    expect(after.payTo).toBeGreaterThan(before.payTo);
  });
});
