// A payout the token refuses (here: the recipient was blacklisted on the devnet USDC after voting, as
// Circle can do on real USDC) is parked with the chain's reason, keeps its votes, and the payouts behind
// it are still paid in the same round. /healthz and the rewards API show it; the operator's
// `npm run payouts -- retry | release` pay it exactly once, never to anyone else. A token that refuses
// the payout wallet itself pauses the network instead of parking every payout.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalletClient, http, parseAbi } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { devAccount, localChain, publicClientFor, usdcBalanceOf, type Address } from "../src/devnet/chain";
import { claimPayout } from "../src/payouts/repo";
import { DEVNET_PAYOUT_ACCOUNT_INDEX } from "../src/devnet/payout-wallet";
import { startLocalService, type LocalService } from "./support/harness";
import { requestPayout } from "./support/payout-requests";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { transfersFrom } from "./support/payouts";

const X = "0x00000000000000000000000000000000000aa001"; // blacklisted after voting
const Y = "0x00000000000000000000000000000000000aa002"; // an ordinary voter queued behind X
const Z = "0x00000000000000000000000000000000000aa003"; // released, parked again, then retried
const W = "0x00000000000000000000000000000000000aa004"; // paid while the wallet itself is refused
const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
const payoutWallet = devAccount(DEVNET_PAYOUT_ACCOUNT_INDEX);
const blacklistAbi = parseAbi(["function blacklist(address account)", "function unBlacklist(address account)"]);
const run = promisify(execFile);

let service: LocalService;
let poll: CreatedPoll;
let humans = 0;

interface PayoutRow {
  id: string;
  address: string;
  status: string;
  amount_atomic: string;
  parked_reason: string | null;
  failure_reason: string | null;
}
const payoutsOf = (address: string) =>
  service.store.sqlite.prepare("SELECT * FROM payouts WHERE address = ? ORDER BY created_at, rowid").all(address) as PayoutRow[];
const entriesOf = (address: string) =>
  service.store.sqlite.prepare("SELECT payout_id FROM reward_ledger WHERE address = ? ORDER BY created_at").all(address) as { payout_id: string | null }[];
const paidTo = async (address: string) =>
  ((await transfersFrom(service.devnet!.rpcUrl, service.devnet!.asset, payoutWallet.address)).get(address) ?? []).map((t) => t.value);
const onChain = (address: string) => usdcBalanceOf(service.devnet!.rpcUrl, service.devnet!.asset, address as Address);

async function vote(address: string, times: number) {
  for (let i = 0; i < times; i++) {
    const answer = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: `parked-${humans++}`, payoutAddress: address });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  }
}

/** The token admin (the devnet minter) blacklists or un-blacklists an address, as Circle can on USDC. */
async function setBlacklisted(address: string, on: boolean) {
  const devnet = service.devnet!;
  const admin = createWalletClient({
    account: privateKeyToAccount(devnet.minter.privateKey),
    chain: localChain(devnet.chainId, devnet.rpcUrl),
    transport: http(devnet.rpcUrl),
  });
  const hash = await admin.writeContract({ address: devnet.asset, abi: blacklistAbi, functionName: on ? "blacklist" : "unBlacklist", args: [address as Address] });
  await publicClientFor(devnet.rpcUrl).waitForTransactionReceipt({ hash, pollingInterval: 50 });
}

interface Health {
  state: string;
  reason?: string;
  parked: { count: number; amountAtomic: string; oldest: { id: string; parkedAt: string; reason: string } | null };
}
const health = async () =>
  ((await (await fetch(`${service.url}/healthz`)).json()) as { payouts: Record<string, Health> }).payouts[service.devnet!.network]!;

/** The public GET (payouts only; unpaid balances are the owner's, read from the ledger here). */
interface Rewards {
  rewards: {
    pendingAtomic: string;
    paidAtomic: string;
    payouts: { id: string; status: string }[];
    parked: { id: string; amountAtomic: string; votes: number; reason: string; parkedAt: string }[];
  }[];
}
const rewards = async (address: string) => (await (await fetch(`${service.url}/api/v1/voter/rewards?address=${address}`)).json()) as Rewards;

