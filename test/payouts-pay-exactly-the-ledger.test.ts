// Rewards reach voters' wallets: the payout job pays every address whose unpaid balance reached the
// threshold, a voter can ask for a smaller balance (rate-limited), and after the payouts each wallet's
// USDC on chain equals the ledger entries its payouts claimed — no entry twice, nothing above accrued.
// The token's Transfer logs from the payout wallet are the proof.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAbiItem, type Hex } from "viem";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { publicClientFor, usdcBalanceOf, type Address } from "../src/devnet/chain";
import { startLocalService, type LocalService } from "./support/harness";
import { requestSignedPayout, voterAccount } from "./support/payout-requests";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { privateKeyToAccount } from "viem/accounts";
import { ownerRewards } from "./support/owner-rewards";

const transferEvent = parseAbiItem("event Transfer(address indexed from, address indexed to, uint256 value)");
// A and D ask for balances below the threshold: they sign their requests, so the test holds their keys.
const voterA = voterAccount(`0x${"a1".repeat(32)}`);
const voterD = voterAccount(`0x${"d4".repeat(32)}`);
const A = voterA.address;
const B = "0x00000000000000000000000000000000000b0002";
const voterC = voterAccount(`0x${"c3".repeat(32)}`);
const C = voterC.address;
const D = voterD.address;

let service: LocalService;
let poll: CreatedPoll;
let wallet: Address;
let walletBefore: bigint;
let humans = 0;

async function vote(address: string, times: number) {
  for (let i = 0; i < times; i++) {
    const answer = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[i % 2]!.id, human: `ledger-${humans++}`, payoutAddress: address });
    expect(answer.status).toBe(201);
  }
}

const keys = new Map<string, Hex>([
  [A, voterA.privateKey],
  [C, voterC.privateKey],
  [D, voterD.privateKey],
]);
/** The owner's view of an address's rewards (balances are not public). */
const rewards = async (address: string) =>
  (await ownerRewards(service.url, privateKeyToAccount(keys.get(address)!))).body as { rewards: Record<string, unknown>[] };
const requestPayout = (address: string, headers: Record<string, string> = {}) =>
  fetch(`${service.url}/api/v1/voter/payouts`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ address }) });

/** Every Transfer of the token out of the payout wallet: recipient → [amounts]. */
async function transfersFromWallet(): Promise<Map<string, { value: bigint; tx: Hex }[]>> {
  const devnet = service.devnet!;
  const logs = await publicClientFor(devnet.rpcUrl).getLogs({ address: devnet.asset, event: transferEvent, args: { from: wallet }, fromBlock: 0n, toBlock: "latest" });
  const out = new Map<string, { value: bigint; tx: Hex }[]>();
  for (const log of logs) {
    const to = log.args.to!.toLowerCase();
    out.set(to, [...(out.get(to) ?? []), { value: log.args.value!, tx: log.transactionHash }]);
  }
  return out;
}

/** Per address: the ledger entries claimed by confirmed payouts, summed (what must be on chain). */
function ledgerPaid(): Map<string, bigint> {
  const rows = service.store.sqlite
    .prepare(
      `SELECT l.address AS address, SUM(CAST(l.amount_atomic AS INTEGER)) AS paid FROM reward_ledger l
       JOIN payouts p ON p.id = l.payout_id WHERE p.status = 'confirmed' GROUP BY l.address`,
    )
    .all() as { address: string; paid: number }[];
  return new Map(rows.map((row) => [row.address, BigInt(row.paid)]));
}

beforeAll(async () => {
  // Threshold 1500 = 3 votes; no timer rounds: the test runs them with payouts.kick().
  service = await startLocalService({ PAYOUT_THRESHOLD_ATOMIC: "1500", PAYOUT_INTERVAL_MS: "3600000" });
  await service.payouts.kick(); // the startup round has run (nothing to do yet)
  poll = await createPaidPoll(service);
  const health = (await (await fetch(`${service.url}/healthz`)).json()) as { payouts: Record<string, { wallet: Address }> };
  wallet = health.payouts[service.devnet!.network]!.wallet;
  walletBefore = await usdcBalanceOf(service.devnet!.rpcUrl, service.devnet!.asset, wallet);
  await vote(A, 4);
  await vote(B, 3);
  await vote(C, 2);
  await vote(D, 1);
});
afterAll(async () => {
  await service?.stop();
});

