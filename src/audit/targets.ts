// Which networks to audit, from the service's Config: in local mode the devnet the service described in
// <DATA_DIR>/devnet.json; in production Base and World Chain by their pay-to addresses and RPC URLs.
// Payout wallets are derived from the payout keys; a key never leaves this module.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import type { Config } from "../config";
import { productionNetworks, productionRpcUrl } from "../enabled-networks";
import { BASE, WORLD_CHAIN } from "../payment";
import type { Address, AuditTarget, SkippedNetwork } from "./types";

/** The audit cannot start: a missing or invalid variable or file, named in the message. */
export class AuditConfigError extends Error {
  override name = "AuditConfigError";
}

export interface AuditPlan {
  targets: AuditTarget[];
  skipped: SkippedNetwork[];
}

export interface PlanOptions {
  /** First block to scan on every audited network. */
  fromBlock?: bigint;
  /** Audit only this network (CAIP-2 id or alias such as base, worldchain, local). */
  network?: string;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

const walletOf = (privateKey: string | undefined): Address | undefined =>
  privateKey ? privateKeyToAccount(privateKey as `0x${string}`).address : undefined;

/** The devnet as src/server.ts wrote it at startup. */
function readDevnetFile(dataDir: string): { network: string; rpcUrl: string; asset: Address; payTo: Address; payoutWallet: Address | undefined } {
  const path = join(dataDir, "devnet.json");
  if (!existsSync(path)) {
    throw new AuditConfigError(`${path} not found: the service writes it when it starts in local mode (npm start with DATA_DIR=${dataDir}).`);
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new AuditConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const field = (name: string, valid: (value: string) => boolean) => {
    const value = parsed[name];
    if (typeof value !== "string" || !valid(value)) throw new AuditConfigError(`${path}: "${name}" is missing or invalid.`);
    return value;
  };
  return {
    network: field("network", (v) => /^eip155:\d+$/.test(v)),
    rpcUrl: field("rpcUrl", (v) => URL.canParse(v)),
    asset: field("asset", (v) => ADDRESS.test(v)) as Address,
    payTo: field("payTo", (v) => ADDRESS.test(v)) as Address,
    payoutWallet: typeof parsed.payoutWallet === "string" && ADDRESS.test(parsed.payoutWallet) ? (parsed.payoutWallet as Address) : undefined,
  };
}

function localPlan(config: Config, options: PlanOptions): AuditTarget[] {
  const devnet = readDevnetFile(config.dataDir);
  return [
    {
      network: devnet.network,
      label: "Local devnet",
      asset: devnet.asset,
      payTo: devnet.payTo,
      // The wallet the service pays voters from, as it wrote it (absent when payouts are off).
      ...(devnet.payoutWallet ? { payoutWallet: devnet.payoutWallet } : {}),
      rpcUrl: devnet.rpcUrl,
      fromBlock: options.fromBlock ?? 0n,
    },
  ];
}

function productionPlan(config: Config, options: PlanOptions): AuditPlan {
  const enabled = productionNetworks(config);
  if (enabled.length === 0) {
    throw new AuditConfigError("No network takes payments: set X402_PAY_TO_ADDRESS_BASE and/or X402_PAY_TO_ADDRESS_WORLDCHAIN.");
  }
  const payoutKeys = new Map([
    [BASE.network, config.payouts.privateKeyBase],
    [WORLD_CHAIN.network, config.payouts.privateKeyWorldChain],
  ]);
  const targets: AuditTarget[] = [];
  const skipped: SkippedNetwork[] = [];
  const missing: string[] = [];
  for (const { spec, payTo } of enabled) {
    if (options.network !== undefined && !selects(options.network, spec.network, false)) {
      skipped.push({ network: spec.network, label: spec.label, reason: "not selected (--network)." });
      continue;
    }
    // The same chain the service confirms payments on (src/enabled-networks.ts).
    const rpcUrl = productionRpcUrl(config, spec);
    if (!rpcUrl) {
      missing.push(`an RPC URL (to audit ${spec.label})`);
      continue;
    }
    const payoutWallet = walletOf(payoutKeys.get(spec.network) ?? config.payouts.privateKey);
    targets.push({
      network: spec.network,
      label: spec.label,
      asset: spec.usdc.address,
      payTo,
      ...(payoutWallet ? { payoutWallet } : {}),
      rpcUrl,
      ...(options.fromBlock !== undefined ? { fromBlock: options.fromBlock } : {}),
    });
  }
  if (missing.length > 0) throw new AuditConfigError(`Missing configuration: set ${missing.join(" and ")}.`);
  return { targets, skipped };
}

const ALIASES: Record<string, string[]> = {
  [BASE.network]: [...BASE.aliases],
  [WORLD_CHAIN.network]: [...WORLD_CHAIN.aliases],
};

function selects(filter: string, network: string, local: boolean): boolean {
  const wanted = filter.trim().toLowerCase();
  return wanted === network || (ALIASES[network] ?? []).includes(wanted) || (local && (wanted === "local" || wanted === "devnet"));
}

export function planAudit(config: Config, options: PlanOptions = {}): AuditPlan {
  const plan = config.mode === "local" ? { targets: localPlan(config, options), skipped: [] } : productionPlan(config, options);
  if (options.network !== undefined && !plan.targets.some((t) => selects(options.network!, t.network, config.mode === "local"))) {
    throw new AuditConfigError(`--network ${options.network}: matches no network this audit can read here (payments enabled and an RPC configured).`);
  }
  return plan;
}
