// "Each voter is paid exactly once, whatever step the server dies at." One payout is carried through
// every step of its life by a chain of server processes, each SIGKILLed by the local-mode hook
// QUALI_TEST_PAYOUT_CRASH_AT at the next step, with the chain (a separate anvil, DEVNET_RPC_URL)
// outliving them all:
//   after_claim     the job claimed the voter's ledger entries; nothing signed
//   after_sign      signed_tx + tx_hash recorded; never broadcast
//   after_receipt   the restart found no receipt, broadcast the recorded transaction (mined at once),
//                   saw its receipt; killed before recording it
//   after_confirm   the restart found the receipt of the 'signed' row and recorded 'confirmed'
// then a last process pays a second voter normally. The token's Transfer logs out of the payout wallet
// must show one transfer per payout, with the recorded hash and the ledger's amount. (A kill right after
// eth_sendRawTransaction, with the transaction still pending, is in
// payouts-survive-crashes-between-signing-and-confirmation.test.ts.)
import { describe, expect, it } from "vitest";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { publicClientFor } from "../src/devnet/chain";
import { ownerRewards } from "./support/owner-rewards";
import { requestSignedPayout, voterAccount } from "./support/payout-requests";
import { createPollOver, devnetFile, payoutCrashBench, readDb, waitUntil, type PayoutRecord } from "./support/payouts";
import { expectKilled, listening } from "./support/server-process";

const voter1 = voterAccount(`0x${"c1".repeat(32)}`);
const V1 = voter1.address;
// V2's balance stays below the threshold: it signs its payout request (the test holds its key).
const voter2 = voterAccount(`0x${"c2".repeat(32)}`);
const V2 = voter2.address;

// Threshold 1000 (two votes); the job runs at startup, then every PAYOUT_INTERVAL_MS.
const bench = payoutCrashBench({ dataDirPrefix: "quali-payout-crash-", env: { PAYOUT_THRESHOLD_ATOMIC: "1000", PAYOUT_INTERVAL_MS: "200" } });
const { spawnAt, payouts } = bench;
const chainTransfers = async () => new Map([...(await bench.transfers())].filter(([to]) => to === V1 || to === V2));

/** The payout job's health stamps, as /healthz shows them: each round stamps checkedAt (up to twice). */
async function healthStamps(url: string): Promise<string> {
  const body = (await (await fetch(`${url}/healthz`)).json()) as { payouts?: Record<string, { checkedAt: string | null }> };
  return JSON.stringify(Object.values(body.payouts ?? {}).map((health) => health.checkedAt));
}

/** Waits until the payout job has run at least `rounds` more complete rounds. */
async function jobRounds(url: string, rounds: number): Promise<void> {
  const seen = new Set([await healthStamps(url)]);
  // At most two stamps per round: 2 × rounds + 1 new ones span at least `rounds` whole rounds.
  await waitUntil(async () => (seen.add(await healthStamps(url)).size > 2 * rounds + 1 ? true : undefined), `${rounds} more payout rounds`);
}

// The steps run in order on one data directory and one chain (each `it` is one process's life).
let claimed: PayoutRecord;
let signed: PayoutRecord;
let hash: Hex;

