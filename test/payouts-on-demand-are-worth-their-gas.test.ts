// An on-demand payout (POST /api/v1/voter/payouts) costs gas: anyone may ask for a balance that reached
// the threshold, but a smaller one is paid only when the address itself signed the request. Unsigned
// below the threshold → 400 below_payout_threshold and nothing claimed; signed → paid on chain.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { usdcBalanceOf, type Address } from "../src/devnet/chain";
import { payoutRequestMessage } from "../src/payouts/request-signature";
import { startLocalService, type LocalService } from "./support/harness";
import { requestPayout, requestSignedPayout, voterAccount } from "./support/payout-requests";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

let service: LocalService;
let poll: CreatedPoll;
let humans = 0;
const small = voterAccount(generatePrivateKey()); // 1 vote: 500 < threshold
const large = voterAccount(generatePrivateKey()); // 3 votes: 1500 = threshold

async function vote(address: string, times: number) {
  for (let i = 0; i < times; i++) {
    const answer = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: `gas-${humans++}`, payoutAddress: address });
    expect(answer.status).toBe(201);
  }
}
const payoutRows = (address: string) => service.store.sqlite.prepare("SELECT status, trigger, amount_atomic FROM payouts WHERE address = ?").all(address);
const claimedEntries = (address: string) =>
  (service.store.sqlite.prepare("SELECT COUNT(*) AS n FROM reward_ledger WHERE address = ? AND payout_id IS NOT NULL").get(address) as { n: number }).n;
const onChain = (address: string) => usdcBalanceOf(service.devnet!.rpcUrl, service.devnet!.asset, address as Address);

beforeAll(async () => {
  // Threshold 1500 = 3 votes; no timer rounds (and no threshold claims unless kicked).
  service = await startLocalService({ PAYOUT_THRESHOLD_ATOMIC: "1500", PAYOUT_INTERVAL_MS: "3600000" });
  await service.payouts.kick();
  poll = await createPaidPoll(service);
  await vote(small.address, 1);
});
afterAll(async () => {
  await service?.stop();
});

describe("on-demand payouts are worth their gas", () => {
  it("refuses an unsigned request below the threshold with 400 below_payout_threshold and claims nothing", async () => {
    const refused = await requestPayout(service.url, { address: small.address });
    expect(refused.status).toBe(400);
    const { error } = (await refused.json()) as { error: { code: string; param: string; message: string; details: Record<string, unknown> } };
    expect(error).toMatchObject({ code: "below_payout_threshold", param: "signature", details: { thresholdAtomic: "1500" } });
    expect(error.message).toMatch(/reaches 0\.0015 USDC/);
    expect(error.details.messageToSign).toMatch(new RegExp(`^Quali payout request\\nAddress: ${small.address}\\nTimestamp: `));
    // Unsigned, the answer says nothing about the balance: an address that never voted gets the same one.
    const stranger = `0x${"7e".repeat(20)}`;
    const strangerAnswer = (await (await requestPayout(service.url, { address: stranger })).json()) as { error: typeof error };
    const withoutAddress = (e: typeof error) => ({ ...e, details: { ...e.details, messageToSign: undefined } });
    expect(withoutAddress(strangerAnswer.error)).toEqual(withoutAddress(error));
    expect(payoutRows(small.address)).toEqual([]);
    expect(claimedEntries(small.address)).toBe(0);
  });

  it("refuses a request signed by another wallet, or with a stale or foreign message, and claims nothing", async () => {
    const intruder = privateKeyToAccount(generatePrivateKey());
    const message = payoutRequestMessage(small.address);
    const forged = await requestPayout(service.url, { address: small.address, message, signature: await intruder.signMessage({ message }) });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { code: string; param: string } }).error).toMatchObject({ code: "invalid_signature", param: "signature" });

    const owner = privateKeyToAccount(small.privateKey);
    const stale = payoutRequestMessage(small.address, new Date(Date.now() - 11 * 60_000));
    const old = await requestPayout(service.url, { address: small.address, message: stale, signature: await owner.signMessage({ message: stale }) });
    expect(old.status).toBe(400);
    expect(((await old.json()) as { error: { param: string } }).error.param).toBe("message");

    const other = payoutRequestMessage(large.address);
    const foreign = await requestPayout(service.url, { address: small.address, message: other, signature: await owner.signMessage({ message: other }) });
    expect(foreign.status).toBe(400);

    const half = await requestPayout(service.url, { address: small.address, message });
    expect(half.status).toBe(400);
    expect(((await half.json()) as { error: { param: string } }).error.param).toBe("signature");
    expect(payoutRows(small.address)).toEqual([]);
  });

  it("pays any positive balance when the address signed the request", async () => {
    const asked = await requestSignedPayout(service.url, small.privateKey);
    expect(asked.status).toBe(202);
    expect(await asked.json()).toMatchObject({ payouts: [expect.objectContaining({ status: "pending", amountAtomic: "500", votes: 1 })] });
    await service.payouts.kick();
    expect(await onChain(small.address)).toBe(500n);
    expect(payoutRows(small.address)).toEqual([{ status: "confirmed", trigger: "request", amount_atomic: "500" }]);
  });

  it("pays an unsigned request once the balance reached the threshold", async () => {
    await vote(large.address, 3); // votes never run the job: only this request claims
    const asked = await requestPayout(service.url, { address: large.address });
    expect(asked.status).toBe(202);
    await service.payouts.kick();
    expect(await onChain(large.address)).toBe(1500n);
  });
});
