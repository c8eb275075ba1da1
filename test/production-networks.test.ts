// The production network table, exercised for real: two chains with the ids of Base (8453) and
// World Chain (480), the test token placed at each real USDC address with that network's EIP-712
// name, the official facilitator served over HTTP and reached through HTTPFacilitatorClient
// (X402_FACILITATOR_URL), and the service in production mode. A wrong address, domain name or
// chain id in our table makes a signature or a settlement fail here.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FacilitatorClient } from "@x402/core/server";
import { payingFetch } from "../scripts/lib/agent";
import { loadConfig } from "../src/config";
import { startAnvil, type AnvilProcess } from "../src/devnet/anvil";
import { DEV_ROLES, devAccount, mintUsdc, placeMulticall3, placeTokenAt, usdcBalanceOf } from "../src/devnet/chain";
import { createLocalFacilitator, serveFacilitatorOverHttp, type FacilitatorHttpServer } from "../src/devnet/facilitator";
import { BASE, WORLD_CHAIN, type NetworkSpec } from "../src/payment/networks";
import { startServer, type RunningServer } from "../src/server";
import { pollBody } from "./support/harness";
import { startOpenAIModerationStandin, type OpenAIModerationStandin } from "./support/openai-moderation-standin";
import { freePort } from "./support/ports";

