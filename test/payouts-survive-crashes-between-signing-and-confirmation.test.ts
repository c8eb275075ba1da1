// "A payout in flight when the server dies is finished with the same transaction, never a new one."
// The chain (anvil, DEVNET_RPC_URL) has automine off, so a broadcast transfer stays pending while its
// server process is SIGKILLed; the node may even forget it. Three processes in a row:
//   1. a voter asks for a payout; the job signs and broadcasts it and the hook kills the process right
//      after eth_sendRawTransaction (the row still says 'signed'); the node then drops the transaction;
//   2. the restart finds no receipt, re-broadcasts the recorded raw transaction, marks it 'sent' and
//      waits — and is SIGKILLed from outside while it waits;
//   3. the next restart re-broadcasts it again (the node already has it), a block is mined, the payout
//      is confirmed; a second voter is then paid with the next nonce.
// Each voter is paid exactly once, checked against the token's Transfer logs.
import { describe, expect, it } from "vitest";
import type { Hex } from "viem";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { publicClientFor } from "../src/devnet/chain";
import { requestSignedPayout, voterAccount } from "./support/payout-requests";
import { anvilRpc, createPollOver, devnetFile, payoutCrashBench, waitUntil, type PayoutRecord } from "./support/payouts";
import { expectKilled, listening } from "./support/server-process";

// Their balances are below the threshold: they sign their payout requests (the test holds their keys).
const voter1 = voterAccount(`0x${"d1".repeat(32)}`);
const voter2 = voterAccount(`0x${"d2".repeat(32)}`);
const V1 = voter1.address;
const V2 = voter2.address;

// Default threshold (0.01 USDC): only requests pay here. No timer rounds: startup, then on request.
const bench = payoutCrashBench({ dataDirPrefix: "quali-payout-inflight-", env: { PAYOUT_INTERVAL_MS: "3600000" } });
const { spawnAt, payouts } = bench;
const requestPayout = (url: string, address: string) => requestSignedPayout(url, address === V1 ? voter1.privateKey : voter2.privateKey);
const client = () => publicClientFor(bench.rpcUrl);
const pendingTx = async (hash: Hex) => client().getTransaction({ hash }).then((tx) => tx.blockNumber === null, () => false);

let signed: PayoutRecord;

describe("payouts in flight survive crashes between signing and confirmation", () => {
  it("killed right after broadcasting (transaction pending), and the node then forgets it", async () => {
    const first = spawnAt("after_broadcast");
    const url = await listening(first);
    const poll = await createPollOver(url, devnetFile(bench.dataDir));
    for (const [human, address] of [["a", V1], ["b", V1], ["c", V2]] as const) {
      const answer = await voteAsSimulatedHuman(url, { pollId: poll.id, optionId: poll.options[0]!.id, human, payoutAddress: address });
      expect(answer.status).toBe(201);
    }
    await anvilRpc(bench.rpcUrl, "evm_setAutomine", [false]);
    await requestPayout(url, V1).catch(() => undefined); // the 202 may or may not get out before the kill
    await expectKilled(first);

    signed = payouts()[0]!;
    expect(signed).toMatchObject({ address: V1, status: "signed", amount_atomic: "1000", broadcasts: 0 });
    const hash = signed.tx_hash as Hex;
    expect(await pendingTx(hash)).toBe(true);
    await anvilRpc(bench.rpcUrl, "anvil_dropTransaction", [hash]);
    await expect(client().getTransaction({ hash })).rejects.toThrow();
  });

  it("the restart re-broadcasts the recorded transaction and is killed while waiting for its receipt", async () => {
    const second = spawnAt();
    await listening(second);
    const hash = signed.tx_hash as Hex;
    await waitUntil(() => payouts()[0]?.status === "sent" || undefined, "the re-broadcast to be recorded");
    expect(await pendingTx(hash)).toBe(true); // the node has our transaction again: same hash, same bytes
    second.child.kill("SIGKILL");
    await expectKilled(second);
    expect(payouts()[0]).toMatchObject({ status: "sent", tx_hash: hash, signed_tx: signed.signed_tx, nonce: signed.nonce, broadcasts: 1 });
    expect(await bench.transfers()).toEqual(new Map());
  });

  it("the next restart finishes it with the same transaction once a block is mined; the next voter gets the next nonce", async () => {
    const third = spawnAt();
    const url = await listening(third);
    const hash = signed.tx_hash as Hex;
    await waitUntil(() => (payouts()[0]?.broadcasts ?? 0) >= 2 || undefined, "the second re-broadcast"); // "already known" is fine
    await anvilRpc(bench.rpcUrl, "evm_mine");
    await waitUntil(() => payouts()[0]?.status === "confirmed" || undefined, "the payout to be confirmed");
    await anvilRpc(bench.rpcUrl, "evm_setAutomine", [true]);

    expect((await requestPayout(url, V2)).status).toBe(202);
    await waitUntil(() => payouts().find((p) => p.address === V2 && p.status === "confirmed"), "V2's payout");
    const [p1, p2] = payouts();
    expect(p1).toMatchObject({ address: V1, status: "confirmed", tx_hash: hash, signed_tx: signed.signed_tx });
    expect(p2!.nonce).toBe(signed.nonce! + 1);

    const transfers = await bench.transfers();
    expect(transfers).toEqual(
      new Map([
        [V1, [{ value: 1000n, tx: hash }]],
        [V2, [{ value: 500n, tx: p2!.tx_hash }]],
      ]),
    );
    // /healthz shows the wallet as of the job's last round.
    const health = async () =>
      Object.values(((await (await fetch(`${url}/healthz`)).json()) as { payouts: Record<string, { state: string; pendingAtomic: string }> }).payouts)[0];
    await waitUntil(async () => ((await health())?.pendingAtomic === "0" ? true : undefined), "/healthz to show nothing pending");
    expect(await health()).toMatchObject({ state: "active", pendingAtomic: "0" });
    await third.stop();
  });
});
