// Outgoing transfers on Cloudflare Workers: src/worker.ts under `wrangler dev --local` (workerd, local D1,
// production mode) with anvil at Base's chain id, the official facilitator and the stand-ins
// (test/support/workers-world.ts). Each network's payout runner is a Durable Object driven by its alarm;
// the cron (GET /__scheduled) and a payout request poke it. What the chain's Transfer logs must show:
//   - voters paid exactly once each, and the refund of an expired unfilled poll once, with two cron runs
//     racing;
//   - a payout whose runner is killed between broadcasting and confirmation (automine off: the
//     transaction is pending when wrangler dies, and the node then forgets it) is paid once, by the same
//     signed transaction, after a restart on the same persisted state.
// Two wrangler starts in all. The payout interval is long (10 min), so every round here is one the test
// asked for; the alarm's next round shows in /healthz.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { payoutAddressFor } from "../scripts/lib/voter";
import { devAccount, mintUsdc, setEthBalance, DEV_ROLES } from "../src/devnet/chain";
import { requestPayout } from "./support/payout-requests";
import { anvilRpc, transfersFrom, waitUntil } from "./support/payouts";
import { freePort } from "./support/ports";
import { readLocalD1, runWrangler, startWranglerDev, writeLocalD1, type WranglerDev } from "./support/wrangler";
import { startWorkersWorld, WORKERS_USDC, type WorkersWorld } from "./support/workers-world";

const NETWORK = "eip155:8453";
const wallet = devAccount(600);
const PAYOUT_INTERVAL_MS = 600_000;

let world: WorkersWorld;
let worker: WranglerDev;
let stateDir: string;
let base: string;

interface PayoutRow {
  id: string;
  kind: string;
  address: string;
  status: string;
  amount_atomic: string;
  tx_hash: string | null;
  signed_tx: string | null;
  nonce: number | null;
}

const payouts = () => readLocalD1<PayoutRow>(stateDir, "SELECT id, kind, address, status, amount_atomic, tx_hash, signed_tx, nonce FROM payouts ORDER BY created_at");
const transfers = () => transfersFrom(world.anvil.rpcUrl, WORKERS_USDC, wallet.address);

async function startWorker(): Promise<void> {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  worker = await startWranglerDev({
    port,
    inspectorPort: await freePort(),
    stateDir,
    vars: {
      ...world.vars(base),
      PAYOUT_PRIVATE_KEY: wallet.privateKey,
      PAYOUT_THRESHOLD_ATOMIC: "500",
      PAYOUT_INTERVAL_MS: String(PAYOUT_INTERVAL_MS),
    },
  });
}