// What the real tokens say on chain, written out here independently of our network table, so a
// wrong entry in the table cannot be mirrored into the imitation chain.
const REAL_USDC: Record<number, { address: `0x${string}`; name: string; version: string }> = {
  8453: { address: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", name: "USD Coin", version: "2" },
  480: { address: "0x79A02482A880bCE3F13e09Da970dC34db4CD24d1", name: "USDC", version: "2" },
};

const payer = devAccount(DEV_ROLES.firstPayerIndex);
const minter = devAccount(DEV_ROLES.tokenAdminIndex);
const payToBase = devAccount(7).address;
const payToWorld = devAccount(8).address;

interface Chain {
  spec: NetworkSpec;
  anvil: AnvilProcess;
}

let chains: Chain[] = [];
let facilitatorHttp: FacilitatorHttpServer;
let openai: OpenAIModerationStandin;
let server: RunningServer;
let dataDir: string;
const logs: string[] = [];

/** One facilitator URL in front of one official facilitator per chain, routed by network. */
function routeByNetwork(byNetwork: Map<string, FacilitatorClient>): FacilitatorClient {
  const pick = (network: string) => {
    const client = byNetwork.get(network);
    if (!client) throw new Error(`no facilitator for ${network}`);
    return client;
  };
  return {
    verify: (payload, requirements) => pick(requirements.network).verify(payload, requirements),
    settle: (payload, requirements) => pick(requirements.network).settle(payload, requirements),
    async getSupported() {
      const all = await Promise.all([...byNetwork.values()].map((client) => client.getSupported()));
      return {
        kinds: all.flatMap((s) => s.kinds),
        extensions: [...new Set(all.flatMap((s) => s.extensions))],
        signers: Object.assign({}, ...all.map((s) => s.signers)),
      };
    },
  };
}

beforeAll(async () => {
  const byNetwork = new Map<string, FacilitatorClient>();
  for (const spec of [BASE, WORLD_CHAIN]) {
    const anvil = await startAnvil({ chainId: spec.chainId });
    chains.push({ spec, anvil });
    await placeMulticall3(anvil.rpcUrl);
    const real = REAL_USDC[spec.chainId]!;
    await placeTokenAt(anvil.rpcUrl, real.address, { name: real.name, version: real.version, minter: minter.address });
    await mintUsdc(anvil.rpcUrl, minter.privateKey, real.address, payer.address, 100_000_000n);
    byNetwork.set(
      spec.network,
      createLocalFacilitator({
        rpcUrl: anvil.rpcUrl,
        chainId: spec.chainId,
        privateKey: devAccount(DEV_ROLES.facilitatorIndex).privateKey,
        networks: [spec.network],
      }),
    );
  }
  facilitatorHttp = await serveFacilitatorOverHttp(routeByNetwork(byNetwork));
  openai = await startOpenAIModerationStandin();
  dataDir = mkdtempSync(join(tmpdir(), "quali-prod-"));
  const port = await freePort();
  const config = loadConfig({
    MODE: "production",
    NODE_ENV: "production",
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    READ_TOKEN_SECRET: "a-production-secret-of-at-least-32-characters",
    X402_PAY_TO_ADDRESS_BASE: payToBase,
    X402_PAY_TO_ADDRESS_WORLDCHAIN: payToWorld,
    X402_FACILITATOR_URL: facilitatorHttp.url,
    // Payments are confirmed from the chain: point each network's reader at its local chain.
    RPC_URL_BASE: chains.find((c) => c.spec === BASE)!.anvil.rpcUrl,
    RPC_URL_WORLDCHAIN: chains.find((c) => c.spec === WORLD_CHAIN)!.anvil.rpcUrl,
    OPENAI_API_KEY: openai.apiKey,
    OPENAI_BASE_URL: openai.url,
  });
  server = await startServer(config, { log: (line) => logs.push(line) });
});

afterAll(async () => {
  await server?.close();
  await facilitatorHttp?.close();
  await openai?.close();
  for (const chain of chains) await chain.anvil.stop();
  chains = [];
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("production network table", () => {
  it("challenges with Base and World Chain USDC, with each token's EIP-712 domain", async () => {
    const quote = await (await fetch(`${server.url}/api/v1/quote?maxResponses=100`)).json();
    expect(quote.paymentRequired.accepts).toEqual([
      {
        scheme: "exact",
        network: "eip155:8453",
        amount: "500000",
        asset: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
        payTo: payToBase,
        maxTimeoutSeconds: 120,
        extra: { name: "USD Coin", version: "2" },
      },
      {
        scheme: "exact",
        network: "eip155:480",
        amount: "500000",
        asset: "0x79A02482A880bCE3F13e09Da970dC34db4CD24d1",
        payTo: payToWorld,
        maxTimeoutSeconds: 120,
        extra: { name: "USDC", version: "2" },
      },
    ]);
  });

  it.each([
    ["base", BASE, "Base"],
    ["worldchain", WORLD_CHAIN, "World Chain"],
    ["world-chain", WORLD_CHAIN, "World Chain"],
    ["world", WORLD_CHAIN, "World Chain"],
    ["eip155:8453", BASE, "Base"],
  ])("narrows the quote to one network with the alias %s", async (alias, spec, _label) => {
    const quote = await (await fetch(`${server.url}/api/v1/quote?maxResponses=100&network=${alias}`)).json();
    expect(quote.paymentRequired.accepts.map((a: { network: string }) => a.network)).toEqual([spec.network]);
  });

  it("refuses testnets that are not enabled", async () => {
    const response = await fetch(`${server.url}/api/v1/quote?maxResponses=100&network=base-sepolia`);
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({ code: "unsupported_network", param: "network" });
  });

  it.each([
    ["Base", BASE],
    ["World Chain", WORLD_CHAIN],
  ])("settles a paid poll on %s through the HTTP facilitator", async (label, spec) => {
    const chain = chains.find((c) => c.spec === spec)!;
    const payTo = spec === BASE ? payToBase : payToWorld;
    const before = {
      payer: await usdcBalanceOf(chain.anvil.rpcUrl, spec.usdc.address, payer.address),
      payTo: await usdcBalanceOf(chain.anvil.rpcUrl, spec.usdc.address, payTo),
    };
    const pay = payingFetch({
      privateKey: payer.privateKey,
      network: spec.network,
      asset: spec.usdc.address,
      onlyThisNetwork: true,
    });
    const response = await pay(`${server.url}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(pollBody({ maxResponses: 100 })),
    });
    expect(response.status).toBe(201);
    const body = await response.json();
    expect(body.payment).toMatchObject({ network: spec.network, networkLabel: label, amountAtomic: "500000" });
    expect(body.payment.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    const after = {
      payer: await usdcBalanceOf(chain.anvil.rpcUrl, spec.usdc.address, payer.address),
      payTo: await usdcBalanceOf(chain.anvil.rpcUrl, spec.usdc.address, payTo),
    };
    expect(before.payer - after.payer).toBe(500_000n);
    expect(after.payTo - before.payTo).toBe(500_000n);
  });

  it.each([
    ["mediaUrl", { mediaUrl: "https://192.168.1.10/poll.png", mediaType: "image" }],
    ["moreInfoUrl", { moreInfoUrl: "https://169.254.169.254/latest/meta-data" }],
    ["options[1].mediaUrl", { options: [{ text: "A" }, { text: "B", mediaUrl: "https://intranet.local/b.png" }] }],
    ["callbackUrl", { callbackUrl: "https://10.1.2.3/hook" }],
  ])("refuses a %s into a private network before any challenge", async (param, overrides) => {
    const response = await fetch(`${server.url}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(pollBody(overrides)),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("PAYMENT-REQUIRED")).toBeNull();
    expect((await response.json()).error).toMatchObject({ code: "validation_error", param });
  });

  it("never starts a chain or a word-list moderator in production", () => {
    expect(server.devnet).toBeUndefined();
    expect(logs.some((line) => line.includes("local-word-list"))).toBe(false);
    expect(logs.some((line) => line.includes("openai:omni-moderation-latest"))).toBe(true);
  });
});
