// Local mode's chain keeps time: anvil mines only on transactions, so an idle chain's latest block grows
// old, and the token checks an authorization's validAfter against block.timestamp. A client that signs
// validAfter in the past (the independent @faremeter client signs now − 60 s) must still pay after the
// chain sat idle, and after a restart from saved state.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { wrap } from "@faremeter/fetch";
import { exact } from "@faremeter/payment-evm";
import { privateKeyToAccount } from "viem/accounts";
import { publicClientFor } from "../src/devnet/chain";
import { pollBody, startLocalService, type LocalService } from "./support/harness";

// Longer than the client's 60 s of slack: an authorization signed now is "not yet valid" at that block.
const IDLE_SECONDS = 600;

const services: LocalService[] = [];
const dataDirs: string[] = [];
afterAll(async () => {
  for (const service of services) await service.stop();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}): Promise<LocalService> {
  const service = await startLocalService(env);
  services.push(service);
  return service;
}

async function stop(service: LocalService): Promise<void> {
  services.splice(services.indexOf(service), 1);
  await service.stop();
}

async function rpc(rpcUrl: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/**
 * Leaves the chain as IDLE_SECONDS without a transaction would, for everything that reads it: its latest
 * block is that old, while the node's own clock (the timestamp its next block gets) is the wall clock.
 * (Only the blocks before it are younger, which nothing reads; evm_mine refuses a timestamp below its
 * parent's, evm_setTime does not.)
 */
async function sitIdle(rpcUrl: string): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  await rpc(rpcUrl, "evm_setTime", [now - IDLE_SECONDS]);
  await rpc(rpcUrl, "evm_mine", []);
  await rpc(rpcUrl, "evm_setTime", [now]);
}

async function latestBlockAgeSeconds(rpcUrl: string): Promise<number> {
  const block = await publicClientFor(rpcUrl).getBlock({ blockTag: "latest" });
  return Math.floor(Date.now() / 1000) - Number(block.timestamp);
}

/** Pays POST /api/v1/polls with @faremeter/fetch + @faremeter/payment-evm (validAfter = now − 60 s). */
async function payWithFaremeter(service: LocalService): Promise<{ status: number; body: unknown }> {
  const devnet = service.devnet!;
  const account = privateKeyToAccount(devnet.payers[0]!.privateKey);
  const handler = exact.createPaymentHandler(
    { chain: { id: devnet.chainId, name: "devnet" }, address: account.address, account },
    // The local token is not in faremeter's table of known assets: name it explicitly.
    { asset: { address: devnet.asset, contractName: devnet.tokenName } },
  );
  const payingFetch = wrap(fetch, { handlers: [handler], retryCount: 0, returnPaymentFailure: true });
  const response = await payingFetch(`${service.url}/api/v1/polls`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(pollBody()),
  });
  return { status: response.status, body: await response.json() };
}

describe("a client that signs validAfter in the past", () => {
  it("pays after the local chain sat idle", async () => {
    const service = await start();
    const rpcUrl = service.devnet!.rpcUrl;
    await sitIdle(rpcUrl);
    expect(await latestBlockAgeSeconds(rpcUrl)).toBeGreaterThanOrEqual(IDLE_SECONDS);

    const paid = await payWithFaremeter(service);
    expect(paid).toMatchObject({ status: 201, body: { id: expect.any(String) } });
  });

  it("pays after a restart from saved state, whose latest block is as old as the stop", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "chain-keeps-time-"));
    dataDirs.push(dataDir);
    const first = await start({ DATA_DIR: dataDir });
    expect((await payWithFaremeter(first)).status).toBe(201);
    await sitIdle(first.devnet!.rpcUrl);
    await stop(first); // saves the chain, latest block included

    const second = await start({ DATA_DIR: dataDir });
    // The restored chain caught up with the wall clock before anyone asked.
    expect(await latestBlockAgeSeconds(second.devnet!.rpcUrl)).toBeLessThan(60);
    const paid = await payWithFaremeter(second);
    expect(paid).toMatchObject({ status: 201, body: { id: expect.any(String) } });
  });
});