describe("voter payouts on the local chain", () => {
  it("funds the devnet payout wallet on first start and reports it in /healthz", async () => {
    const health = (await (await fetch(`${service.url}/healthz`)).json()) as { status: string; payouts: Record<string, Record<string, unknown>> };
    expect(health.status).toBe("ok");
    const local = health.payouts[service.devnet!.network]!;
    expect(local).toMatchObject({ state: "active", pendingAtomic: "0", walletBalanceAtomic: walletBefore.toString() });
    expect(walletBefore).toBe(1_000_000_000n);
    expect(BigInt(local.gasBalanceWei as string)).toBeGreaterThan(0n);
  });

  it("pays addresses over the threshold and an address that asks; balances on chain equal the ledger", async () => {
    const before = await rewards(A);
    expect(before.rewards[0]).toMatchObject({ accruedAtomic: "2000", unpaidAtomic: "2000", pendingAtomic: "0", paidAtomic: "0", payouts: [] });

    const asked = await requestSignedPayout(service.url, voterD.privateKey);
    expect(asked.status).toBe(202);
    const created = (await asked.json()) as { payouts: { id: string; status: string; amountAtomic: string; votes: number }[] };
    expect(created.payouts).toEqual([expect.objectContaining({ status: "pending", amountAtomic: "500", votes: 1 })]);

    await service.payouts.kick();
    const devnet = service.devnet!;
    const onChain = async (address: string) => usdcBalanceOf(devnet.rpcUrl, devnet.asset, address as Address);
    expect(await onChain(A)).toBe(2000n);
    expect(await onChain(B)).toBe(1500n);
    expect(await onChain(C)).toBe(0n); // 1000 < threshold, not asked
    expect(await onChain(D)).toBe(500n);

    const transfers = await transfersFromWallet();
    expect([...transfers.keys()].sort()).toEqual([A, B, D].sort());
    for (const [to, list] of transfers) expect(list, to).toHaveLength(1);
    expect(ledgerPaid()).toEqual(new Map([[A, 2000n], [B, 1500n], [D, 500n]]));
    expect(walletBefore - (await usdcBalanceOf(devnet.rpcUrl, devnet.asset, wallet))).toBe(4000n);

    const afterA = (await rewards(A)).rewards[0]!;
    expect(afterA).toMatchObject({ accruedAtomic: "2000", unpaidAtomic: "0", pendingAtomic: "0", paidAtomic: "2000", paidUsdc: 0.002 });
    expect(afterA.payouts).toEqual([
      expect.objectContaining({ status: "confirmed", amountAtomic: "2000", votes: 4, txHash: transfers.get(A)![0]!.tx, confirmedAt: expect.any(String) }),
    ]);
    expect((await rewards(C)).rewards[0]).toMatchObject({ accruedAtomic: "1000", unpaidAtomic: "1000", pendingAtomic: "0", paidAtomic: "0" });
  });

  it("pays later votes in a new payout, never an entry twice, and rate-limits requests per address", async () => {
    await vote(A, 1);
    await service.payouts.kick(); // 500 < threshold: nothing
    const devnet = service.devnet!;
    expect(await usdcBalanceOf(devnet.rpcUrl, devnet.asset, A)).toBe(2000n);

    const first = await requestSignedPayout(service.url, voterA.privateKey);
    expect(first.status).toBe(202);
    const again = await requestSignedPayout(service.url, voterA.privateKey);
    expect(again.status).toBe(429);
    expect(again.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("rate_limited");

    await service.payouts.kick();
    expect(await usdcBalanceOf(devnet.rpcUrl, devnet.asset, A)).toBe(2500n);
    const transfers = await transfersFromWallet();
    expect(transfers.get(A)!.map((t) => t.value)).toEqual([2000n, 500n]);
    const a = (await rewards(A)).rewards[0]!;
    expect(a).toMatchObject({ accruedAtomic: "2500", unpaidAtomic: "0", paidAtomic: "2500" });
    expect((a.payouts as unknown[]).length).toBe(2);

    // Nothing left: an unsigned request is refused as one below the threshold (it never tells a balance),
    // and no payout is created. Each ledger entry belongs to at most one non-failed payout.
    const nothing = await requestPayout(B);
    expect(nothing.status).toBe(400);
    expect(((await nothing.json()) as { error: { code: string } }).error.code).toBe("below_payout_threshold");
    const totals = service.store.sqlite
      .prepare(
        `SELECT p.id, CAST(p.amount_atomic AS INTEGER) AS amount, SUM(CAST(l.amount_atomic AS INTEGER)) AS entries
         FROM payouts p LEFT JOIN reward_ledger l ON l.payout_id = p.id GROUP BY p.id`,
      )
      .all() as { id: string; amount: number; entries: number }[];
    for (const row of totals) expect(row.amount, row.id).toBe(row.entries);
    const accrued = service.store.sqlite.prepare("SELECT address, accrued_atomic FROM reward_balances").all() as { address: string; accrued_atomic: number }[];
    for (const { address, accrued_atomic } of accrued) {
      expect(await usdcBalanceOf(devnet.rpcUrl, devnet.asset, address as Address)).toBeLessThanOrEqual(BigInt(accrued_atomic));
    }
  });

  it("keeps the payout request same-origin and validates the address", async () => {
    const crossOrigin = await requestPayout(C, { origin: "https://elsewhere.example" });
    expect(crossOrigin.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(`${service.url}/api/v1/voter/payouts`, {
      method: "OPTIONS",
      headers: { origin: "https://elsewhere.example", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect((await requestPayout("0x123")).status).toBe(400);
  });
});
