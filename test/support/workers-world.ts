// What a Worker under `wrangler dev --local` talks to, all local and real (as test/workers-scenario.test.ts
// sets up): anvil with Base's chain id and the test token at Base's USDC address, the official x402
// facilitator over HTTP, the OpenAI moderation and World ID portal stand-ins; the Worker's vars for them,
// and voting as a simulated human (the test plays World App).
import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { privateKeyToAddress } from "viem/accounts";
import { payingFetch } from "../../scripts/lib/agent";
import { castVote, payoutAddressFor, requestWorldId, type Demographics, type WorldIdRequestView } from "../../scripts/lib/voter";
import { startAnvil, type AnvilProcess } from "../../src/devnet/anvil";
import { DEV_ROLES, devAccount, mintUsdc, placeMulticall3, placeTokenAt } from "../../src/devnet/chain";
import { createLocalFacilitator, serveFacilitatorOverHttp, type FacilitatorHttpServer } from "../../src/devnet/facilitator";
import { simulateWorldIdProof, startWorldIdStandin, type SimulatedWorldIdNetwork, type WorldIdStandin } from "../../src/devnet/world-id";
import { BASE } from "../../src/payment/networks";
import { pollBody } from "./harness";
import { startOpenAIModerationStandin, type OpenAIModerationStandin } from "./openai-moderation-standin";

export const WORKERS_USDC = BASE.usdc.address as `0x${string}`;

export interface WorkersWorld {
  anvil: AnvilProcess;
  openai: OpenAIModerationStandin;
  portal: WorldIdStandin;
  payer: ReturnType<typeof devAccount>;
  payTo: `0x${string}`;
  /** The Worker's vars for this world (secrets included: a local test), given its public origin. */
  vars(base: string): Record<string, string>;
  createPaidPoll(base: string, overrides: Record<string, unknown>): Promise<{ status: number; body: Record<string, any> }>;
  /** A World ID-verified vote by one simulated human, paid out to payoutAddressFor(human). */
  vote(base: string, pollId: string, optionId: string, human: string, demographics?: Demographics): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

export async function startWorkersWorld(): Promise<WorkersWorld> {
  const payer = devAccount(DEV_ROLES.firstPayerIndex);
  const minter = devAccount(DEV_ROLES.tokenAdminIndex);
  const payTo = devAccount(7).address;
  const readTokenSecret = `workers-world-${randomBytes(16).toString("hex")}`;
  const rpId = "rp_workers_world";
  const appId = "app_workers_world";
  const rpSigningKey = `0x${randomBytes(32).toString("hex")}` as const;
  const network: SimulatedWorldIdNetwork = { key: new Uint8Array(randomBytes(32)), relyingParties: [{ rpId, signerAddress: privateKeyToAddress(rpSigningKey) }] };

  const anvil = await startAnvil({ chainId: BASE.chainId });
  let facilitatorHttp: FacilitatorHttpServer | undefined;
  let openai: OpenAIModerationStandin | undefined;
  let portal: WorldIdStandin | undefined;
  const close = async () => {
    await portal?.close();
    await openai?.close();
    await facilitatorHttp?.close();
    await anvil.stop();
  };
  try {
    await placeMulticall3(anvil.rpcUrl);
    await placeTokenAt(anvil.rpcUrl, WORKERS_USDC, { name: "USD Coin", version: "2", minter: minter.address });
    await mintUsdc(anvil.rpcUrl, minter.privateKey, WORKERS_USDC, payer.address, 10_000_000n);
    facilitatorHttp = await serveFacilitatorOverHttp(
      createLocalFacilitator({ rpcUrl: anvil.rpcUrl, chainId: BASE.chainId, privateKey: devAccount(DEV_ROLES.facilitatorIndex).privateKey, networks: [BASE.network] }),
    );
    openai = await startOpenAIModerationStandin();
    portal = await startWorldIdStandin({ relyingParties: [{ rpId, appId }], networkKey: network.key });
  } catch (error) {
    await close();
    throw error;
  }
  const services = { facilitatorUrl: facilitatorHttp.url, openai, portalUrl: portal.url };

  return {
    anvil,
    openai,
    portal,
    payer,
    payTo,
    vars: (base) => ({
      PUBLIC_BASE_URL: base,
      READ_TOKEN_SECRET: readTokenSecret,
      X402_PAY_TO_ADDRESS_BASE: payTo,
      X402_FACILITATOR_URL: services.facilitatorUrl,
      RPC_URL_BASE: anvil.rpcUrl,
      OPENAI_API_KEY: services.openai.apiKey,
      OPENAI_BASE_URL: services.openai.url,
      WORLD_ID_APP_ID: appId,
      WORLD_ID_RP_ID: rpId,
      WORLD_ID_SIGNING_KEY: rpSigningKey,
      WORLD_ID_VERIFY_BASE_URL: services.portalUrl,
      // Every simulated human votes from this one loopback address (their own tests cover these limits).
      RATE_LIMIT_VOTER_WRITES_PER_IP_PER_MINUTE: "0",
      WORLD_ID_PORTAL_CALLS_PER_MINUTE: "0",
    }),
    async createPaidPoll(base, overrides) {
      const pay = payingFetch({ privateKey: payer.privateKey, network: BASE.network, asset: WORKERS_USDC, onlyThisNetwork: true });
      const response = await pay(`${base}/api/v1/polls`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(pollBody(overrides)) });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    },
    async vote(base, pollId, optionId, human, demographics = { country: "FR", ageBand: "25-34" }) {
      const payoutAddress = payoutAddressFor(human);
      const request = await requestWorldId(base, pollId, optionId, payoutAddress);
      if (request.status !== 200) return request;
      const view = request.body as WorldIdRequestView;
      expect(view.simulated).toBe(false);
      const proof = simulateWorldIdProof({ network, rpContext: view.idkit.rp_context, action: view.idkit.action, signal: view.signal, human });
      return castVote(base, pollId, { optionId, payoutAddress, proof, demographics });
    },
    close,
  };
}
