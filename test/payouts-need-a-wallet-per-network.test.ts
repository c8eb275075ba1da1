// Operators configure payouts per network: PAYOUT_PRIVATE_KEY[_BASE|_WORLDCHAIN] and RPC_URL_*. A network
// without both is paused with a clear startup line (not an error) and /healthz says so; a voter asking
// for a payout there gets 503 payouts_not_configured and keeps the balance. Keys are never logged. The
// production path is exercised against a local chain that imitates Base (chain id 8453, the token at
// Base's USDC address).
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config";
import { startAnvil } from "../src/devnet/anvil";
import { DEV_ROLES, devAccount, mintUsdc, placeTokenAt, setEthBalance, usdcBalanceOf } from "../src/devnet/chain";
import { BASE } from "../src/payment/networks";
import { requestSignedPayout, voterAccount } from "./support/payout-requests";
import { startProductionService, type ProductionService } from "./support/harness";

describe("payout configuration", () => {
  it("has safe defaults, validates keys without echoing them, and refuses the crash hook in production", () => {
    const config = loadConfig({});
    expect(config.payouts).toMatchObject({ thresholdAtomic: 10_000n, intervalMs: 60_000, minGasWei: 100_000_000_000_000n, privateKey: undefined });
    const key = "ab".repeat(32);
    expect(loadConfig({ PAYOUT_PRIVATE_KEY: key.toUpperCase() }).payouts.privateKey).toBe(`0x${key}`);
    try {
      loadConfig({ PAYOUT_PRIVATE_KEY_BASE: "0x1234deadbeef" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain("PAYOUT_PRIVATE_KEY_BASE");
      expect((error as Error).message).not.toContain("1234deadbeef");
    }
    expect(() => loadConfig({ MODE: "production", QUALI_TEST_PAYOUT_CRASH_AT: "after_sign" })).toThrow(/local mode only/);
    expect(loadConfig({ QUALI_TEST_PAYOUT_CRASH_AT: "after_sign" }).payouts.testCrashAt).toBe("after_sign");
  });
});

describe("production payouts", () => {
  let running: ProductionService | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function start(env: Record<string, string>) {
    running = await startProductionService(env);
    return running;
  }
  const healthOf = async (url: string) =>
    ((await (await fetch(`${url}/healthz`)).json()) as { status: string; payouts: Record<string, Record<string, unknown>> });

  it("pauses a network without a payout wallet or RPC, says which variables to set, and keeps the balance", async () => {
    const { logs, url } = await start({});
    expect(logs).toContain("payouts: payouts are off on Base: set PAYOUT_PRIVATE_KEY_BASE or PAYOUT_PRIVATE_KEY and RPC_URL_BASE. Rewards keep accruing in the ledger.");
    expect(logs.some((line) => line.includes("payouts are off on World Chain"))).toBe(true);
    await running!.server.payouts.kick();
    const health = await healthOf(url);
    expect(health.status).toBe("ok");
    expect(health.payouts[BASE.network]).toMatchObject({ state: "paused", reason: "not_configured", wallet: null, pendingAtomic: "0" });

    // A reward accrued on Base (fixture row: the ledger without its vote).
    const address = `0x${"5".repeat(40)}`;
    running!.server.store.sqlite.pragma("foreign_keys = OFF");
    running!.server.store.sqlite
      .prepare("INSERT INTO reward_ledger (vote_id, address, network, amount_atomic, created_at) VALUES (?, ?, ?, '500', ?)")
      .run("fixture-vote", address, BASE.network, new Date().toISOString());
    const ask = (who: string) =>
      fetch(`${url}/api/v1/voter/payouts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ address: who }) });
    const refused = await ask(address);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string; details: unknown } }).error).toMatchObject({
      code: "payouts_not_configured",
      details: { networks: [BASE.network] },
    });
    expect(running!.server.store.sqlite.prepare("SELECT payout_id FROM reward_ledger").all()).toEqual([{ payout_id: null }]);
    // An address with nothing owed, asking unsigned: the same answer as any balance below the threshold.
    const nothing = await ask(`0x${"6".repeat(40)}`);
    expect(nothing.status).toBe(400);
    expect(((await nothing.json()) as { error: { code: string } }).error.code).toBe("below_payout_threshold");
  });

  it("pays from PAYOUT_PRIVATE_KEY_BASE over RPC_URL_BASE (Base's USDC address) and never logs the key", async () => {
    const anvil = await startAnvil({ chainId: BASE.chainId });
    cleanups.push(() => anvil.stop());
    const admin = devAccount(DEV_ROLES.tokenAdminIndex);
    await placeTokenAt(anvil.rpcUrl, BASE.usdc.address, { name: BASE.usdc.name, version: BASE.usdc.version, minter: admin.address });
    const payout = devAccount(777);
    await setEthBalance(anvil.rpcUrl, admin.address, 10n ** 18n);
    await setEthBalance(anvil.rpcUrl, payout.address, 10n ** 18n);
    await mintUsdc(anvil.rpcUrl, admin.privateKey, BASE.usdc.address, payout.address, 5_000_000n);

    const { logs, url } = await start({ PAYOUT_PRIVATE_KEY_BASE: payout.privateKey, RPC_URL_BASE: anvil.rpcUrl });
    await running!.server.payouts.kick();
    const health = await healthOf(url);
    expect(health.payouts[BASE.network]).toMatchObject({
      state: "active",
      wallet: payout.address,
      walletBalanceAtomic: "5000000",
      gasBalanceWei: (10n ** 18n).toString(),
    });
    expect(logs).toContain(`payouts: Base (${BASE.network}) from ${payout.address}`);

    // A voter with 0.0007 USDC accrued on Base asks for it (fixture ledger rows without their votes).
    // Below the threshold: the voter signs the request (the test holds its key).
    const signer = voterAccount(`0x${"77".repeat(32)}`);
    const voter = signer.address;
    running!.server.store.sqlite.pragma("foreign_keys = OFF");
    const insert = running!.server.store.sqlite.prepare(
      "INSERT INTO reward_ledger (vote_id, address, network, amount_atomic, created_at) VALUES (?, ?, ?, ?, ?)",
    );
    insert.run("fixture-1", voter, BASE.network, "500", new Date().toISOString());
    insert.run("fixture-2", voter, BASE.network, "200", new Date().toISOString());
    const asked = await requestSignedPayout(url, signer.privateKey);
    expect(asked.status).toBe(202);
    await running!.server.payouts.kick();
    expect(await usdcBalanceOf(anvil.rpcUrl, BASE.usdc.address, voter as `0x${string}`)).toBe(700n);
    expect(await usdcBalanceOf(anvil.rpcUrl, BASE.usdc.address, payout.address)).toBe(5_000_000n - 700n);
    const everything = logs.join("\n").toLowerCase();
    expect(everything).not.toContain(payout.privateKey.slice(2).toLowerCase());
  });
});