/** Runs scheduled() now, like the cron trigger (wrangler dev --test-scheduled). */
async function cronTick(): Promise<void> {
  const response = await fetch(`${base}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
  expect(response.status).toBe(200);
  expect(await response.text()).toBe("Ran scheduled event");
}

interface RunnerHealth {
  state: string;
  walletBalanceAtomic: string | null;
  pendingAtomic: string;
  checkedAt: string | null;
  runner: { kind: string; lastRoundAt: string | null; nextRoundAt: string | null; error?: string };
}

async function runnerHealth(): Promise<RunnerHealth> {
  const body = (await (await fetch(`${base}/healthz`)).json()) as { payouts: Record<string, RunnerHealth> };
  return body.payouts[NETWORK]!;
}

/** The next round the runner runs (after a poke) has ended. */
async function nextRoundEnded(poke: () => Promise<unknown>): Promise<RunnerHealth> {
  const before = (await runnerHealth()).runner.lastRoundAt;
  await poke();
  return waitUntil(async () => {
    const health = await runnerHealth();
    // Ended and its next alarm set: a poke that came in meanwhile may be running another round (no alarm while it runs).
    return health.runner.lastRoundAt !== null && health.runner.lastRoundAt !== before && health.runner.nextRoundAt !== null ? health : undefined;
  }, "a payout round to end", 60_000);
}

beforeAll(async () => {
  world = await startWorkersWorld();
  // The payout wallet: 1 USDC and gas on the chain; its key is the Worker's PAYOUT_PRIVATE_KEY secret.
  await mintUsdc(world.anvil.rpcUrl, devAccount(DEV_ROLES.tokenAdminIndex).privateKey, WORKERS_USDC, wallet.address, 1_000_000n);
  await setEthBalance(world.anvil.rpcUrl, wallet.address, 10n ** 18n);
  stateDir = mkdtempSync(join(tmpdir(), "quali-workers-payouts-"));
  await runWrangler(["d1", "migrations", "apply", "quali", "--local", "--persist-to", stateDir], stateDir);
  await startWorker();
}, 120_000);

afterAll(async () => {
  if (process.env.WORKERS_PAYOUTS_LOG && worker) writeFileSync(process.env.WORKERS_PAYOUTS_LOG, worker.output());
  await worker?.stop();
  await world?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("outgoing transfers on Workers: one Durable Object per network", () => {
  const voters = ["w-1", "w-2", "w-3"].map((human) => ({ human, address: payoutAddressFor(human).toLowerCase() }));

  it("pays each voter once and refunds an expired unfilled poll once, with two cron runs racing", async () => {
    const { status, body: poll } = await world.createPaidPoll(base, { maxResponses: 100 });
    expect(status).toBe(201);
    const view = (await (await fetch(`${base}/api/v1/voter/polls/${poll.id}`)).json()) as { options: { id: string }[] };
    for (const { human } of voters) expect((await world.vote(base, poll.id, view.options[0]!.id, human)).status).toBe(201);
    // Votes only write the ledger: nothing has moved yet.
    expect(await transfers()).toEqual(new Map());

    // The poll's expiry passes (the test moves the data, not the clock).
    expect(writeLocalD1(stateDir, "UPDATE polls SET expires_at = ? WHERE id = ?", new Date(Date.now() - 1_000).toISOString(), poll.id)).toBe(1);
    await Promise.all([cronTick(), cronTick()]);
    const refundTo = world.payer.address.toLowerCase();
    const paid = await waitUntil(async () => {
      const seen = await transfers();
      return voters.every((v) => seen.has(v.address)) && seen.has(refundTo) ? seen : undefined;
    }, "three rewards and the refund on chain", 60_000);
    await waitUntil(() => (payouts().every((p) => p.status === "confirmed") ? true : undefined), "every payout confirmed in D1");

    // One more round finds nothing to pay.
    const health = await nextRoundEnded(cronTick);
    expect(await transfers()).toEqual(paid);
    for (const v of voters) expect(paid.get(v.address)!.map((t) => t.value), v.human).toEqual([500n]);
    expect(paid.get(refundTo)!.map((t) => t.value)).toEqual([97n * 5_000n]);
    expect(paid.size).toBe(4);
    const rows = payouts();
    expect(rows.map((p) => [p.kind, p.status]).sort()).toEqual([...voters.map(() => ["reward", "confirmed"]), ["refund", "confirmed"]].sort());
    expect(new Set(rows.map((p) => p.tx_hash))).toEqual(new Set([...paid.values()].flat().map((t) => t.tx)));
    // The poll shows its refund paid, with the hash of that one transfer.
    const after = (await (await fetch(`${base}/api/v1/polls/${poll.id}`)).json()) as { refund: { status: string; txHash: string } };
    expect(after.refund).toMatchObject({ status: "confirmed", txHash: paid.get(refundTo)![0]!.tx });

    // /healthz: the runner's wallet figures after the transfers, and its alarm one interval after its round.
    expect(health).toMatchObject({ state: "active", walletBalanceAtomic: String(1_000_000 - 3 * 500 - 97 * 5_000), pendingAtomic: "0" });
    expect(health.runner.kind).toBe("durable_object");
    const interval = Date.parse(health.runner.nextRoundAt!) - Date.parse(health.runner.lastRoundAt!);
    expect(interval).toBeGreaterThan(PAYOUT_INTERVAL_MS - 30_000);
    expect(interval).toBeLessThanOrEqual(PAYOUT_INTERVAL_MS);
  }, 120_000);

  let inFlight: PayoutRow;
  const late = { human: "w-4", address: payoutAddressFor("w-4").toLowerCase() };

  it("a payout request pokes the runner; wrangler killed with the transfer broadcast but not mined", async () => {
    const { status, body: poll } = await world.createPaidPoll(base, { maxResponses: 100 });
    expect(status).toBe(201);
    const view = (await (await fetch(`${base}/api/v1/voter/polls/${poll.id}`)).json()) as { options: { id: string }[] };
    expect((await world.vote(base, poll.id, view.options[1]!.id, late.human)).status).toBe(201);

    await anvilRpc(world.anvil.rpcUrl, "evm_setAutomine", [false]);
    const request = await requestPayout(base, { address: payoutAddressFor(late.human) });
    expect(request.status).toBe(202);
    inFlight = await waitUntil(() => payouts().find((p) => p.address.toLowerCase() === late.address && p.status === "sent"), "the transfer to be broadcast", 60_000);
    const hash = inFlight.tx_hash as Hex;
    expect(await anvilRpc<{ blockNumber: string | null } | null>(world.anvil.rpcUrl, "eth_getTransactionByHash", [hash])).toMatchObject({ blockNumber: null });
    await worker.kill();

    // The node forgets it: only the recorded bytes, broadcast again, can pay this voter now.
    await anvilRpc(world.anvil.rpcUrl, "anvil_dropTransaction", [hash]);
    expect(await anvilRpc(world.anvil.rpcUrl, "eth_getTransactionByHash", [hash])).toBeNull();
    await anvilRpc(world.anvil.rpcUrl, "evm_setAutomine", [true]);
    expect((await transfers()).has(late.address)).toBe(false);
  }, 120_000);

  it("after a restart on the same state, the runner sends the same signed transaction: paid exactly once", async () => {
    await startWorker();
    await cronTick();
    await waitUntil(() => (payouts().find((p) => p.id === inFlight.id)?.status === "confirmed" ? true : undefined), "the payout to be confirmed", 60_000);
    expect(payouts().find((p) => p.id === inFlight.id)).toMatchObject({ tx_hash: inFlight.tx_hash, signed_tx: inFlight.signed_tx, nonce: inFlight.nonce });

    await nextRoundEnded(cronTick);
    const paid = await transfers();
    expect(paid.get(late.address)).toEqual([{ value: 500n, tx: inFlight.tx_hash }]);
    // Nobody else was paid again.
    expect([...paid.values()].flat()).toHaveLength(5);
    expect(payouts().every((p) => p.status === "confirmed")).toBe(true);
  }, 120_000);
});