/** `npm run payouts -- <args>` against the running service's DATA_DIR. */
async function payoutsCommand(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run("npm", ["run", "--silent", "payouts", "--", ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, MODE: "local", DATA_DIR: service.dataDir },
    });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, out: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

beforeAll(async () => {
  // Threshold 1000 = 2 votes; no timer rounds: the test runs them with payouts.kick().
  service = await startLocalService({ PAYOUT_THRESHOLD_ATOMIC: "1000", PAYOUT_INTERVAL_MS: "3600000" });
  await service.payouts.kick();
  poll = await createPaidPoll(service);
});
afterAll(async () => {
  await service?.stop();
});

describe("payouts the token refuses are parked and never stall the queue", () => {
  let parkedId: string;

  it("parks the oldest payout whose transfer reverts, keeps its votes, and pays the next voter in the same round", async () => {
    await vote(X, 2);
    // X's payout is the oldest in the queue (claimed a minute ago): the one that used to block everything.
    const claimedAt = new Date(Date.now() - 60_000).toISOString();
    parkedId = randomUUID();
    expect(await claimPayout(service.store, { id: parkedId, address: X, network: service.devnet!.network, trigger: "threshold", minAtomic: 1000n, at: claimedAt })).toBe(true);
    await vote(X, 2); // newer rewards, unpaid: they must wait behind the parked payout, not start a second one
    await vote(Y, 2);
    await setBlacklisted(X, true);

    await service.payouts.kick();

    expect(payoutsOf(X)).toEqual([expect.objectContaining({ id: parkedId, status: "parked", amount_atomic: "1000" })]);
    expect(payoutsOf(X)[0]!.parked_reason).toMatch(/Blacklistable: account is blacklisted/);
    const xEntries = entriesOf(X);
    expect(xEntries.slice(0, 2)).toEqual([{ payout_id: parkedId }, { payout_id: parkedId }]); // still owed to X, held by its payout
    expect(xEntries.slice(2)).toEqual([{ payout_id: null }, { payout_id: null }]);
    expect(await onChain(X)).toBe(0n);
    expect(await paidTo(Y)).toEqual([1000n]);
    expect(await onChain(Y)).toBe(1000n);
    expect(service.logs.some((line) => line.includes(`payout ${parkedId}`) && line.includes("parked"))).toBe(true);

    const local = await health();
    expect(local.state).toBe("active");
    expect(local.parked).toMatchObject({ count: 1, amountAtomic: "1000", oldest: { id: parkedId, reason: expect.stringMatching(/blacklisted/) } });
  });

  it("shows the parked payout and its reason on the rewards API, and claims nothing new behind it", async () => {
    const x = (await rewards(X)).rewards[0]!;
    expect(x).toMatchObject({ pendingAtomic: "1000", paidAtomic: "0" });
    expect(x.parked).toEqual([expect.objectContaining({ id: parkedId, amountAtomic: "1000", votes: 2, reason: expect.stringMatching(/blacklisted/) })]);
    expect(x.payouts).toEqual([expect.objectContaining({ id: parkedId, status: "parked" })]);

    await service.payouts.kick(); // X's newer 1000 reached the threshold, but X holds a parked payout
    expect(payoutsOf(X).map((p) => p.status)).toEqual(["parked"]);
    const asked = await requestPayout(service.url, { address: X });
    expect(asked.status).toBe(200);
    expect(await asked.json()).toMatchObject({ payouts: [expect.objectContaining({ id: parkedId, status: "parked" })], message: expect.stringMatching(/parked/) });

    const listed = await payoutsCommand("list");
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(parkedId);
    expect(listed.out).toContain(X);
  });

  it("retry, once the address can be paid again, pays the parked payout exactly once", async () => {
    expect((await payoutsCommand("retry", randomUUID())).code).toBe(1); // unknown id: nothing changes
    await setBlacklisted(X, false);
    const retried = await payoutsCommand("retry", parkedId);
    expect(retried.code, retried.out).toBe(0);
    expect(payoutsOf(X)).toEqual([expect.objectContaining({ id: parkedId, status: "claimed" })]);
    expect((await payoutsCommand("retry", parkedId)).code).toBe(1); // no longer parked: refused

    await service.payouts.kick();
    expect(payoutsOf(X)[0]).toMatchObject({ id: parkedId, status: "confirmed" });
    expect(await paidTo(X)).toEqual([1000n]);
    await service.payouts.kick(); // X's newer votes now go out in their own payout
    await service.payouts.kick();
    expect(await paidTo(X)).toEqual([1000n, 1000n]);
    expect(await onChain(X)).toBe(2000n);
    expect(entriesOf(X).every((e) => e.payout_id !== null)).toBe(true);
    expect((await rewards(X)).rewards[0]).toMatchObject({ pendingAtomic: "0", paidAtomic: "2000", parked: [] });
    expect((await health()).parked).toEqual({ count: 0, amountAtomic: "0", oldest: null });
  });

  it("release returns the votes to the address's unpaid balance; they are owed to it alone and paid once", async () => {
    await vote(Z, 2);
    await setBlacklisted(Z, true);
    await service.payouts.kick();
    const [first] = payoutsOf(Z);
    expect(first).toMatchObject({ status: "parked" });

    const released = await payoutsCommand("release", first!.id);
    expect(released.code, released.out).toBe(0);
    expect(payoutsOf(Z)).toEqual([expect.objectContaining({ id: first!.id, status: "failed", failure_reason: "released" })]);
    expect(entriesOf(Z)).toEqual([{ payout_id: null }, { payout_id: null }]);
    expect((await rewards(Z)).rewards[0]).toMatchObject({ pendingAtomic: "0", parked: [] });

    // Still refused: its next payout takes the same votes and is parked again — nobody else's.
    await service.payouts.kick();
    const [, second] = payoutsOf(Z);
    expect(second).toMatchObject({ status: "parked", amount_atomic: "1000" });
    expect(entriesOf(Z)).toEqual([{ payout_id: second!.id }, { payout_id: second!.id }]);

    await setBlacklisted(Z, false);
    expect((await payoutsCommand("retry", second!.id)).code).toBe(0);
    await service.payouts.kick();
    await service.payouts.kick();
    expect(payoutsOf(Z).map((p) => p.status)).toEqual(["failed", "confirmed"]);
    expect(await paidTo(Z)).toEqual([1000n]);
    expect(await onChain(Z)).toBe(1000n);
  });

  it("pauses (token_refuses_transfers), parking nothing, when the token refuses the payout wallet itself", async () => {
    await vote(W, 2);
    await setBlacklisted(payoutWallet.address, true);
    await service.payouts.kick();
    expect(await health()).toMatchObject({ state: "paused", reason: "token_refuses_transfers", parked: { count: 0 } });
    expect(payoutsOf(W)).toEqual([expect.objectContaining({ status: "claimed" })]);

    await setBlacklisted(payoutWallet.address, false);
    await service.payouts.kick();
    expect(await health()).toMatchObject({ state: "active" });
    expect(await paidTo(W)).toEqual([1000n]);
    // The chain equals the ledger for everyone: no unit paid twice, none to the wrong address.
    const transfers = await transfersFrom(service.devnet!.rpcUrl, service.devnet!.asset, payoutWallet.address);
    expect(new Map([...transfers].map(([to, list]) => [to, list.map((t) => t.value)]))).toEqual(
      new Map([
        [Y, [1000n]],
        [X, [1000n, 1000n]],
        [Z, [1000n]],
        [W, [1000n]],
      ]),
    );
  });
});
