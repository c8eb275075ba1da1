// Whatever the facilitator says, money follows the chain: the official facilitator behind a proxy that
// misbehaves the way real ones do (test/support/faulty-facilitator.ts). For each fault: the payer is
// charged at most once, every charge ends in an active poll (after reconciliation at the latest), no
// answer given after money moved is a 402, the same signature retried never moves money twice, and the
// money audit (npm run audit) finds the database and the chain in agreement.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePaymentSignatureHeader } from "@x402/core/http";
import { createWalletClient, http, parseAbi, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { auditMoney } from "../src/audit/money-audit";
import { reportToText } from "../src/audit/report";
import { planAudit } from "../src/audit/targets";
import { devAccount, localChain, usdcBalanceOf } from "../src/devnet/chain";
import { pollBody } from "./support/harness";
import { startServiceBehindFaultyFacilitator, type ServiceBehindFaultyFacilitator, type SettleFault } from "./support/faulty-facilitator";
import { testClock } from "./support/clock";
import { challengeFor, postPoll, signPayment, submitAuthorization } from "./support/sign";

const PRICE = 500_000n;
const clock = testClock();
let stack: ServiceBehindFaultyFacilitator;
let nextPayer = 0;

beforeAll(async () => {
  stack = await startServiceBehindFaultyFacilitator({}, { now: clock.now });
});
afterAll(async () => {
  await stack?.stop();
});

async function rpc(method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(stack.devnet.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const json = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (json.error) throw new Error(`${method}: ${json.error.message}`);
  return json.result;
}

/** A fresh payer per case (funded with USDC on the devnet), so balances tell each case's story alone. */
async function freshPayer(): Promise<number> {
  return nextPayer++ % stack.service.devnet!.payers.length;
}

async function attempt(fault: SettleFault) {
  const { service, proxy } = stack;
  const payerIndex = await freshPayer();
  const payer = service.devnet!.payers[payerIndex]!;
  const body = pollBody();
  const signature = await signPayment(service, await challengeFor(service, body), payerIndex);
  const balance = () => usdcBalanceOf(stack.devnet.rpcUrl, stack.devnet.asset, payer.address);
  const before = await balance();
  proxy.setFault(fault);
  const response = await postPoll(service, body, signature);
  proxy.setFault("pass");
  return { response, body, signature, payer, charged: async () => before - (await balance()), retry: () => postPoll(service, body, signature) };
}

const pollRow = (id: string) => stack.service.store.db.selectFrom("polls").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
const paymentOf = (pollId: string) =>
  stack.service.store.db.selectFrom("payments").selectAll().where("poll_id", "=", pollId).executeTakeFirstOrThrow();

async function expectPending(response: Response) {
  expect(response.status).toBe(202);
  expect(response.headers.get("PAYMENT-REQUIRED")).toBeNull();
  expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
  const pending = await response.json();
  expect(pending).toMatchObject({ status: "payment_pending", pollId: expect.any(String), payment: { amountAtomic: PRICE.toString() } });
  expect(pending).not.toHaveProperty("readToken");
  return pending as { pollId: string; payment: { txHash: string | null } };
}

function walletOf(privateKey: Hex) {
  const { devnet } = stack;
  return createWalletClient({ account: privateKeyToAccount(privateKey), chain: localChain(devnet.chainId, devnet.rpcUrl), transport: http(devnet.rpcUrl) });
}

/** The payer takes the authorization back on chain (EIP-3009 cancelAuthorization, signed by the payer). */
async function cancelOnChain(paymentSignature: string, payerKey: Hex): Promise<void> {
  const { devnet } = stack;
  const { authorization } = decodePaymentSignatureHeader(paymentSignature).payload as { authorization: { from: Hex; nonce: Hex } };
  const cancel = await privateKeyToAccount(payerKey).signTypedData({
    domain: { name: devnet.tokenName, version: devnet.tokenVersion, chainId: devnet.chainId, verifyingContract: devnet.asset },
    types: { CancelAuthorization: [{ name: "authorizer", type: "address" }, { name: "nonce", type: "bytes32" }] },
    primaryType: "CancelAuthorization",
    message: { authorizer: authorization.from, nonce: authorization.nonce },
  });
  await walletOf(devAccount(9).privateKey).writeContract({
    address: devnet.asset,
    abi: parseAbi(["function cancelAuthorization(address authorizer, bytes32 nonce, bytes signature)"]),
    functionName: "cancelAuthorization",
    args: [authorization.from, authorization.nonce, cancel],
  });
}

describe("money follows the chain, whatever the facilitator says", () => {
  it.each<SettleFault>(["pending_after_broadcast", "html_504_after_broadcast", "drop_after_broadcast"])(
    "%s: the mined transfer gets its 201, charged once; the same signature again moves nothing",
    async (fault) => {
      const run = await attempt(fault);
      expect(run.response.status).toBe(201);
      const created = await run.response.json();
      expect(created.payment.txHash).toBe(stack.proxy.broadcasts.at(-1));
      expect(created.readToken).toMatch(/^[0-9a-f-]{36}$/);
      expect((await pollRow(created.id)).status).toBe("active");
      expect(await paymentOf(created.id)).toMatchObject({ status: "settled", tx_hash: created.payment.txHash, answer: "created" });
      expect(await run.charged()).toBe(PRICE);

      const replay = await run.retry();
      expect(replay.status).toBe(409);
      expect((await replay.json()).error).toMatchObject({ code: "payment_already_used", details: { pollId: created.id } });
      expect(await run.charged()).toBe(PRICE);
    },
  );

  it("a facilitator claiming success with a transaction that is not this payment's: no poll, no 201, nothing charged", async () => {
    // The lie points at the last real settlement: a genuine transfer to payTo, from another payer.
    const otherPayment = stack.proxy.broadcasts.at(-1);
    expect(otherPayment).toMatch(/^0x[0-9a-f]{64}$/);
    const run = await attempt("lie_success_without_broadcast");
    const pending = await expectPending(run.response);
    expect(pending.payment.txHash).toBe(otherPayment);
    expect((await pollRow(pending.pollId)).status).toBe("pending_payment");
    expect(await paymentOf(pending.pollId)).toMatchObject({ status: "claimed", tx_hash: null });
    expect((await fetch(`${stack.service.url}/api/v1/polls/${pending.pollId}`)).status).toBe(404);
    expect(await run.charged()).toBe(0n);

    // The authorization was never used: the honest facilitator (or the payer's retry) settles it for this poll.
    const retry = await run.retry();
    expect(retry.status).toBe(202);
    await stack.service.reconcileNow();
    expect((await pollRow(pending.pollId)).status).toBe("pending_payment");
    const settledTx = await submitAuthorization(stack.devnet, run.signature);
    const final = await run.retry();
    expect(final.status).toBe(201);
    expect(await final.json()).toMatchObject({ id: pending.pollId, payment: { txHash: settledTx } });
    expect(await run.charged()).toBe(PRICE);
  });

  it("broadcast but not mined yet: 202 with the poll id, never a 402; once mined, reconciliation activates it and the retry gets the 201", async () => {
    await rpc("evm_setAutomine", [false]);
    let run: Awaited<ReturnType<typeof attempt>>;
    try {
      // The facilitator broadcasts and waits for a block; the service's facilitator call times out first.
      run = await attempt("pending_after_broadcast");
      const pending = await expectPending(run.response);
      expect((await pollRow(pending.pollId)).status).toBe("pending_payment");
      expect((await fetch(`${stack.service.url}/api/v1/polls/${pending.pollId}`)).status).toBe(404);
      // Asking again while nothing is mined: still being confirmed, still the same poll.
      const again = await expectPending(await run.retry());
      expect(again.pollId).toBe(pending.pollId);
      await rpc("evm_mine");
      await rpc("evm_setAutomine", [true]);

      expect(await run.charged()).toBe(PRICE);
      expect(await stack.service.reconcileNow()).toMatchObject({ settled: 1, error: 0 });
      expect((await pollRow(pending.pollId)).status).toBe("active");

      const final = await run.retry();
      expect(final.status).toBe(201);
      const created = await final.json();
      expect(created.id).toBe(pending.pollId);
      expect(created.readToken).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.payment.txHash).toBe((await paymentOf(pending.pollId)).tx_hash);
      // That answer was the 201: from now on the signature is a replay, as the contract says.
      expect((await run.retry()).status).toBe(409);
      expect(await run.charged()).toBe(PRICE);
    } finally {
      await rpc("evm_setAutomine", [true]);
    }
  });

  it("hang before broadcast, then the facilitator broadcasts late: 202, then the poll is activated and its 201 delivered", async () => {
    const run = await attempt("hang_before_broadcast");
    const pending = await expectPending(run.response);
    expect(pending.payment.txHash).toBeNull();
    stack.proxy.releaseHung();
    expect(await run.charged()).toBe(0n);

    const lateTx = await submitAuthorization(stack.devnet, run.signature);
    expect(await run.charged()).toBe(PRICE);
    // The retry itself reads the chain: no need to wait for the reconciler.
    const final = await run.retry();
    expect(final.status).toBe(201);
    const created = await final.json();
    expect(created).toMatchObject({ id: pending.pollId, payment: { txHash: lateTx } });
    expect((await pollRow(pending.pollId)).status).toBe("active");
    expect(await run.charged()).toBe(PRICE);
  });

  it("a definitive refusal before broadcast: 402 with the facilitator's reason, payment_failed, nothing charged, and a retry charges nothing", async () => {
    const run = await attempt("reject_invalid_before_broadcast");
    expect(run.response.status).toBe(402);
    const refused = await run.response.json();
    expect(refused.error).toBe("invalid_exact_evm_signature");
    const row = await stack.service.store.db
      .selectFrom("payments")
      .selectAll()
      .where("payer", "=", run.payer.address.toLowerCase())
      .where("failure_reason", "=", "invalid_exact_evm_signature")
      .executeTakeFirstOrThrow();
    expect((await pollRow(row.poll_id)).status).toBe("payment_failed");
    expect(await run.charged()).toBe(0n);

    // The authorization was freed: the same signature, facilitator healthy again, buys the poll once.
    const retry = await run.retry();
    expect(retry.status).toBe(201);
    expect(await run.charged()).toBe(PRICE);
  });

  it("the cancel race: an open claim whose payer cancels the authorization on chain never activates and charges nothing", async () => {
    const run = await attempt("hang_before_broadcast");
    const pending = await expectPending(run.response);
    stack.proxy.releaseHung();
    await cancelOnChain(run.signature, run.payer.privateKey);

    await stack.service.reconcileNow();
    expect((await pollRow(pending.pollId)).status).toBe("payment_failed");
    expect(await paymentOf(pending.pollId)).toMatchObject({ status: "failed", failure_reason: "authorization_canceled", tx_hash: null });
    const retry = await run.retry();
    expect(retry.status).toBe(402);
    expect((await fetch(`${stack.service.url}/api/v1/polls/${pending.pollId}`)).status).toBe(404);
    expect(await run.charged()).toBe(0n);
  });

  it("an open claim whose authorization is never used is released once past validBefore, and nothing is charged", async () => {
    const run = await attempt("hang_before_broadcast");
    const pending = await expectPending(run.response);
    stack.proxy.releaseHung();
    // Still valid: reconciliation waits, it does not guess.
    await stack.service.reconcileNow();
    expect((await pollRow(pending.pollId)).status).toBe("pending_payment");

    const validBefore = Number((decodePaymentSignatureHeader(run.signature).payload as { authorization: { validBefore: string } }).authorization.validBefore);
    const advanceMs = (validBefore + 120) * 1000 - clock.now().getTime();
    clock.advance(advanceMs);
    try {
      await stack.service.reconcileNow();
      expect(await paymentOf(pending.pollId)).toMatchObject({ status: "failed", failure_reason: "authorization_expired_unused" });
      expect((await pollRow(pending.pollId)).status).toBe("payment_failed");
      const retry = await run.retry();
      expect(retry.status).toBe(402);
      expect((await retry.json()).error).toBe("invalid_exact_evm_payload_authorization_valid_before");
    } finally {
      clock.advance(-advanceMs);
    }
    expect(await run.charged()).toBe(0n);
  });

  it("the audit finds the database and the chain in agreement after all of the above", async () => {
    const plan = planAudit(stack.service.config);
    const audit = await auditMoney(stack.service.store.db, plan.targets, { skipped: plan.skipped });
    if (!audit.clean) console.log(reportToText(audit));
    expect(audit.clean).toBe(true);
  });
});
