// The money audit holds refunds to what the polls owe and to what the chain shows: a refund that is
// missing, one for the wrong amount, one for a poll that owes none, and a refund paid twice on chain are
// each reported with the poll id and the refund id, and make the audit not clean. The database mistakes
// are made on a copy of the service's database (the running service never sees them); the double payment
// is a real second transfer out of the payout wallet.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, prepareVote, submitPrepared, voteAsSimulatedHuman } from "../scripts/lib/voter";
import { auditMoney } from "../src/audit/money-audit";
import { planAudit } from "../src/audit/targets";
import type { Discrepancy, MoneyAudit } from "../src/audit/types";
import type { Database } from "../src/db/schema";
import { devAccount, localChain, publicClientFor, testUsdcAbi, type Address } from "../src/devnet/chain";
import { DEVNET_PAYOUT_ACCOUNT_INDEX } from "../src/devnet/payout-wallet";
import { testClock } from "./support/clock";
import { futureIso, startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { expectCleanAudit, refundRows, type RefundRow } from "./support/refunds";

const clock = testClock();
let service: LocalService;
let workDir: string;
let refunded: CreatedPoll;
let refund: RefundRow;
let open: CreatedPoll;
let humans = 0;

/** The discrepancies as the fields a reader acts on. */
const found = (audit: MoneyAudit) =>
  audit.discrepancies.map((d: Discrepancy) => ({
    kind: d.kind,
    ...(d.pollId ? { pollId: d.pollId } : {}),
    ...(d.payoutId ? { payoutId: d.payoutId } : {}),
    ...(d.amountAtomic !== undefined ? { amountAtomic: d.amountAtomic } : {}),
  }));

/** Audits a copy of the service's database after `mistake` changed it (the chain is the live one). */
async function auditCopyWith(mistake: string, ...params: unknown[]): Promise<MoneyAudit> {
  const path = join(workDir, `copy-${humans++}.sqlite`);
  await service.store.sqlite.backup(path);
  const sqlite = new BetterSqlite3(path);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    expect(sqlite.prepare(mistake).run(...params).changes).toBe(1);
    const plan = planAudit(service.config);
    return await auditMoney(db, plan.targets, { skipped: plan.skipped });
  } finally {
    await db.destroy();
  }
}

async function vote(poll: CreatedPoll, count: number) {
  for (let i = 0; i < count; i++) {
    const answer = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: `audit-refund-${humans++}` });
    expect(answer.status).toBe(201);
  }
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "quali-audit-refunds-"));
  // Voters' rewards stay below the threshold: the refund is the only transfer.
  service = await startLocalService({ PAYOUT_THRESHOLD_ATOMIC: "10000", PAYOUT_INTERVAL_MS: "3600000" }, { now: clock.now });
  await service.payouts.kick();
  refunded = await createPaidPoll(service, { maxResponses: 100, expiresAt: futureIso(6) }, 1);
  open = await createPaidPoll(service, { maxResponses: 200 }, 2);
  await vote(refunded, 3);
  await vote(open, 2);
  const step = await prepareVote(service.url, { pollId: refunded.id, optionId: refunded.options[0]!.id, human: "audit-refund-late" });
  if ("failed" in step) throw new Error(JSON.stringify(step.failed));
  clock.advance(7 * 60_000);
  expect(errorCode(await submitPrepared(service.url, step.prepared))).toBe("poll_expired");
  clock.advance(-7 * 60_000);
  await service.payouts.kick();
  [refund] = refundRows(service, refunded.id) as [RefundRow];
  expect(refund).toMatchObject({ status: "confirmed", amount_atomic: "485000" });
});
afterAll(async () => {
  await service?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe("the money audit and refunds", () => {
  it("is clean, and splits what came in into rewards, fees kept, refunds and what open polls hold", async () => {
    const audit = await expectCleanAudit(service);
    // 0.5 + 1 USDC in; the expired poll: 3 × 500 rewards, 3 × 4,500 fees, 97 × 5,000 refunded; the open
    // one: 2 × 500 rewards, 2 × 4,500 fees, 198 × 5,000 still held for its missing responses.
    expect(audit.networks[0]!.split).toEqual({
      receivedAtomic: 1_500_000n,
      rewardsAccruedAtomic: 2_500n,
      feesKeptAtomic: 22_500n,
      refundsOwedAtomic: 485_000n,
      heldForOpenPollsAtomic: 990_000n,
    });
  });

  it("names a poll that ended unfilled with no refund queued", async () => {
    const audit = await auditCopyWith("UPDATE polls SET status = 'closed' WHERE id = ?", open.id);
    expect(audit.clean).toBe(false);
    expect(found(audit)).toEqual([{ kind: "refund_not_queued", pollId: open.id, amountAtomic: 990_000n }]);
  });

  it("names a refund for the wrong amount, by poll and refund id", async () => {
    const audit = await auditCopyWith("UPDATE payouts SET amount_atomic = '490000' WHERE id = ?", refund.id);
    expect(found(audit)).toEqual([
      { kind: "refund_mismatch", pollId: refunded.id, payoutId: refund.id, amountAtomic: 490_000n },
      { kind: "refund_tx_mismatch", pollId: refunded.id, payoutId: refund.id, amountAtomic: 490_000n },
    ]);
  });

  it("names a refund for a poll that owes none (sold under 'none')", async () => {
    const audit = await auditCopyWith("UPDATE polls SET refund_policy = 'none' WHERE id = ?", refunded.id);
    expect(found(audit)).toEqual([{ kind: "refund_not_owed", pollId: refunded.id, payoutId: refund.id, amountAtomic: 485_000n }]);
  });

  it("names a refund paid a second time out of the payout wallet", async () => {
    const devnet = service.devnet!;
    const wallet = createWalletClient({
      account: privateKeyToAccount(devAccount(DEVNET_PAYOUT_ACCOUNT_INDEX).privateKey),
      chain: localChain(devnet.chainId, devnet.rpcUrl),
      transport: http(devnet.rpcUrl),
    });
    const hash = await wallet.writeContract({ address: devnet.asset, abi: testUsdcAbi, functionName: "transfer", args: [refund.address as Address, 485_000n] });
    await publicClientFor(devnet.rpcUrl).waitForTransactionReceipt({ hash, pollingInterval: 50 });
    const plan = planAudit(service.config);
    const audit = await auditMoney(service.store.db, plan.targets, { skipped: plan.skipped });
    expect(found(audit)).toEqual([{ kind: "unmatched_outbound_transfer", pollId: refunded.id, payoutId: refund.id, amountAtomic: 485_000n }]);
    expect(audit.discrepancies[0]!.message).toContain(`it pays the payer of poll ${refunded.id} the amount of refund ${refund.id}`);
    expect(audit.discrepancies[0]!.txHash).toBe(hash);
  });
});
