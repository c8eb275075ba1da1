// precheckPayment refuses what the official facilitator would refuse from the payload alone, with the
// official reason string, and leaves smart-wallet signatures to it. Each refusal of a validly signed
// payload is checked against the official @x402/evm exact facilitator itself (its chain calls stubbed:
// the payer is an EOA, the asset is a contract).
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/facilitator";
import { bytesToHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { randomBytes } from "node:crypto";
import { readAuthorization, type PresentedAuthorization } from "../src/payment/authorization";
import { BASE } from "../src/payment/networks";
import { EXACT_EVM_REASONS, precheckPayment, type ExpectedPayment } from "../src/payment/precheck";
import { signAuthorization, type TokenDomain, type WireAuthorization } from "./support/authorization-signing";

const NOW = 1_900_000_000;
const PRICE = 500_000n;
const DOMAIN: TokenDomain = { chainId: BASE.chainId, asset: BASE.usdc.address, name: BASE.usdc.name, version: BASE.usdc.version };
const PAYER_KEY = generatePrivateKey();
const PAYER = privateKeyToAccount(PAYER_KEY).address;
const OTHER_KEY = generatePrivateKey();
const PAY_TO = privateKeyToAccount(generatePrivateKey()).address;
const STRANGER = privateKeyToAccount(generatePrivateKey()).address;

const requirements: PaymentRequirements = {
  scheme: "exact",
  network: BASE.network,
  asset: BASE.usdc.address,
  amount: PRICE.toString(),
  payTo: PAY_TO,
  maxTimeoutSeconds: 300,
  extra: { name: BASE.usdc.name, version: BASE.usdc.version },
};

function expected(overrides: Partial<ExpectedPayment> = {}): ExpectedPayment {
  return { chainId: BASE.chainId, asset: BASE.usdc, payTo: PAY_TO, amountAtomic: PRICE, nowSeconds: NOW, ...overrides };
}

interface Forgery {
  /** Fields the signer signs (defaults: a genuine authorization). */
  signed?: Partial<WireAuthorization>;
  signerKey?: Hex;
  signDomain?: TokenDomain;
  /** Fields changed after signing. */
  tampered?: Partial<WireAuthorization>;
  signature?: Hex;
  network?: string;
}

async function build(forgery: Forgery = {}): Promise<{ payload: PaymentPayload; presented: PresentedAuthorization }> {
  const signed: WireAuthorization = {
    from: PAYER,
    to: PAY_TO,
    value: PRICE.toString(),
    validAfter: String(NOW - 600),
    validBefore: String(NOW + 300),
    nonce: bytesToHex(randomBytes(32)),
    ...forgery.signed,
  };
  const signature = forgery.signature ?? (await signAuthorization(forgery.signerKey ?? PAYER_KEY, forgery.signDomain ?? DOMAIN, signed));
  const payload: PaymentPayload = {
    x402Version: 2,
    resource: { url: "https://polls.example/api/v1/polls", description: "poll", mimeType: "application/json" },
    accepted: { ...requirements, network: (forgery.network ?? requirements.network) as PaymentRequirements["network"] },
    payload: { authorization: { ...signed, ...forgery.tampered }, signature },
  };
  const presented = readAuthorization(encodePaymentSignatureHeader(payload));
  if (!presented) throw new Error("the test payload must be readable");
  return { payload, presented };
}

/** The official exact-EVM facilitator, with an EOA payer and a deployed asset. */
const official = new ExactEvmScheme({
  getCode: async ({ address }: { address: Address }) => (address.toLowerCase() === BASE.usdc.address.toLowerCase() ? "0x6080" : "0x"),
} as unknown as ConstructorParameters<typeof ExactEvmScheme>[0]);

async function officialReason(payload: PaymentPayload): Promise<string | undefined> {
  const result = await official.verify(payload, requirements);
  return result.invalidReason;
}

beforeAll(() => {
  // The official facilitator reads the wall clock; pin it to the same second precheck is given.
  vi.useFakeTimers({ toFake: ["Date"], now: NOW * 1000 });
});
afterAll(() => {
  vi.useRealTimers();
});

describe("precheckPayment", () => {
  it("lets a genuine payment through", async () => {
    const { presented } = await build();
    expect(await precheckPayment(presented, expected())).toBeUndefined();
  });

  it.each<[string, Forgery, keyof typeof EXACT_EVM_REASONS]>([
    ["a signature by another key for the same from", { signerKey: OTHER_KEY }, "signature"],
    ["a signature for another token's domain", { signDomain: { ...DOMAIN, name: "USDC" } }, "signature"],
    ["an authorization honestly signed to another recipient", { signed: { to: STRANGER } }, "recipientMismatch"],
    ["an authorization honestly signed for another amount", { signed: { value: (PRICE - 1n).toString() } }, "valueMismatch"],
    ["an authorization that expired", { signed: { validBefore: String(NOW - 1) } }, "validBefore"],
    ["an authorization expiring within the facilitator's 6 s margin", { signed: { validBefore: String(NOW + 5) } }, "validBefore"],
    ["an authorization not valid yet", { signed: { validAfter: String(NOW + 1) } }, "validAfter"],
    ["a payment for another network", { network: "eip155:480" }, "networkMismatch"],
  ])("refuses %s with the official facilitator's reason", async (_name, forgery, key) => {
    const { payload, presented } = await build(forgery);
    const refusal = await precheckPayment(presented, expected());
    expect(refusal?.reason).toBe(EXACT_EVM_REASONS[key]);
    expect(refusal?.message).toBeTruthy();
    expect(await officialReason(payload)).toBe(EXACT_EVM_REASONS[key]);
  });

  it.each<[string, Partial<WireAuthorization>]>([
    ["validBefore exactly 6 s ahead", { validBefore: String(NOW + 6) }],
    ["validAfter exactly now", { validAfter: String(NOW) }],
  ])("accepts the window's edge: %s, like the official facilitator", async (_name, signed) => {
    const { payload, presented } = await build({ signed });
    expect(await precheckPayment(presented, expected())).toBeUndefined();
    // Past the time checks the facilitator goes on to its chain checks, which the stub cannot answer.
    expect(await officialReason(payload)).not.toMatch(/valid_(before|after)$/);
  });

  // Tampering with a signed field breaks the signature too; the field is named (see precheck.ts).
  it.each<[string, Partial<WireAuthorization>, keyof typeof EXACT_EVM_REASONS]>([
    ["to", { to: STRANGER }, "recipientMismatch"],
    ["value", { value: "1" }, "valueMismatch"],
    ["validBefore", { validBefore: String(NOW - 60) }, "validBefore"],
  ])("names the tampered field %s rather than the signature it broke", async (_name, tampered, key) => {
    const { payload, presented } = await build({ tampered });
    expect((await precheckPayment(presented, expected()))?.reason).toBe(EXACT_EVM_REASONS[key]);
    // The official facilitator checks the signature first.
    expect(await officialReason(payload)).toBe(EXACT_EVM_REASONS.signature);
  });

  it("compares the recipient regardless of address case", async () => {
    const { presented } = await build({ signed: { to: PAY_TO.toLowerCase() as Address } });
    expect(await precheckPayment(presented, expected({ payTo: PAY_TO.toUpperCase().replace("0X", "0x") }))).toBeUndefined();
  });

  describe("smart-wallet signatures", () => {
    const LONG = `0x${"ab".repeat(200)}` as Hex;

    it("leaves a signature longer than 65 bytes to the facilitator (ERC-1271/6492)", async () => {
      const hasCode = vi.fn(async () => false);
      const { presented } = await build({ signature: LONG });
      expect(await precheckPayment(presented, expected({ hasCode }))).toBeUndefined();
      expect(hasCode).not.toHaveBeenCalled();
    });

    it.each<[string, Partial<WireAuthorization>, keyof typeof EXACT_EVM_REASONS]>([
      ["to", { to: STRANGER }, "recipientMismatch"],
      ["value", { value: "1" }, "valueMismatch"],
      ["validBefore", { validBefore: String(NOW - 1) }, "validBefore"],
      ["validAfter", { validAfter: String(NOW + 60) }, "validAfter"],
    ])("still checks %s for them", async (_name, signed, key) => {
      const { presented } = await build({ signed, signature: LONG });
      expect((await precheckPayment(presented, expected()))?.reason).toBe(EXACT_EVM_REASONS[key]);
    });

    it("leaves a 65-byte signature that does not recover to from to the facilitator when from is a contract", async () => {
      const hasCode = vi.fn(async () => true);
      const { presented } = await build({ signerKey: OTHER_KEY });
      expect(await precheckPayment(presented, expected({ hasCode }))).toBeUndefined();
      expect(hasCode).toHaveBeenCalledWith(PAYER.toLowerCase());
    });

    it("refuses it when from has no code, and does not refuse when the lookup fails", async () => {
      const { presented } = await build({ signerKey: OTHER_KEY });
      expect((await precheckPayment(presented, expected({ hasCode: async () => false })))?.reason).toBe(EXACT_EVM_REASONS.signature);
      const failing = async (): Promise<boolean> => {
        throw new Error("rpc down");
      };
      expect(await precheckPayment(presented, expected({ hasCode: failing }))).toBeUndefined();
    });

    it("does not look up code for a signature that recovers to from", async () => {
      const hasCode = vi.fn(async () => true);
      const { presented } = await build();
      expect(await precheckPayment(presented, expected({ hasCode }))).toBeUndefined();
      expect(hasCode).not.toHaveBeenCalled();
    });
  });

  it.each<[string, Hex]>([
    ["empty", "0x"],
    ["64 bytes", `0x${"11".repeat(64)}`],
    ["65 bytes that are not a curve point", `0x${"00".repeat(64)}1b`],
  ])("refuses a %s signature for an EOA payer, like the official facilitator", async (_name, signature) => {
    const { payload, presented } = await build({ signature });
    expect((await precheckPayment(presented, expected()))?.reason).toBe(EXACT_EVM_REASONS.signature);
    expect(await officialReason(payload)).toBe(EXACT_EVM_REASONS.signature);
  });
});

describe("readAuthorization", () => {
  it("keeps the signed message exact and the signature as sent", async () => {
    const huge = (2n ** 256n - 1n).toString();
    const { payload, presented } = await build({ signed: { validBefore: huge } });
    expect(presented.message).toEqual({
      from: PAYER.toLowerCase(),
      to: PAY_TO.toLowerCase(),
      value: PRICE,
      validAfter: BigInt(NOW - 600),
      validBefore: 2n ** 256n - 1n,
      nonce: (payload.payload as { authorization: WireAuthorization }).authorization.nonce,
    });
    expect(presented.validBefore).toBe(Number.MAX_SAFE_INTEGER);
    expect(presented.signature).toBe((payload.payload as { signature: Hex }).signature);
  });

  it.each<[string, unknown]>([
    ["missing", undefined],
    ["not hex", "0xzz"],
    ["an odd number of digits", "0xabc"],
    ["without 0x", "ab".repeat(65)],
    ["a number", 12],
  ])("refuses a payload whose signature is %s", async (_name, signature) => {
    const { payload } = await build();
    const broken = { ...payload, payload: { ...payload.payload, signature } };
    expect(readAuthorization(encodePaymentSignatureHeader(broken as PaymentPayload))).toBeUndefined();
  });
});
