// A vote names the address its reward is paid to. An address no transfer could ever reach — the zero
// address, the USDC token contract, this service's own payout wallet or payTo address, or one the
// token's blacklist names — is refused with 400 payout_address_refused (param payoutAddress) at
// world-id-request and at the vote, and nothing is stored. The blacklist is read through a short cache
// that fails open: a chain that cannot answer never blocks a vote.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalletClient, getAddress, http, parseAbi } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { castVote, prepareVote, requestWorldId, type PreparedVote } from "../scripts/lib/voter";
import { devAccount, localChain, publicClientFor, type Address } from "../src/devnet/chain";
import { BASE } from "../src/payment/networks";
import { payoutAddressPolicy } from "../src/payouts/address-policy";
import { cachedBlacklist } from "../src/payouts/blacklist-cache";
import { DEVNET_PAYOUT_ACCOUNT_INDEX } from "../src/devnet/payout-wallet";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

const ZERO = "0x0000000000000000000000000000000000000000";
const BLACKLISTED = "0x00000000000000000000000000000000000bb001";
const ORDINARY = "0x00000000000000000000000000000000000bb002";

let service: LocalService;
let poll: CreatedPoll;

const counts = () =>
  service.store.sqlite
    .prepare(
      `SELECT (SELECT COUNT(*) FROM world_id_requests) AS requests, (SELECT COUNT(*) FROM votes) AS votes,
              (SELECT COUNT(*) FROM reward_ledger) AS ledger, (SELECT COUNT(*) FROM reward_balances) AS balances`,
    )
    .get() as Record<string, number>;

interface Refusal {
  error: { code: string; param: string; message: string };
}

beforeAll(async () => {
  service = await startLocalService({ PAYOUT_INTERVAL_MS: "3600000" });
  poll = await createPaidPoll(service);
  const devnet = service.devnet!;
  const admin = createWalletClient({ account: privateKeyToAccount(devnet.minter.privateKey), chain: localChain(devnet.chainId, devnet.rpcUrl), transport: http(devnet.rpcUrl) });
  const hash = await admin.writeContract({
    address: devnet.asset,
    abi: parseAbi(["function blacklist(address account)"]),
    functionName: "blacklist",
    args: [BLACKLISTED],
  });
  await publicClientFor(devnet.rpcUrl).waitForTransactionReceipt({ hash, pollingInterval: 50 });
});
afterAll(async () => {
  await service?.stop();
});

describe("payout addresses that cannot be paid are refused at vote time", () => {
  const refused = () => {
    const devnet = service.devnet!;
    return [
      ["the zero address", ZERO],
      ["the devnet USDC token (checksummed)", getAddress(devnet.asset)],
      ["Base's USDC token", BASE.usdc.address],
      ["our payout wallet", devAccount(DEVNET_PAYOUT_ACCOUNT_INDEX).address],
      ["our payTo address", devnet.payTo],
      ["an address the token blacklists", BLACKLISTED],
    ] as const;
  };

  it("refuses them at world-id-request with 400 payout_address_refused and param, storing nothing", async () => {
    const before = counts();
    for (const [what, address] of refused()) {
      const answer = await requestWorldId(service.url, poll.id, poll.options[0]!.id, address);
      expect(answer.status, what).toBe(400);
      expect((answer.body as Refusal).error, what).toMatchObject({ code: "payout_address_refused", param: "payoutAddress" });
      expect((answer.body as Refusal).error.message, what).toContain(address.toLowerCase());
    }
    expect(counts()).toEqual(before);
  });

  it("refuses them at the vote too, before the proof is verified, storing nothing and leaving the request unused", async () => {
    const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: "refused-at-vote", payoutAddress: ORDINARY });
    expect("prepared" in step).toBe(true);
    const prepared = (step as { prepared: PreparedVote }).prepared;
    const before = counts();
    for (const [what, address] of refused()) {
      const answer = await castVote(service.url, poll.id, { optionId: prepared.optionId, payoutAddress: address, proof: prepared.proof });
      expect(answer.status, what).toBe(400);
      expect((answer.body as Refusal).error, what).toMatchObject({ code: "payout_address_refused", param: "payoutAddress" });
    }
    expect(counts()).toEqual(before);
    const request = service.store.sqlite.prepare("SELECT used_at FROM world_id_requests WHERE nonce = ?").get(prepared.request.nonce) as { used_at: string | null };
    expect(request.used_at).toBeNull();

    // The same prepared vote, for the address it was requested for, still counts.
    const accepted = await castVote(service.url, poll.id, { optionId: prepared.optionId, payoutAddress: ORDINARY, proof: prepared.proof });
    expect(accepted.status).toBe(201);
  });

  it("fails open: a blacklist the chain cannot read never refuses an address, and answers are cached briefly", async () => {
    let lookups = 0;
    let clock = 0;
    const failing = cachedBlacklist(
      async () => {
        lookups += 1;
        throw new Error("rpc down");
      },
      { now: () => clock, ttlMs: 1_000 },
    );
    const hanging = cachedBlacklist(() => new Promise<boolean>(() => undefined), { timeoutMs: 50 });
    const policy = payoutAddressPolicy({ refused: new Map(), blacklists: new Map([["eip155:1", failing], ["eip155:2", hanging]]) });
    expect(await policy.refusal(ORDINARY, "eip155:1")).toBeUndefined();
    expect(await policy.refusal(ORDINARY, "eip155:2")).toBeUndefined();
    expect(await policy.refusal(ORDINARY, "eip155:1")).toBeUndefined();
    expect(lookups).toBe(1); // cached, even as "unknown"
    clock = 1_000;
    await policy.refusal(ORDINARY, "eip155:1");
    expect(lookups).toBe(2);

    let answers = 0;
    const listed = cachedBlacklist(async (address) => {
      answers += 1;
      return address === BLACKLISTED;
    });
    const withList = payoutAddressPolicy({ refused: new Map(), blacklists: new Map([["eip155:1", listed]]) });
    expect(await withList.refusal(BLACKLISTED, "eip155:1")).toMatch(/blacklisted/);
    expect(await withList.refusal(BLACKLISTED.toUpperCase().replace("0X", "0x"), "eip155:1")).toMatch(/blacklisted/);
    expect(answers).toBe(1);
    expect(await withList.refusal(BLACKLISTED, "eip155:9")).toBeUndefined(); // no blacklist known there
  });
});
