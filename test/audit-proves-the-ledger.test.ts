// The money audit proves the ledger: after real paid polls, votes and a payout round on the local chain
// it finds every unit accounted for, and each injected fault (money that moved with no record, a record
// whose money did not move as it says, a payout that is not what left the wallet) is reported with the
// right poll / payment / payout id and makes the result not clean. `npm run audit` exits 0 when clean,
// 1 on a discrepancy and 2 when configuration is missing.
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { loadConfig } from "../src/config";
import { auditMoney } from "../src/audit/money-audit";
import { planAudit, type AuditPlan } from "../src/audit/targets";
import type { Discrepancy, MoneyAudit } from "../src/audit/types";
import { localChain, publicClientFor, testUsdcAbi } from "../src/devnet/chain";
import { BASE, BASE_SEPOLIA, WORLD_CHAIN } from "../src/payment/networks";
import { PROJECT_ROOT } from "../src/project-paths";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

const A = "0x00000000000000000000000000000000000a0d01";
const B = "0x00000000000000000000000000000000000b0d02";

let service: LocalService;
let plan: AuditPlan;
let first: CreatedPoll;
let second: CreatedPoll;
let firstPayment: { id: string; tx_hash: string };
let secondPayment: { id: string; tx_hash: string };
let payout: { id: string; amount_atomic: string; tx_hash: string };

const audit = (): Promise<MoneyAudit> => auditMoney(service.store.db, plan.targets, { skipped: plan.skipped });
const sqlRun = (query: string, ...params: unknown[]) => service.store.sqlite.prepare(query).run(...params);
const paymentOf = (pollId: string) =>
  service.store.sqlite.prepare("SELECT id, tx_hash FROM payments WHERE poll_id = ? AND status = 'settled'").get(pollId) as { id: string; tx_hash: string };

/** The discrepancies as the fields a reader acts on. */
const found = (result: MoneyAudit) =>
  result.discrepancies.map((d: Discrepancy) => ({
    kind: d.kind,
    ...(d.pollId ? { pollId: d.pollId } : {}),
    ...(d.paymentId ? { paymentId: d.paymentId } : {}),
    ...(d.paymentStatus ? { paymentStatus: d.paymentStatus } : {}),
    ...(d.payoutId ? { payoutId: d.payoutId } : {}),
    ...(d.txHash ? { txHash: d.txHash } : {}),
    ...(d.from ? { from: d.from } : {}),
    ...(d.amountAtomic !== undefined ? { amountAtomic: d.amountAtomic } : {}),
  }));

/** Whatever this machine's environment says about these, the command line sees what the service saw. */
const QUIET_ENV = { PAYOUT_PRIVATE_KEY: "", X402_PAY_TO_ADDRESS_BASE: "", X402_PAY_TO_ADDRESS_WORLDCHAIN: "", NODE_ENV: "" };

