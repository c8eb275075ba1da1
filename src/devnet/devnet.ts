// startDevnet: a local EVM chain (anvil) with TestUSDC, Multicall3 and funded payers, plus the
// official x402 facilitator running in-process against it. Used by local mode and tests.
//
// Idempotent set-up, so a chain restored from `dataDir` or attached via `rpcUrl` is reused as is:
// - The token is always at the address of the dedicated token admin's first CREATE (nonce 0), so
//   it is the same on every fresh chain; if code is already there it is reused (after checking its
//   EIP-712 name/version), never redeployed.
// - A payer is funded only if it never received a mint, so spent balances are not topped up again.
// - Multicall3 is placed only if its address has no code.
//
// The chain's clock is kept current where payments read it (chain-clock.ts): before the facilitator
// verifies or settles, and when a spawned chain was restored from saved state.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { FacilitatorClient } from "@x402/core/server";
import { startAnvil, type AnvilProcess } from "./anvil.js";
import { bringClockCurrent, chainClock } from "./chain-clock.js";
import {
  DEV_ROLES,
  devAccount,
  deployToken,
  ensureGas,
  hasBeenMintedTo,
  mintUsdc,
  placeMulticall3,
  publicClientFor,
  readTokenDomain,
  tokenAddressFor,
  type Address,
  type DevAccount,
} from "./chain.js";
import { createLocalFacilitator, type LocalFacilitator } from "./facilitator.js";

export interface StartDevnetOptions {
  /** Persist the chain in `<dataDir>/chain-state.json` (loaded on start, saved on stop/periodically). */
  dataDir?: string;
  /** Attach to an already running anvil instead of spawning one (nothing is persisted by us). */
  rpcUrl?: string;
  /** Default 31337. When attaching, must match the chain's id if given. */
  chainId?: number;
  /** EIP-712 domain name of the token; default "USDC". */
  tokenName?: string;
  /** EIP-712 domain version of the token; default "2". */
  tokenVersion?: string;
  /** Default 3. */
  payerCount?: number;
  /** USDC (6 decimals) minted to each payer once; default 10_000 USDC. */
  payerFundingAtomic?: bigint;
  /** anvil's own periodic dump interval when persisting; default 30 s. */
  stateIntervalSeconds?: number;
}

export interface Devnet {
  network: `eip155:${number}`;
  chainId: number;
  rpcUrl: string;
  asset: Address;
  tokenName: string;
  tokenVersion: string;
  /** Receives poll payments. */
  payTo: Address;
  facilitatorAddress: Address;
  payers: DevAccount[];
  /** Token admin: deployed the token and is its minter (use with mintUsdc to fund more accounts). */
  minter: DevAccount;
  /** In-process official facilitator. */
  facilitator: FacilitatorClient & Pick<LocalFacilitator, "facilitator" | "address">;
  /** pid of the anvil we spawned; undefined when attached via rpcUrl. */
  anvilPid: number | undefined;
  /** Dumps chain state to dataDir now; no-op when attached or without dataDir. */
  saveState(): Promise<void>;
  /** Saves state and stops anvil if we spawned it; idempotent. */
  stop(): Promise<void>;
}

export const DEFAULT_PAYER_FUNDING_ATOMIC = 10_000_000_000n; // 10,000 USDC
export const CHAIN_STATE_FILE = "chain-state.json";

