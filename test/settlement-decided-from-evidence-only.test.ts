// The decision table of src/payment/settlement.ts, branch by branch, in process: what the facilitator
// said is reduced to a hint (facilitatorAnswerOf), and a claim is decided by what the chain reader
// reports (decideClaim). The chain reader here answers from a table: the real one is exercised against
// anvil in money-follows-the-chain.test.ts and settlement-decided-by-the-chain.test.ts; the receipt parser
// that is the proof (evidenceFromReceipt) is checked here on receipts built log by log.
import { describe, expect, it } from "vitest";
import type { PaymentRow } from "../src/db/schema";
import { pad, toEventSelector, toHex, type Hex, type TransactionReceipt } from "viem";
import { evidenceFromReceipt, type AuthorizationEvidence, type ChainReader } from "../src/payment/chain-reader";
import { decideClaim, EXPIRY_MARGIN_SECONDS, facilitatorAnswerOf, type FacilitatorAnswer } from "../src/payment/settlement";

const NETWORK = "eip155:8453";
const TX = `0x${"11".repeat(32)}`;
const OTHER_TX = `0x${"22".repeat(32)}`;
const NOW = new Date("2026-12-05T12:00:00.000Z");
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);

function claim(validBefore = NOW_SECONDS + 120): PaymentRow {
  return {
    id: "payment-1",
    poll_id: "poll-1",
    network: NETWORK,
    payer: `0x${"aa".repeat(20)}`,
    nonce: `0x${"bb".repeat(32)}`,
    asset: `0x${"cc".repeat(20)}`,
    pay_to: `0x${"dd".repeat(20)}`,
    amount_atomic: "500000",
    valid_before: validBefore,
    status: "claimed",
    tx_hash: null,
    failure_reason: null,
    created_at: NOW.toISOString(),
    settled_at: null,
    answer: null,
    payment_identifier: null,
    request_fingerprint: null,
  };
}

/** A chain that answers `evidence` (or throws it), and remembers the hint it was given. */
function chainSaying(evidence: AuthorizationEvidence | Error) {
  const hints: ({ txHash?: string; waitMs?: number } | undefined)[] = [];
  const reader: ChainReader = {
    latestBlock: async () => 1n,
    hasCode: async () => false,
    async authorizationEvidence(_claim, hint) {
      hints.push(hint);
      if (evidence instanceof Error) throw evidence;
      return evidence;
    },
  };
  return { chains: new Map([[NETWORK, reader]]), hints };
}

const deps = (chains: ReadonlyMap<string, ChainReader>) => ({ chains, now: () => NOW, log: () => {}, confirmWaitMs: 3_000 });

describe("the facilitator's answer is only a hint", () => {
  it.each<[string, Parameters<typeof facilitatorAnswerOf>[0], FacilitatorAnswer]>([
    ["success with a transaction", { success: true, transaction: TX, network: NETWORK }, { kind: "settled", txHash: TX }],
    ["success without a transaction", { success: true, transaction: "", network: NETWORK }, { kind: "unknown", reason: "settled_without_transaction" }],
    ["an invalid_* refusal, nothing broadcast", { success: false, errorReason: "invalid_exact_evm_signature", transaction: "", network: NETWORK }, { kind: "rejected", reason: "invalid_exact_evm_signature" }],
    ["insufficient funds, nothing broadcast", { success: false, errorReason: "insufficient_funds", transaction: "", network: NETWORK }, { kind: "rejected", reason: "insufficient_funds" }],
    ["an invalid_* reason WITH a transaction", { success: false, errorReason: "invalid_exact_evm_nonce_already_used", transaction: TX, network: NETWORK }, { kind: "unknown", reason: "invalid_exact_evm_nonce_already_used", txHash: TX }],
    ["settlement_pending", { success: false, errorReason: "settlement_pending", transaction: TX, network: NETWORK }, { kind: "unknown", reason: "settlement_pending", txHash: TX }],
    ["a proxy's HTML 504 (the raw error text as reason)", { success: false, errorReason: "Facilitator settle failed (504): <html>", transaction: "", network: NETWORK }, { kind: "unknown", reason: "Facilitator settle failed (504): <html>" }],
    ["a dropped connection", { success: false, errorReason: "fetch failed", transaction: "", network: NETWORK }, { kind: "unknown", reason: "fetch failed" }],
    ["no structured answer at all (502, timeout)", undefined, { kind: "unknown", reason: "facilitator_error" }],
  ])("%s", (_label, settlement, expected) => {
    expect(facilitatorAnswerOf(settlement)).toEqual(expected);
  });
});

