// If settlement fails after the poll was claimed, the agent gets a 402 (with the facilitator's
// PAYMENT-RESPONSE), the poll is payment_failed and invisible, and nothing is charged twice.
// The failure is real: while moderation runs, someone else submits the same EIP-3009
// authorization to the token first, so the facilitator's settlement reverts on chain.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePaymentResponseHeader, decodePaymentSignatureHeader } from "@x402/core/http";
import { createWalletClient, http, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccount, localChain, testUsdcAbi, usdcBalanceOf } from "../src/devnet/chain";
import type { Moderator } from "../src/moderation/moderator";
import { pollBody, startLocalService, type LocalService } from "./support/harness";
import { challengeFor, postPoll, signPayment } from "./support/sign";

let service: LocalService;
let beforeModerationVerdict: (() => Promise<void>) | undefined;

const frontRunningModerator: Moderator = {
  name: "test-front-runner",
  async moderate() {
    await beforeModerationVerdict?.();
    return { flagged: false };
  },
};

beforeAll(async () => {
  service = await startLocalService({}, { moderator: frontRunningModerator });
});
afterAll(async () => {
  await service?.stop();
});

async function submitAuthorizationOurselves(paymentSignature: string): Promise<void> {
  const devnet = service.devnet!;
  const payload = decodePaymentSignatureHeader(paymentSignature);
  const { authorization, signature } = payload.payload as {
    authorization: { from: Hex; to: Hex; value: string; validAfter: string; validBefore: string; nonce: Hex };
    signature: Hex;
  };
  const account = privateKeyToAccount(devAccount(9).privateKey);
  const wallet = createWalletClient({ account, chain: localChain(devnet.chainId, devnet.rpcUrl), transport: http(devnet.rpcUrl) });
  await wallet.writeContract({
    address: devnet.asset,
    abi: testUsdcAbi,
    functionName: "transferWithAuthorization",
    args: [
      authorization.from,
      authorization.to,
      BigInt(authorization.value),
      BigInt(authorization.validAfter),
      BigInt(authorization.validBefore),
      authorization.nonce,
      signature,
    ],
  });
}

describe("settlement failure", () => {
  it("answers 402, marks the poll payment_failed, hides it, and moves the money only once", async () => {
    const devnet = service.devnet!;
    const body = pollBody();
    const signature = await signPayment(service, await challengeFor(service, body), 0);
    const before = await usdcBalanceOf(devnet.rpcUrl, devnet.asset, devnet.payers[0]!.address);
    beforeModerationVerdict = () => submitAuthorizationOurselves(signature);

    const response = await postPoll(service, body, signature);
    beforeModerationVerdict = undefined;

    expect(response.status).toBe(402);
    const json = await response.json();
    expect(json.x402Version).toBe(2);
    expect(json.error).toEqual(expect.any(String));
    const settlement = decodePaymentResponseHeader(response.headers.get("PAYMENT-RESPONSE")!);
    expect(settlement.success).toBe(false);

    const polls = await service.store.db.selectFrom("polls").selectAll().execute();
    expect(polls.map((p) => p.status)).toEqual(["payment_failed"]);
    const payments = await service.store.db.selectFrom("payments").selectAll().execute();
    expect(payments.map((p) => p.status)).toEqual(["failed"]);
    const visible = await fetch(`${service.url}/api/v1/polls/${polls[0]!.id}`);
    expect(visible.status).toBe(404);
    expect((await visible.json()).error.code).toBe("poll_not_found");

    const after = await usdcBalanceOf(devnet.rpcUrl, devnet.asset, devnet.payers[0]!.address);
    expect(before - after).toBe(500_000n); // the front-runner's transfer, and nothing else
  });
});