export async function startDevnet(opts: StartDevnetOptions = {}): Promise<Devnet> {
  const tokenName = opts.tokenName ?? "USDC";
  const tokenVersion = opts.tokenVersion ?? "2";
  const payerCount = opts.payerCount ?? 3;
  const funding = opts.payerFundingAtomic ?? DEFAULT_PAYER_FUNDING_ATOMIC;

  let anvil: AnvilProcess | undefined;
  let rpcUrl: string;
  let chainId: number;
  if (opts.rpcUrl) {
    rpcUrl = opts.rpcUrl;
    chainId = await publicClientFor(rpcUrl).getChainId();
    if (opts.chainId !== undefined && opts.chainId !== chainId) {
      throw new Error(`startDevnet: chain at ${rpcUrl} has id ${chainId}, not the requested ${opts.chainId}`);
    }
  } else {
    chainId = opts.chainId ?? 31337;
    let statePath: string | undefined;
    if (opts.dataDir) {
      mkdirSync(opts.dataDir, { recursive: true });
      statePath = join(opts.dataDir, CHAIN_STATE_FILE);
    }
    anvil = await startAnvil({
      chainId,
      statePath,
      stateIntervalSeconds: statePath ? (opts.stateIntervalSeconds ?? 30) : undefined,
    });
    rpcUrl = anvil.rpcUrl;
  }

  try {
    await placeMulticall3(rpcUrl);
    const minter = devAccount(DEV_ROLES.tokenAdminIndex);
    const asset = await ensureToken(rpcUrl, minter, { name: tokenName, version: tokenVersion });

    const payers = Array.from({ length: payerCount }, (_, i) => devAccount(DEV_ROLES.firstPayerIndex + i));
    for (const payer of payers) {
      if (!(await hasBeenMintedTo(rpcUrl, asset, payer.address))) {
        await mintUsdc(rpcUrl, minter.privateKey, asset, payer.address, funding);
      }
    }

    const facilitatorAccount = devAccount(DEV_ROLES.facilitatorIndex);
    await ensureGas(rpcUrl, facilitatorAccount.address); // prefunded by anvil; matters when attached
    const network = `eip155:${chainId}` as const;
    const localFacilitator = createLocalFacilitator({
      rpcUrl,
      chainId,
      privateKey: facilitatorAccount.privateKey,
      networks: [network],
    });
    const clock = chainClock(rpcUrl);
    const facilitator: Devnet["facilitator"] = {
      ...localFacilitator,
      verify: async (payload, requirements) => {
        await clock.catchUp();
        return localFacilitator.verify(payload, requirements);
      },
      settle: async (payload, requirements) => {
        await clock.catchUp();
        return localFacilitator.settle(payload, requirements);
      },
    };
    // A restored chain's latest block is as old as the stop: bring it to now before anyone reads it.
    // Not on an attached chain, which is someone else's (payments still keep it current).
    if (anvil) await bringClockCurrent(rpcUrl);

    const saveState = async () => {
      if (anvil?.statePath) await anvil.saveState();
    };
    await saveState(); // a crash right after set-up must not lose the deployment

    let stopping: Promise<void> | undefined;
    return {
      network,
      chainId,
      rpcUrl,
      asset,
      tokenName,
      tokenVersion,
      payTo: devAccount(DEV_ROLES.payToIndex).address,
      facilitatorAddress: facilitator.address,
      payers,
      minter,
      facilitator,
      anvilPid: anvil?.pid,
      saveState,
      stop: () => (stopping ??= anvil ? anvil.stop() : Promise.resolve()), // anvil.stop saves first
    };
  } catch (err) {
    await anvil?.stop().catch(() => {});
    throw err;
  }
}

/** Returns the token address, deploying it only if the deterministic address has no code yet. */
async function ensureToken(
  rpcUrl: string,
  admin: DevAccount,
  domain: { name: string; version: string },
): Promise<Address> {
  const expected = tokenAddressFor(admin.address, 0n);
  const existing = await readTokenDomain(rpcUrl, expected);
  if (existing) {
    if (existing.name !== domain.name || existing.version !== domain.version) {
      throw new Error(
        `the chain already has a token at ${expected} with EIP-712 domain ${JSON.stringify(existing)}, ` +
          `not ${JSON.stringify(domain)}; use a fresh data directory (or chain) to change it`,
      );
    }
    return expected;
  }
  const nonce = await publicClientFor(rpcUrl).getTransactionCount({ address: admin.address });
  if (nonce !== 0) {
    throw new Error(
      `cannot deploy the token deterministically: token admin ${admin.address} already sent ${nonce} ` +
        `transaction(s) on this chain but there is no token at ${expected}`,
    );
  }
  await ensureGas(rpcUrl, admin.address);
  const deployed = await deployToken(rpcUrl, admin.privateKey, { ...domain, minter: admin.address });
  if (deployed.toLowerCase() !== expected.toLowerCase()) {
    throw new Error(`token deployed at ${deployed}, expected ${expected}`);
  }
  return expected;
}
