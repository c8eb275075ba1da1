// A payout whose transaction can never pay — it reverted, or another transaction took its nonce — is
// marked failed and its ledger entries go back to unpaid, so a new payout pays them: the voter still gets
// exactly what was accrued, once. The "crash" here is a hook that throws after the transaction is signed
// and recorded (the round stops there, nothing broadcast); a second worker then reconciles.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalletClient, encodeAbiParameters, http, keccak256, pad, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { devAccount, localChain, mintUsdc, publicClientFor, usdcBalanceOf, type Address } from "../src/devnet/chain";
import { createPayoutWorker, type PayoutWorker } from "../src/payouts/job";
import { DEVNET_PAYOUT_ACCOUNT_INDEX } from "../src/devnet/payout-wallet";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { anvilRpc, transfersFrom } from "./support/payouts";
import { ownerRewards } from "./support/owner-rewards";
import { voterAccount } from "./support/payout-requests";

const R = "0x00000000000000000000000000000000000f0001";
const voterS = voterAccount(`0x${"5a".repeat(32)}`);
const S = voterS.address;
const payoutWallet = devAccount(DEVNET_PAYOUT_ACCOUNT_INDEX);
/** TestUSDC storage: _initialized, _name, _version, _minter, _totalSupply, then _balances (slot 5). */
const BALANCES_SLOT = 5n;

let service: LocalService;
let poll: CreatedPoll;
const logs: string[] = [];
let humans = 0;

function worker(crashAfterSign: boolean, nonceReuseGraceMs = 0): PayoutWorker {
  return createPayoutWorker({
    store: service.store,
    networks: service.payouts.networks,
    thresholdAtomic: 1000n,
    minGasWei: 1n,
    nonceReuseGraceMs,
    now: () => new Date(),
    log: (line) => logs.push(line),
    ...(crashAfterSign
      ? {
          crashPoint: (point) => {
            if (point === "after_sign") throw new Error("simulated crash after signing");
          },
        }
      : {}),
  });
}
async function runOnce(crashAfterSign: boolean, nonceReuseGraceMs = 0) {
  const w = worker(crashAfterSign, nonceReuseGraceMs);
  await w.kick();
  await w.stop();
}

interface Payout {
  id: string;
  address: string;
  status: string;
  failure_reason: string | null;
  nonce: number | null;
  tx_hash: string | null;
}
const payoutsOf = (address: string) =>
  service.store.sqlite.prepare("SELECT * FROM payouts WHERE address = ? ORDER BY created_at").all(address) as Payout[];
const entriesOf = (address: string) =>
  service.store.sqlite.prepare("SELECT payout_id FROM reward_ledger WHERE address = ?").all(address) as { payout_id: string | null }[];
const paidTo = async (address: string) =>
  ((await transfersFrom(service.devnet!.rpcUrl, service.devnet!.asset, payoutWallet.address)).get(address) ?? []).map((t) => t.value);

async function vote(address: string, times: number) {
  for (let i = 0; i < times; i++) {
    const answer = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: `fail-${humans++}`, payoutAddress: address });
    expect(answer.status).toBe(201);
  }
}

beforeAll(async () => {
  // The service's own job only runs at startup here; these tests drive their own workers.
  service = await startLocalService({ PAYOUT_INTERVAL_MS: "3600000" });
  await service.payouts.kick();
  poll = await createPaidPoll(service);
});
afterAll(async () => {
  await service?.stop();
});

describe("failed payout transactions", () => {
  it("a reverted transfer fails the payout, releases its votes, and a new payout pays them once", async () => {
    await vote(R, 2);
    await runOnce(true);
    const [signed] = payoutsOf(R);
    expect(signed).toMatchObject({ status: "signed" });

    // Empty the wallet's USDC without a transaction (so its nonce is untouched): the transfer will revert.
    const devnet = service.devnet!;
    const slot = keccak256(encodeAbiParameters([{ type: "address" }, { type: "uint256" }], [payoutWallet.address, BALANCES_SLOT]));
    const stored = BigInt(await publicClientFor(devnet.rpcUrl).getStorageAt({ address: devnet.asset, slot }) ?? "0x0");
    expect(stored).toBe(await usdcBalanceOf(devnet.rpcUrl, devnet.asset, payoutWallet.address)); // right slot
    await anvilRpc(devnet.rpcUrl, "anvil_setStorageAt", [devnet.asset, slot, pad(toHex(0n))]);

    await runOnce(false);
    const receipt = await publicClientFor(devnet.rpcUrl).getTransactionReceipt({ hash: signed!.tx_hash as Hex });
    expect(receipt.status).toBe("reverted");
    const [failed, again] = payoutsOf(R);
    expect(failed).toMatchObject({ id: signed!.id, status: "failed", failure_reason: "reverted" });
    expect(again).toMatchObject({ status: "claimed" }); // the released votes, claimed again; waiting for funds
    expect(entriesOf(R).every((e) => e.payout_id === again!.id)).toBe(true);
    expect(await paidTo(R)).toEqual([]);

    await mintUsdc(devnet.rpcUrl, devnet.minter.privateKey, devnet.asset, payoutWallet.address, 1_000_000n);
    await runOnce(false);
    expect(payoutsOf(R).map((p) => p.status)).toEqual(["failed", "confirmed"]);
    expect(await paidTo(R)).toEqual([1000n]);
  });

  it("a payout whose nonce another transaction used is failed and paid again with a new transaction, once", async () => {
    await vote(S, 2);
    await runOnce(true);
    const [signed] = payoutsOf(S);
    expect(signed).toMatchObject({ status: "signed" });

    // Someone else uses the payout wallet: its next transaction takes the recorded nonce.
    const devnet = service.devnet!;
    const other = createWalletClient({
      account: privateKeyToAccount(payoutWallet.privateKey),
      chain: localChain(devnet.chainId, devnet.rpcUrl),
      transport: http(devnet.rpcUrl),
    });
    const intruder = await other.sendTransaction({ to: payoutWallet.address as Address, value: 0n, nonce: signed!.nonce! });
    await publicClientFor(devnet.rpcUrl).waitForTransactionReceipt({ hash: intruder, pollingInterval: 50 });

    // With the default grace period, one look is not enough to give up on a transaction.
    await runOnce(false, 5 * 60_000);
    expect(payoutsOf(S)).toEqual([expect.objectContaining({ id: signed!.id, status: "signed" })]);
    expect(logs.some((line) => line.includes("checking again before releasing it"))).toBe(true);

    await runOnce(false);
    const [failed, paid] = payoutsOf(S);
    expect(failed).toMatchObject({ id: signed!.id, status: "failed", failure_reason: "nonce_used_by_another_transaction" });
    expect(paid).toMatchObject({ status: "confirmed" });
    expect(paid!.nonce).toBeGreaterThan(signed!.nonce!);
    expect(entriesOf(S).every((e) => e.payout_id === paid!.id)).toBe(true);
    expect(await paidTo(S)).toEqual([1000n]);
    expect(logs.some((line) => line.includes("was used by another transaction"))).toBe(true);

    // Balances are the owner's to see (the public view shows payouts only).
    const rewards = (await ownerRewards(service.url, privateKeyToAccount(voterS.privateKey))).body as { rewards: Record<string, unknown>[] };
    expect(rewards.rewards[0]).toMatchObject({ accruedAtomic: "1000", unpaidAtomic: "0", pendingAtomic: "0", paidAtomic: "1000" });
    expect((rewards.rewards[0]!.payouts as { status: string }[]).map((p) => p.status)).toEqual(["confirmed", "failed"]);
  });
});
