// The MCP server's environment → a typed configuration. The only module of this program that reads
// QUALI_* variables; everything else receives the values from main.ts. Problems are collected and
// reported together so an operator fixes them in one round; the private key is never echoed.
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";

export const DEFAULT_BASE_URL = "http://localhost:8787";
export const DEFAULT_MAX_USDC_PER_POLL = "1";
export const DEFAULT_MAX_USDC_PER_DAY = "10";

/** USDC has 6 decimals on every network the service accepts. */
export const USDC_DECIMALS = 6;
const ATOMIC_PER_USDC = 10n ** BigInt(USDC_DECIMALS);

export interface McpConfig {
  /** The service's origin, without a trailing slash. */
  baseUrl: string;
  /** The paying wallet; undefined when QUALI_PAYER_PRIVATE_KEY is unset (create_poll and list_my_polls refuse). */
  account: PrivateKeyAccount | undefined;
  maxAtomicPerPoll: bigint;
  maxAtomicPerDay: bigint;
  /** CAIP-2 network to pay on; undefined: the first network the service offers. */
  network: string | undefined;
  /** Where the spend ledger and the read tokens live (absolute). */
  home: string;
}

export class McpConfigError extends Error {
  override name = "McpConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`quali-mcp: bad configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Network names the service's /quote accepts, mapped to CAIP-2 (a CAIP-2 id is taken as is). */
const NETWORK_ALIASES: Record<string, string> = {
  base: "eip155:8453",
  "base-sepolia": "eip155:84532",
  worldchain: "eip155:480",
  "world-chain": "eip155:480",
  world: "eip155:480",
  "worldchain-sepolia": "eip155:4801",
};

/** "1", "0.5", "12.000001" → atomic units; undefined for anything else (no exponents, signs or 7th decimal). */
export function parseUsdc(text: string): bigint | undefined {
  const match = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!match) return undefined;
  const fraction = (match[2] ?? "").padEnd(USDC_DECIMALS, "0");
  return BigInt(match[1]!) * ATOMIC_PER_USDC + BigInt(fraction);
}

/** Atomic units → a decimal USDC string without trailing zeros ("1.25", "0.000001", "10"). */
export function formatUsdc(atomic: bigint): string {
  const sign = atomic < 0n ? "-" : "";
  const value = atomic < 0n ? -atomic : atomic;
  const whole = value / ATOMIC_PER_USDC;
  const fraction = (value % ATOMIC_PER_USDC).toString().padStart(USDC_DECIMALS, "0").replace(/0+$/, "");
  return `${sign}${whole}${fraction ? `.${fraction}` : ""}`;
}

export function resolveNetwork(name: string): string | undefined {
  const key = name.trim().toLowerCase();
  if (/^eip155:[1-9]\d{0,15}$/.test(key)) return key;
  return NETWORK_ALIASES[key];
}

export function loadMcpConfig(env: Readonly<Record<string, string | undefined>>): McpConfig {
  const problems: string[] = [];
  const set = (name: string) => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };

  let baseUrl = DEFAULT_BASE_URL;
  const rawBaseUrl = set("QUALI_BASE_URL");
  if (rawBaseUrl !== undefined) {
    const url = URL.canParse(rawBaseUrl) ? new URL(rawBaseUrl) : undefined;
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password || url.search || url.hash) {
      problems.push(`QUALI_BASE_URL must be an http(s) URL without credentials, query or fragment (got ${JSON.stringify(rawBaseUrl)}).`);
    } else {
      baseUrl = `${url.origin}${url.pathname}`.replace(/\/+$/, "");
    }
  }

  let account: PrivateKeyAccount | undefined;
  const rawKey = set("QUALI_PAYER_PRIVATE_KEY");
  if (rawKey !== undefined) {
    const key = rawKey.startsWith("0x") ? rawKey : `0x${rawKey}`;
    if (!/^0x[0-9a-fA-F]{64}$/.test(key)) {
      problems.push("QUALI_PAYER_PRIVATE_KEY must be a 32-byte hex private key (64 hex digits, optionally 0x-prefixed); its value is not shown.");
    } else {
      try {
        account = privateKeyToAccount(key as `0x${string}`);
      } catch {
        problems.push("QUALI_PAYER_PRIVATE_KEY is not a valid secp256k1 private key; its value is not shown.");
      }
    }
  }

  const usdcSetting = (name: string, fallback: string): bigint => {
    const raw = set(name) ?? fallback;
    const atomic = parseUsdc(raw);
    if (atomic === undefined) {
      problems.push(`${name} must be a USDC amount as a plain decimal with at most 6 decimals, e.g. "1" or "2.5" (got ${JSON.stringify(raw)}).`);
      return 0n;
    }
    return atomic;
  };
  const maxAtomicPerPoll = usdcSetting("QUALI_MAX_USDC_PER_POLL", DEFAULT_MAX_USDC_PER_POLL);
  const maxAtomicPerDay = usdcSetting("QUALI_MAX_USDC_PER_DAY", DEFAULT_MAX_USDC_PER_DAY);

  let network: string | undefined;
  const rawNetwork = set("QUALI_NETWORK");
  if (rawNetwork !== undefined) {
    network = resolveNetwork(rawNetwork);
    if (!network) {
      problems.push(
        `QUALI_NETWORK must be a CAIP-2 id (eip155:<chain id>) or one of ${Object.keys(NETWORK_ALIASES).join(", ")} (got ${JSON.stringify(rawNetwork)}).`,
      );
    }
  }

  const rawHome = set("QUALI_MCP_HOME");
  let home = join(homedir(), ".quali-mcp");
  if (rawHome !== undefined) {
    const expanded = rawHome === "~" || rawHome.startsWith("~/") ? join(homedir(), rawHome.slice(1)) : rawHome;
    home = isAbsolute(expanded) ? expanded : resolve(expanded);
  }

  if (problems.length > 0) throw new McpConfigError(problems);
  return { baseUrl, account, maxAtomicPerPoll, maxAtomicPerDay, network, home };
}