/** `npm run audit` as an operator runs it, against the service's data directory. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "npx",
      ["tsx", "scripts/audit.ts", ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...QUIET_ENV, MODE: "local", DATA_DIR: service.dataDir, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  // Threshold 1000 = 2 votes; no timer rounds: the test runs them with payouts.kick().
  service = await startLocalService({ PAYOUT_THRESHOLD_ATOMIC: "1000", PAYOUT_INTERVAL_MS: "3600000" });
  await service.payouts.kick();
  first = await createPaidPoll(service, { maxResponses: 100 }, 0);
  second = await createPaidPoll(service, { maxResponses: 200 }, 1);
  firstPayment = paymentOf(first.id);
  secondPayment = paymentOf(second.id);
  let human = 0;
  for (const address of [A, A, A, B]) {
    const answer = await voteAsSimulatedHuman(service.url, { pollId: first.id, optionId: first.options[0]!.id, human: `audit-${human++}`, payoutAddress: address });
    expect(answer.status).toBe(201);
  }
  await service.payouts.kick(); // pays A (1500 ≥ threshold); B's 500 stays owed
  payout = service.store.sqlite.prepare("SELECT id, amount_atomic, tx_hash FROM payouts WHERE status = 'confirmed'").get() as typeof payout;
  plan = planAudit(service.config);
});
afterAll(async () => {
  await service?.stop();
});

describe("the money audit on the local chain", () => {
  it("finds every unit accounted for after paid polls, votes and a payout round", async () => {
    const health = (await (await fetch(`${service.url}/healthz`)).json()) as { payouts: Record<string, { wallet: string }> };
    expect(plan.targets).toEqual([
      expect.objectContaining({ network: service.devnet!.network, asset: service.devnet!.asset, payTo: service.devnet!.payTo, payoutWallet: health.payouts[service.devnet!.network]!.wallet, fromBlock: 0n }),
    ]);
    expect(payout).toMatchObject({ amount_atomic: "1500" });

    const result = await audit();
    expect(found(result)).toEqual([]);
    expect(result.clean).toBe(true);
    const [network] = result.networks;
    expect(network!.paymentsIn).toEqual({
      receivedOnChainAtomic: 1_500_000n,
      inboundTransfers: 2,
      matchedTransfers: 2,
      settledAtomic: 1_500_000n,
      settledPayments: 2,
      provenAtomic: 1_500_000n,
      provenPayments: 2,
      openClaims: [],
    });
    expect(network!.rewardsOut).toEqual({
      accruedAtomic: 2_000n,
      ledgerEntries: 4,
      paidRecordedAtomic: 1_500n,
      confirmedPayouts: 1,
      paidOnChainAtomic: 1_500n,
      inFlightAtomic: 0n,
      inFlightPayouts: 0,
      unpaidAtomic: 500n,
      owedAtomic: 500n,
      sentOnChainAtomic: 1_500n,
      outboundTransfers: 1,
    });

    // Without a first block (production's default) the scan starts at the earliest recorded settlement.
    const firstSettlement = await publicClientFor(service.devnet!.rpcUrl).getTransactionReceipt({ hash: firstPayment.tx_hash as `0x${string}` });
    const fromRecords = await auditMoney(service.store.db, [{ ...plan.targets[0]!, fromBlock: undefined }]);
    expect(fromRecords.clean).toBe(true);
    expect(fromRecords.networks[0]!.blocks?.from).toBe(firstSettlement.blockNumber);
  });

  it("exits 0 from the command line when clean, with amounts as atomic strings in --json", async () => {
    const { code, stdout, stderr } = await runCli(["--json"]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const report = JSON.parse(stdout) as { clean: boolean; networks: { paymentsIn: { settledAtomic: string }; rewardsOut: { owedAtomic: string } }[] };
    expect(report.clean).toBe(true);
    expect(report.networks[0]).toMatchObject({ paymentsIn: { settledAtomic: "1500000" }, rewardsOut: { owedAtomic: "500" } });
  });

  it("exits 2 from the command line, naming the variable, when production configuration is missing", async () => {
    const { code, stdout, stderr } = await runCli([], { MODE: "production" });
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toMatch(/X402_PAY_TO_ADDRESS_BASE/);
  });

  it("reports money that moved for a payment the database calls failed, with its poll", async () => {
    sqlRun("UPDATE payments SET status = 'failed' WHERE id = ?", firstPayment.id);
    try {
      const result = await audit();
      expect(result.clean).toBe(false);
      expect(found(result)).toEqual([
        { kind: "live_poll_without_settled_payment", pollId: first.id },
        {
          kind: "unmatched_inbound_transfer",
          pollId: first.id,
          paymentId: firstPayment.id,
          paymentStatus: "failed",
          txHash: firstPayment.tx_hash.toLowerCase(),
          from: first.payment.payer.toLowerCase(),
          amountAtomic: 500_000n,
        },
      ]);
    } finally {
      sqlRun("UPDATE payments SET status = 'settled' WHERE id = ?", firstPayment.id);
    }
    expect((await audit()).clean).toBe(true);
  });

  it("reports a settled payment whose tx hash is another payment's transfer, and its own transfer as unmatched", async () => {
    sqlRun("UPDATE payments SET tx_hash = ? WHERE id = ?", secondPayment.tx_hash, firstPayment.id);
    try {
      const result = await audit();
      expect(result.clean).toBe(false);
      expect(found(result)).toEqual([
        {
          kind: "settlement_tx_mismatch",
          pollId: first.id,
          paymentId: firstPayment.id,
          paymentStatus: "settled",
          txHash: secondPayment.tx_hash.toLowerCase(),
          from: first.payment.payer.toLowerCase(),
          amountAtomic: 500_000n,
        },
        {
          kind: "unmatched_inbound_transfer",
          pollId: first.id,
          paymentId: firstPayment.id,
          paymentStatus: "settled",
          txHash: firstPayment.tx_hash.toLowerCase(),
          from: first.payment.payer.toLowerCase(),
          amountAtomic: 500_000n,
        },
      ]);
      expect(result.discrepancies[0]!.message).toMatch(/no AuthorizationUsed/);
    } finally {
      sqlRun("UPDATE payments SET tx_hash = ? WHERE id = ?", firstPayment.tx_hash, firstPayment.id);
    }
    expect((await audit()).clean).toBe(true);
  });

  it("reports a settled payment with no tx hash once, pointing at the transfer its authorization made", async () => {
    sqlRun("UPDATE payments SET tx_hash = NULL WHERE id = ?", firstPayment.id);
    try {
      const result = await audit();
      expect(found(result)).toEqual([
        { kind: "settled_payment_without_tx", pollId: first.id, paymentId: firstPayment.id, paymentStatus: "settled", txHash: firstPayment.tx_hash.toLowerCase(), amountAtomic: 500_000n },
      ]);
    } finally {
      sqlRun("UPDATE payments SET tx_hash = ? WHERE id = ?", firstPayment.tx_hash, firstPayment.id);
    }
  });

  it("lists an open claim whose authorization already paid us as charged with the poll not active", async () => {
    sqlRun("UPDATE payments SET status = 'claimed', tx_hash = NULL, settled_at = NULL WHERE id = ?", firstPayment.id);
    sqlRun("UPDATE polls SET status = 'pending_payment' WHERE id = ?", first.id);
    try {
      const result = await audit();
      expect(found(result)).toEqual([
        {
          kind: "charged_but_poll_not_active",
          pollId: first.id,
          paymentId: firstPayment.id,
          paymentStatus: "claimed",
          txHash: firstPayment.tx_hash.toLowerCase(),
          from: first.payment.payer.toLowerCase(),
          amountAtomic: 500_000n,
        },
      ]);
      expect(result.networks[0]!.paymentsIn.openClaims).toEqual([
        expect.objectContaining({ paymentId: firstPayment.id, pollId: first.id, amountAtomic: "500000", authorizationUsed: true }),
      ]);
    } finally {
      sqlRun("UPDATE polls SET status = 'active' WHERE id = ?", first.id);
      sqlRun("UPDATE payments SET status = 'settled', tx_hash = ?, settled_at = created_at WHERE id = ?", firstPayment.tx_hash, firstPayment.id);
    }
    expect((await audit()).clean).toBe(true);
  });

  it("reports a confirmed payout whose amount is not what left the payout wallet, with its payout id", async () => {
    sqlRun("UPDATE payouts SET amount_atomic = '1499' WHERE id = ?", payout.id);
    try {
      const result = await audit();
      expect(result.clean).toBe(false);
      expect(found(result)).toEqual([
        { kind: "payout_entries_mismatch", payoutId: payout.id, amountAtomic: 1_499n },
        { kind: "payout_tx_mismatch", payoutId: payout.id, txHash: payout.tx_hash.toLowerCase(), amountAtomic: 1_499n },
      ]);
    } finally {
      sqlRun("UPDATE payouts SET amount_atomic = ? WHERE id = ?", payout.amount_atomic, payout.id);
    }
    expect((await audit()).clean).toBe(true);
  });

  it("reports a direct transfer to payTo that no payment records, and the command line exits 1 naming it", async () => {
    const devnet = service.devnet!;
    const payer = devnet.payers[2]!;
    const wallet = createWalletClient({ account: privateKeyToAccount(payer.privateKey), chain: localChain(devnet.chainId, devnet.rpcUrl), transport: http(devnet.rpcUrl) });
    const hash = await wallet.writeContract({ address: devnet.asset, abi: testUsdcAbi, functionName: "transfer", args: [devnet.payTo, 1_234n] });
    expect((await publicClientFor(devnet.rpcUrl).waitForTransactionReceipt({ hash })).status).toBe("success");

    const result = await audit();
    expect(result.clean).toBe(false);
    expect(found(result)).toEqual([{ kind: "unmatched_inbound_transfer", txHash: hash.toLowerCase(), from: payer.address.toLowerCase(), amountAtomic: 1_234n }]);
    expect(result.networks[0]!.paymentsIn).toMatchObject({ receivedOnChainAtomic: 1_501_234n, inboundTransfers: 3, matchedTransfers: 2, settledAtomic: 1_500_000n });

    const text = await runCli([]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("unmatched_inbound_transfer");
    expect(text.stdout).toContain(hash.toLowerCase());
    expect(text.stdout).toContain("Result: 1 DISCREPANCY.");
    const json = await runCli(["--json"]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { clean: boolean; discrepancies: { kind: string; txHash: string; amountAtomic: string }[] };
    expect(report.clean).toBe(false);
    expect(report.discrepancies).toEqual([expect.objectContaining({ kind: "unmatched_inbound_transfer", txHash: hash.toLowerCase(), amountAtomic: "1234" })]);
  });
});

describe("planning the audit from the configuration", () => {
  it("audits production networks with an RPC, derives the payout wallet from its key and skips testnets", () => {
    const payTo = "0x00000000000000000000000000000000000c0ffe";
    const key = `0x${"11".repeat(32)}` as const;
    const config = loadConfig({
      MODE: "production",
      X402_PAY_TO_ADDRESS_BASE: payTo,
      RPC_URL_BASE: "https://base-rpc.example",
      PAYOUT_PRIVATE_KEY: key,
      X402_ENABLE_TESTNETS: "true",
    });
    const production = planAudit(config, { fromBlock: 5n });
    const payoutWallet = privateKeyToAccount(key).address;
    // The chains the service confirms payments on: RPC_URL_* where set, else the network's public endpoint.
    expect(production.targets).toEqual([
      { network: BASE.network, label: "Base", asset: BASE.usdc.address, payTo, payoutWallet, rpcUrl: "https://base-rpc.example", fromBlock: 5n },
      { network: BASE_SEPOLIA.network, label: BASE_SEPOLIA.label, asset: BASE_SEPOLIA.usdc.address, payTo, payoutWallet, rpcUrl: BASE_SEPOLIA.publicRpcUrl, fromBlock: 5n },
    ]);
    expect(production.skipped).toEqual([]);
    const worldOnly = planAudit(loadConfig({ MODE: "production", X402_PAY_TO_ADDRESS_WORLDCHAIN: payTo }));
    expect(worldOnly.targets.map((t) => t.rpcUrl)).toEqual([WORLD_CHAIN.publicRpcUrl]);
  });
});
