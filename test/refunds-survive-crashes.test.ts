// "A refund in flight when the server dies is finished with the same transaction, never a new one": the
// refund is a row of the same queue as voter payouts, so it gets the same crash reconciliation. Server
// processes on one chain (anvil, DEVNET_RPC_URL) and one DATA_DIR, in a row:
//   1. a 100-response poll gets 3 votes; the server stops; the poll's expiry passes (the test moves
//      expires_at into the past: time is the test's, nobody waits);
//   2. the restart's startup sweep expires the poll, the payout round queues its refund, signs and records
//      it — and the hook SIGKILLs the process right after signing (nothing broadcast);
//   3. with automine off, the next restart re-broadcasts the recorded transaction and is SIGKILLed right
//      after eth_sendRawTransaction (the transaction pending); the node then forgets it;
//   4. the next restart re-broadcasts the same bytes again; a block is mined; the refund is confirmed.
// The payer receives exactly 97 × 5,000 atomic USDC once, in the transaction signed in step 2 (the
// token's Transfer logs), and `npm run audit` is clean.
import { execFile } from "node:child_process";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { publicClientFor } from "../src/devnet/chain";
import { PROJECT_ROOT } from "../src/project-paths";
import { anvilRpc, createPollOver, devnetFile, payoutCrashBench, readDb, waitUntil } from "./support/payouts";
import type { RefundRow } from "./support/refunds";
import { expectKilled, listening } from "./support/server-process";

const VOTERS = ["0x00000000000000000000000000000000000a0c01", "0x00000000000000000000000000000000000a0c02", "0x00000000000000000000000000000000000a0c03"];

// Default threshold (0.01 USDC): the voters' 3 × 0.0005 stay owed, so the refund is the only transfer.
// No timer rounds: startup, then on request.
const bench = payoutCrashBench({ dataDirPrefix: "quali-refund-crash-", env: { PAYOUT_INTERVAL_MS: "3600000" } });
const refunds = () => readDb<RefundRow>(bench.dataDir, "SELECT * FROM payouts WHERE kind = 'refund' ORDER BY created_at");
const client = () => publicClientFor(bench.rpcUrl);
const pendingTx = async (hash: Hex) => client().getTransaction({ hash }).then((tx) => tx.blockNumber === null, () => false);

/** `npm run audit` against the bench's data directory (the service must be running: it writes devnet.json). */
function runAudit(): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      "npx",
      ["tsx", "scripts/audit.ts"],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, PAYOUT_PRIVATE_KEY: "", X402_PAY_TO_ADDRESS_BASE: "", X402_PAY_TO_ADDRESS_WORLDCHAIN: "", NODE_ENV: "", MODE: "local", DATA_DIR: bench.dataDir },
        timeout: 60_000,
      },
      (error, stdout) => resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout }),
    );
  });
}

let pollId: string;
let signed: RefundRow;

describe("refunds survive crashes between signing and confirmation", () => {
  it("a poll with 3 of 100 votes expires while the service is down", async () => {
    const first = bench.spawnAt();
    const url = await listening(first);
    const poll = await createPollOver(url, devnetFile(bench.dataDir));
    pollId = poll.id;
    for (const [index, address] of VOTERS.entries()) {
      const answer = await voteAsSimulatedHuman(url, { pollId, optionId: poll.options[0]!.id, human: `refund-crash-${index}`, payoutAddress: address });
      expect(answer.status).toBe(201);
    }
    expect(await first.stop()).toBe(0);
    const db = new BetterSqlite3(join(bench.dataDir, "quali.sqlite"));
    try {
      db.prepare("UPDATE polls SET expires_at = ? WHERE id = ?").run(new Date(Date.now() - 60_000).toISOString(), pollId);
    } finally {
      db.close();
    }
    expect(refunds()).toEqual([]);
  });

  it("the restart expires it, queues and signs its refund, and is killed right after signing", async () => {
    const second = bench.spawnAt("after_sign");
    await expectKilled(second);
    const [refund] = refunds();
    expect(refund).toMatchObject({ poll_id: pollId, status: "signed", amount_atomic: "485000", address: devnetFile(bench.dataDir).payers[0]!.address.toLowerCase() });
    expect(refund!.signed_tx).toMatch(/^0x/);
    signed = refund!;
    expect(readDb<{ status: string }>(bench.dataDir, "SELECT status FROM polls WHERE id = ?", pollId)[0]!.status).toBe("expired");
    expect(await bench.transfers()).toEqual(new Map());
  });

  it("the next restart re-broadcasts the recorded transaction and is killed with it pending; the node then forgets it", async () => {
    await anvilRpc(bench.rpcUrl, "evm_setAutomine", [false]);
    const third = bench.spawnAt("after_broadcast");
    await expectKilled(third);
    const hash = signed.tx_hash as Hex;
    expect(refunds()).toEqual([expect.objectContaining({ id: signed.id, status: "signed", tx_hash: hash, signed_tx: signed.signed_tx, nonce: signed.nonce })]);
    expect(await pendingTx(hash)).toBe(true);
    await anvilRpc(bench.rpcUrl, "anvil_dropTransaction", [hash]);
    await expect(client().getTransaction({ hash })).rejects.toThrow();
  });

  it("the next restart finishes it with the same transaction: the payer is refunded 97 × 5,000 exactly once", async () => {
    const fourth = bench.spawnAt();
    const url = await listening(fourth);
    const hash = signed.tx_hash as Hex;
    await waitUntil(() => refunds()[0]?.status === "sent" || undefined, "the re-broadcast to be recorded");
    await anvilRpc(bench.rpcUrl, "evm_mine");
    await waitUntil(() => refunds()[0]?.status === "confirmed" || undefined, "the refund to be confirmed");
    await anvilRpc(bench.rpcUrl, "evm_setAutomine", [true]);

    expect(refunds()).toEqual([expect.objectContaining({ id: signed.id, status: "confirmed", tx_hash: hash, signed_tx: signed.signed_tx })]);
    const payer = devnetFile(bench.dataDir).payers[0]!.address.toLowerCase();
    expect(await bench.transfers()).toEqual(new Map([[payer, [{ value: 485_000n, tx: hash }]]]));
    const poll = (await (await fetch(`${url}/api/v1/polls/${pollId}`)).json()) as { refund?: unknown };
    expect(poll.refund).toEqual({ status: "confirmed", amountAtomic: "485000", amountUsdc: 0.485, txHash: hash });

    const audit = await runAudit();
    expect(audit.stdout).toContain("Result: CLEAN");
    expect(audit.code).toBe(0);
    await fourth.stop();
  });
});
