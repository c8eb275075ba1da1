// The periodic reconciler decides stale claims from the chain: an authorization that was never used
// and is past validBefore fails its poll; one still valid waits; young claims (possibly in flight)
// are left alone; a claim on a network without RPC is reported, not guessed.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { viemChainReader } from "../src/payment/chain-reader";
import { insertClaim } from "../src/payment/payments-repo";
import { reconcilePendingPayments } from "../src/polls";
import { insertOptions, insertPoll } from "../src/polls/repo";
import { startLocalService, type LocalService } from "./support/harness";

let service: LocalService;
beforeAll(async () => {
  service = await startLocalService();
});
afterAll(async () => {
  await service?.stop();
});

async function seedClaim(opts: { validBefore: number; createdAt: Date; network?: string }) {
  const { db } = service.store;
  const pollId = randomUUID();
  const devnet = service.devnet!;
  await service.store.batch([
    insertPoll(db, {
      id: pollId,
      status: "pending_payment",
      question: "Seeded?",
      description: null,
      more_info_url: null,
      media_url: null,
      media_type: null,
      layout_type: "list",
      max_responses: 100,
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      callback_url: null,
      network: opts.network ?? devnet.network,
      payer: devnet.payers[0]!.address.toLowerCase(),
      cost_atomic: "500000",
      reward_pool_atomic: "50000",
      fee_atomic: "450000",
      created_at: opts.createdAt.toISOString(),
      activated_at: null,
      completed_at: null,
    }),
    insertOptions(db, pollId, [
      { id: randomUUID(), position: 0, text: "A", mediaUrl: null },
      { id: randomUUID(), position: 1, text: "B", mediaUrl: null },
    ]),
    insertClaim(db, {
      id: randomUUID(),
      pollId,
      network: opts.network ?? devnet.network,
      payer: devnet.payers[0]!.address.toLowerCase(),
      nonce: `0x${randomBytes(32).toString("hex")}`,
      asset: devnet.asset.toLowerCase(),
      payTo: devnet.payTo.toLowerCase(),
      amountAtomic: "500000",
      validBefore: opts.validBefore,
      createdAt: opts.createdAt.toISOString(),
    }),
  ]);
  return pollId;
}

const statusOf = async (pollId: string) =>
  (await service.store.db.selectFrom("polls").select("status").where("id", "=", pollId).executeTakeFirstOrThrow()).status;

describe("periodic reconciliation", () => {
  it("fails expired unused claims, keeps valid and young ones, and skips networks without RPC", async () => {
    const now = Date.now();
    const longAgo = new Date(now - 60 * 60_000);
    const expired = await seedClaim({ validBefore: Math.floor(now / 1000) - 600, createdAt: longAgo });
    const stillValid = await seedClaim({ validBefore: Math.floor(now / 1000) + 600, createdAt: longAgo });
    const young = await seedClaim({ validBefore: Math.floor(now / 1000) - 600, createdAt: new Date(now - 1_000) });
    const noRpc = await seedClaim({ validBefore: Math.floor(now / 1000) - 600, createdAt: longAgo, network: "eip155:8453" });

    const logs: string[] = [];
    const counts = await reconcilePendingPayments(
      {
        store: service.store,
        chains: new Map([[service.devnet!.network, viemChainReader(service.devnet!.rpcUrl)]]),
        now: () => new Date(),
        log: (line) => logs.push(line),
      },
      5 * 60_000,
    );

    expect(counts).toMatchObject({ failed: 1, pending: 1, no_rpc: 1, settled: 0, error: 0 });
    expect(await statusOf(expired)).toBe("payment_failed");
    expect(await statusOf(stillValid)).toBe("pending_payment");
    expect(await statusOf(young)).toBe("pending_payment");
    expect(await statusOf(noRpc)).toBe("pending_payment");
    const payment = await service.store.db.selectFrom("payments").selectAll().where("poll_id", "=", expired).executeTakeFirstOrThrow();
    expect(payment).toMatchObject({ status: "failed", failure_reason: "authorization_expired_unused" });
    expect(logs.some((line) => line.includes(expired))).toBe(true);
  });
});