describe("a claim is decided by the chain", () => {
  it("active only on a transfer the chain shows, with the chain's transaction, not the facilitator's", async () => {
    const { chains, hints } = chainSaying({ kind: "transferred", txHash: TX });
    expect(await decideClaim(deps(chains), claim(), { kind: "settled", txHash: OTHER_TX })).toEqual({ state: "active", txHash: TX });
    expect(hints).toEqual([{ txHash: OTHER_TX, waitMs: 3_000 }]);
  });

  it("a reported success the chain does not show stays open", async () => {
    const { chains } = chainSaying({ kind: "unused" });
    expect(await decideClaim(deps(chains), claim(), { kind: "settled", txHash: TX })).toMatchObject({ state: "open", reason: "settled_not_confirmed" });
  });

  it("a definitive refusal fails the claim only when the chain agrees nothing moved", async () => {
    expect(await decideClaim(deps(chainSaying({ kind: "unused" }).chains), claim(), { kind: "rejected", reason: "invalid_exact_evm_signature" })).toEqual({
      state: "failed",
      reason: "invalid_exact_evm_signature",
    });
    // Front-run: refused, yet the transfer happened.
    expect(await decideClaim(deps(chainSaying({ kind: "transferred", txHash: TX }).chains), claim(), { kind: "rejected", reason: "invalid_exact_evm_nonce_already_used" })).toEqual({
      state: "active",
      txHash: TX,
    });
  });

  it("an unreachable chain never fails a claim, even after a definitive refusal", async () => {
    const { chains } = chainSaying(new Error("connect ECONNREFUSED"));
    expect(await decideClaim(deps(chains), claim(), { kind: "rejected", reason: "invalid_exact_evm_signature" })).toMatchObject({ state: "open", reason: "chain_unreachable" });
    expect(await decideClaim(deps(chains), claim(NOW_SECONDS - 3_600))).toMatchObject({ state: "open", reason: "chain_unreachable" });
  });

  it("a cancelled authorization fails with its own reason; a used one whose transaction is not the claimed transfer fails too", async () => {
    expect(await decideClaim(deps(chainSaying({ kind: "canceled", txHash: TX }).chains), claim())).toEqual({ state: "failed", reason: "authorization_canceled" });
    expect(await decideClaim(deps(chainSaying({ kind: "transfer_mismatch", txHash: TX }).chains), claim())).toEqual({ state: "failed", reason: "transfer_mismatch" });
  });

  it("a used authorization whose transaction cannot be found stays open (never activated without its transfer)", async () => {
    expect(await decideClaim(deps(chainSaying({ kind: "used_unlocated" }).chains), claim(NOW_SECONDS - 3_600))).toMatchObject({
      state: "open",
      reason: "authorization_used_unlocated",
    });
  });

  it("an unused authorization is released only once it can no longer be used: past validBefore and the margin", async () => {
    const { chains } = chainSaying({ kind: "unused" });
    const atMargin = claim(NOW_SECONDS - EXPIRY_MARGIN_SECONDS);
    expect(await decideClaim(deps(chains), atMargin)).toMatchObject({ state: "open", authorizationUnused: true });
    expect(await decideClaim(deps(chains), claim(NOW_SECONDS - EXPIRY_MARGIN_SECONDS - 1))).toEqual({ state: "failed", reason: "authorization_expired_unused" });
    expect(await decideClaim(deps(chains), claim(), { kind: "unknown", reason: "settlement_pending", txHash: TX })).toMatchObject({
      state: "open",
      reason: "settlement_pending",
      txHash: TX,
    });
  });

  it("without a chain reader only a definitive refusal is final", async () => {
    const none = new Map<string, ChainReader>();
    expect(await decideClaim(deps(none), claim(), { kind: "rejected", reason: "invalid_exact_evm_signature" })).toEqual({ state: "failed", reason: "invalid_exact_evm_signature" });
    expect(await decideClaim(deps(none), claim(), { kind: "settled", txHash: TX })).toEqual({ state: "open", reason: "no_chain_reader" });
  });
});

describe("a receipt proves the claimed transfer or nothing", () => {
  const c = claim();
  const topic = (address: string) => pad(address as Hex, { size: 32 });
  const log = (address: string, topics: Hex[], data: Hex = "0x") => ({ address, topics, data });
  const used = log(c.asset, [toEventSelector("AuthorizationUsed(address,bytes32)"), topic(c.payer), c.nonce as Hex]);
  const transfer = (to: string, amount: bigint, from = c.payer) =>
    log(c.asset, [toEventSelector("Transfer(address,address,uint256)"), topic(from), topic(to)], pad(toHex(amount), { size: 32 }));
  const receipt = (logs: ReturnType<typeof log>[], status: "success" | "reverted" = "success") =>
    ({ status, transactionHash: TX, logs }) as unknown as TransactionReceipt;
  const claimed = { asset: c.asset, payer: c.payer, payTo: c.pay_to, nonce: c.nonce, amountAtomic: c.amount_atomic };

  it("the exact transfer under the claimed authorization → transferred", () => {
    expect(evidenceFromReceipt(receipt([used, transfer(c.pay_to, 500_000n)]), claimed)).toEqual({ kind: "transferred", txHash: TX });
  });
  it("the authorization used for another amount or recipient → transfer_mismatch", () => {
    expect(evidenceFromReceipt(receipt([used, transfer(c.pay_to, 499_999n)]), claimed)).toEqual({ kind: "transfer_mismatch", txHash: TX });
    expect(evidenceFromReceipt(receipt([used, transfer(`0x${"ee".repeat(20)}`, 500_000n)]), claimed)).toEqual({ kind: "transfer_mismatch", txHash: TX });
  });
  it("the same events from another contract, another payer's transfer, or a reverted transaction prove nothing", () => {
    const elsewhere = { ...used, address: `0x${"ef".repeat(20)}` };
    expect(evidenceFromReceipt(receipt([elsewhere, { ...transfer(c.pay_to, 500_000n), address: elsewhere.address }]), claimed)).toBeUndefined();
    expect(evidenceFromReceipt(receipt([transfer(c.pay_to, 500_000n, `0x${"99".repeat(20)}`)]), claimed)).toBeUndefined();
    expect(evidenceFromReceipt(receipt([used, transfer(c.pay_to, 500_000n)], "reverted"), claimed)).toBeUndefined();
  });
  it("a cancellation of the claimed authorization → canceled", () => {
    const canceled = log(c.asset, [toEventSelector("AuthorizationCanceled(address,bytes32)"), topic(c.payer), c.nonce as Hex]);
    expect(evidenceFromReceipt(receipt([canceled]), claimed)).toEqual({ kind: "canceled", txHash: TX });
  });
});
