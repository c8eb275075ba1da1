// What the chain shows decides a paid creation, not the facilitator's word, with the real facilitator and
// a real chain. While moderation runs, the world moves:
// - someone else submits the payer's EIP-3009 authorization first: the facilitator refuses to settle
//   (nonce used), yet the money reached us, so the agent gets its poll (201, that transaction);
// - the payer empties their wallet: the facilitator refuses before broadcasting and the chain shows the
//   authorization unused, so the agent gets a 402, the poll is payment_failed and nothing is charged.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { createWalletClient, http, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccount, localChain, testUsdcAbi, usdcBalanceOf } from "../src/devnet/chain";
import type { Moderator } from "../src/moderation/moderator";
import { pollBody, startLocalService, type LocalService } from "./support/harness";
import { challengeFor, postPoll, signPayment, submitAuthorization } from "./support/sign";

let service: LocalService;
let beforeModerationVerdict: (() => Promise<void>) | undefined;

const worldMovingModerator: Moderator = {
  name: "test-world-moves-during-moderation",
  async moderate() {
    await beforeModerationVerdict?.();
    return { flagged: false };
  },
};

beforeAll(async () => {
  service = await startLocalService({}, { moderator: worldMovingModerator });
});
afterAll(async () => {
  await service?.stop();
});

function walletOf(privateKey: Hex) {
  const devnet = service.devnet!;
  return createWalletClient({ account: privateKeyToAccount(privateKey), chain: localChain(devnet.chainId, devnet.rpcUrl), transport: http(devnet.rpcUrl) });
}

const rowsOfPoll = async (pollId: string) => ({
  poll: await service.store.db.selectFrom("polls").selectAll().where("id", "=", pollId).executeTakeFirstOrThrow(),
  payment: await service.store.db.selectFrom("payments").selectAll().where("poll_id", "=", pollId).executeTakeFirstOrThrow(),
});

describe("settlement decided by the chain", () => {
  it("a front-run authorization still buys the poll: 201 with the transaction that moved the money, charged once", async () => {
    const devnet = service.devnet!;
    const body = pollBody();
    const signature = await signPayment(service, await challengeFor(service, body), 0);
    const before = await usdcBalanceOf(devnet.rpcUrl, devnet.asset, devnet.payers[0]!.address);
    let frontRunTx: Hex | undefined;
    beforeModerationVerdict = async () => {
      frontRunTx = await submitAuthorization(service.devnet!, signature);
    };
    const response = await postPoll(service, body, signature);
    beforeModerationVerdict = undefined;

    expect(response.status).toBe(201);
    const created = await response.json();
    expect(created.payment.txHash).toBe(frontRunTx);
    expect(created.readToken).toMatch(/^[0-9a-f-]{36}$/);
    const settlement = decodePaymentResponseHeader(response.headers.get("PAYMENT-RESPONSE")!);
    expect(settlement).toMatchObject({ success: true, transaction: frontRunTx });
    const { poll, payment } = await rowsOfPoll(created.id);
    expect(poll.status).toBe("active");
    expect(payment).toMatchObject({ status: "settled", tx_hash: frontRunTx, answer: "created" });
    expect((await fetch(`${service.url}/api/v1/polls/${created.id}`)).status).toBe(200);
    expect(before - (await usdcBalanceOf(devnet.rpcUrl, devnet.asset, devnet.payers[0]!.address))).toBe(500_000n);
  });

  it("a refusal before broadcast leaves no poll and no charge: 402, payment_failed, hidden", async () => {
    const devnet = service.devnet!;
    const payer = devnet.payers[1]!;
    const body = pollBody();
    const signature = await signPayment(service, await challengeFor(service, body), 1);
    const payTo = devnet.payTo;
    const paidInBefore = await usdcBalanceOf(devnet.rpcUrl, devnet.asset, payTo);
    const drain = devAccount(8).address;
    beforeModerationVerdict = async () => {
      const balance = await usdcBalanceOf(devnet.rpcUrl, devnet.asset, payer.address);
      await walletOf(payer.privateKey).writeContract({ address: devnet.asset, abi: testUsdcAbi, functionName: "transfer", args: [drain, balance] });
    };
    const response = await postPoll(service, body, signature);
    beforeModerationVerdict = undefined;

    expect(response.status).toBe(402);
    const json = await response.json();
    expect(json.x402Version).toBe(2);
    expect(json.error).toMatch(/^invalid_|^insufficient_funds$/);
    expect(response.headers.get("PAYMENT-REQUIRED")).toBeTruthy();
    const settlement = decodePaymentResponseHeader(response.headers.get("PAYMENT-RESPONSE")!);
    expect(settlement.success).toBe(false);
    const row = await service.store.db
      .selectFrom("payments")
      .selectAll()
      .where("payer", "=", payer.address.toLowerCase())
      .executeTakeFirstOrThrow();
    const { poll, payment } = await rowsOfPoll(row.poll_id);
    expect(poll.status).toBe("payment_failed");
    expect(payment.status).toBe("failed");
    expect(payment.failure_reason).toBe(json.error);
    const visible = await fetch(`${service.url}/api/v1/polls/${poll.id}`);
    expect(visible.status).toBe(404);
    expect((await visible.json()).error.code).toBe("poll_not_found");
    expect(await usdcBalanceOf(devnet.rpcUrl, devnet.asset, payTo)).toBe(paidInBefore);
  });
});