describe("payouts survive a crash at every step", () => {
  it("killed after the claim: the voter's entries belong to one payout, nothing is signed", async () => {
    // Votes through the HTTP API; the second vote of V1 reaches the threshold and the job claims.
    const first = spawnAt("after_claim");
    const url = await listening(first);
    const devnet = devnetFile(bench.dataDir);
    const poll = await createPollOver(url, devnet);
    expect((await voteAsSimulatedHuman(url, { pollId: poll.id, optionId: poll.options[0]!.id, human: "v2-a", payoutAddress: V2 })).status).toBe(201);
    expect((await voteAsSimulatedHuman(url, { pollId: poll.id, optionId: poll.options[0]!.id, human: "v1-a", payoutAddress: V1 })).status).toBe(201);
    // The job may kill the process before this answer is written: the ledger says whether it counted.
    await voteAsSimulatedHuman(url, { pollId: poll.id, optionId: poll.options[1]!.id, human: "v1-b", payoutAddress: V1 }).catch(() => undefined);
    await expectKilled(first);
    expect(payouts()).toHaveLength(1);
    claimed = payouts()[0]!;
    expect(claimed).toMatchObject({ address: V1, status: "claimed", amount_atomic: "1000", entries: 2, tx_hash: null });
    expect(readDb(bench.dataDir, "SELECT vote_id FROM reward_ledger WHERE address = ? AND payout_id = ?", V1, claimed.id)).toHaveLength(2);
    expect(readDb(bench.dataDir, "SELECT vote_id FROM reward_ledger WHERE address = ? AND payout_id IS NULL", V2)).toHaveLength(1);
    expect(await chainTransfers()).toEqual(new Map());
  });

  it("killed after signing: the signed transaction and its hash are recorded, never broadcast", async () => {
    await expectKilled(spawnAt("after_sign"));
    signed = payouts()[0]!;
    expect(signed).toMatchObject({ id: claimed.id, status: "signed", broadcasts: 0 });
    hash = signed.tx_hash as Hex;
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    await expect(publicClientFor(bench.rpcUrl).getTransaction({ hash })).rejects.toThrow(); // never broadcast
    expect(await chainTransfers()).toEqual(new Map());
  });

  it("killed after seeing the receipt: the restart broadcast the SAME signed transaction, which paid once", async () => {
    await expectKilled(spawnAt("after_receipt"));
    expect(payouts()[0]).toMatchObject({ status: "sent", tx_hash: hash, signed_tx: signed.signed_tx, broadcasts: 1 });
    expect(await chainTransfers()).toEqual(new Map([[V1, [{ value: 1000n, tx: hash }]]]));
  });

  it("killed after recording the confirmation: confirmed, still one transfer", async () => {
    await expectKilled(spawnAt("after_confirm"));
    expect(payouts()[0]).toMatchObject({ status: "confirmed", tx_hash: hash, signed_tx: signed.signed_tx });
    expect(await chainTransfers()).toEqual(new Map([[V1, [{ value: 1000n, tx: hash }]]]));
  });

  it("a clean restart has nothing left to do for V1 and pays V2; the Transfer logs equal the ledger", async () => {
    const last = spawnAt();
    const lastUrl = await listening(last);
    const asked = await requestSignedPayout(lastUrl, voter2.privateKey);
    expect(asked.status).toBe(202);
    await waitUntil(() => payouts().find((p) => p.address === V2 && p.status === "confirmed"), "V2's payout to confirm");
    await jobRounds(lastUrl, 3); // a few more job rounds: still nothing new

    const transfers = await chainTransfers();
    const finalPayouts = payouts();
    expect(finalPayouts.map((p) => [p.address, p.status])).toEqual([[V1, "confirmed"], [V2, "confirmed"]]);
    const v2Payout = finalPayouts[1]!;
    expect(transfers).toEqual(
      new Map([
        [V1, [{ value: 1000n, tx: hash }]],
        [V2, [{ value: 500n, tx: v2Payout.tx_hash }]],
      ]),
    );
    expect(v2Payout.nonce).toBe(signed.nonce! + 1);
    // The chain equals the ledger, voter by voter.
    const ledger = readDb<{ address: string; total: number }>(
      bench.dataDir,
      "SELECT address, SUM(CAST(amount_atomic AS INTEGER)) AS total FROM reward_ledger GROUP BY address ORDER BY address",
    );
    for (const { address, total } of ledger) {
      expect(transfers.get(address)!.reduce((sum, t) => sum + t.value, 0n), address).toBe(BigInt(total));
    }
    const rewards = (await ownerRewards(lastUrl, privateKeyToAccount(voter1.privateKey))).body as { rewards: Record<string, unknown>[] };
    expect(rewards.rewards[0]).toMatchObject({ accruedAtomic: "1000", unpaidAtomic: "0", pendingAtomic: "0", paidAtomic: "1000" });
    expect(rewards.rewards[0]!.payouts).toEqual([expect.objectContaining({ status: "confirmed", txHash: hash })]);
    await last.stop();
  });
});
