// viem helpers for the devnet chain: dev accounts, token deployment/placement, minting, reads.
// Everything here talks JSON-RPC to an anvil node (anvil_* methods are used for code placement
// and ETH top-ups), and uses the compiled artifacts, never solc.
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  getContractAddress,
  http,
  parseAbi,
  rpcSchema,
  toHex,
  type Abi,
  type Chain,
  type Hex,
  type PublicClient,
} from "viem";
import { pbkdf2Sync } from "node:crypto";
import { HDKey, hdKeyToAccount, privateKeyToAccount } from "viem/accounts";
import testUsdcArtifact from "./artifacts/TestUSDC.json" with { type: "json" };
import multicallArtifact from "./artifacts/Multicall.json" with { type: "json" };

export type Address = `0x${string}`;

/** Canonical Multicall3 address (same on every chain); the facilitator's diagnostics call it. */
export const MULTICALL3_ADDRESS: Address = "0xcA11bde05977b3631167028862bE2a173976CA11";

/** anvil's default dev mnemonic: every key derived from it is public. Local use only. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

export interface DevAccount {
  address: Address;
  privateKey: Hex;
}

let devRoot: HDKey | undefined;
const devAccountCache = new Map<number, DevAccount>();
/** Account `index` of the dev mnemonic (m/44'/60'/0'/0/index). anvil prefunds indexes 0–9 with ETH. */
export function devAccount(index: number): DevAccount {
  let acct = devAccountCache.get(index);
  if (!acct) {
    // BIP-39 seed computed once with native PBKDF2: viem's mnemonicToAccount redoes it in JS on
    // every call (~100 ms each), which dominated devnet start-up.
    devRoot ??= HDKey.fromMasterSeed(pbkdf2Sync(DEV_MNEMONIC.normalize("NFKD"), "mnemonic", 2048, 64, "sha512"));
    const hd = hdKeyToAccount(devRoot, { addressIndex: index });
    const key = hd.getHdKey().privateKey;
    if (!key) throw new Error(`no private key for dev account ${index}`);
    acct = { address: hd.address, privateKey: toHex(key) };
    devAccountCache.set(index, acct);
  }
  return acct;
}

/**
 * Who does what on the devnet. The token admin (deployer + minter) is a dev-mnemonic account that
 * anvil does not prefund and nobody else uses, so its first transaction (nonce 0) is always the
 * token deployment and the token address is the same on every fresh chain.
 */
export const DEV_ROLES = {
  facilitatorIndex: 0,
  payToIndex: 1,
  firstPayerIndex: 2,
  tokenAdminIndex: 1000,
} as const;

/** The subset of TestUSDC's ABI that callers use, typed for viem inference. */
export const testUsdcAbi = parseAbi([
  "function name() view returns (string)",
  "function symbol() view returns (string)",
  "function version() view returns (string)",
  "function decimals() view returns (uint8)",
  "function minter() view returns (address)",
  "function totalSupply() view returns (uint256)",
  "function balanceOf(address account) view returns (uint256)",
  "function allowance(address owner, address spender) view returns (uint256)",
  "function transfer(address to, uint256 value) returns (bool)",
  "function approve(address spender, uint256 value) returns (bool)",
  "function transferFrom(address from, address to, uint256 value) returns (bool)",
  "function mint(address to, uint256 amount)",
  "function initialize(string name_, string version_, address minter_)",
  "function DOMAIN_SEPARATOR() view returns (bytes32)",
  "function eip712Domain() view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)",
  "function authorizationState(address authorizer, bytes32 nonce) view returns (bool)",
  "function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)",
  "function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)",
  "function receiveWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)",
  "function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)",
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "event Approval(address indexed owner, address indexed spender, uint256 value)",
  "event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)",
  "event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce)",
]);

export const testUsdcArtifactAbi = testUsdcArtifact.abi as Abi;
export const testUsdcBytecode = testUsdcArtifact.bytecode as Hex;
export const testUsdcDeployedBytecode = testUsdcArtifact.deployedBytecode as Hex;
export const multicallDeployedBytecode = multicallArtifact.deployedBytecode as Hex;

// anvil mines instantly; poll receipts fast instead of viem's default 4 s.
const POLLING_INTERVAL_MS = 50;

/** A viem chain for a local node (viem needs the id to sign transactions). */
export function localChain(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: `devnet-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

export function publicClientFor(rpcUrl: string): PublicClient {
  return createPublicClient({ transport: http(rpcUrl), pollingInterval: POLLING_INTERVAL_MS });
}

async function walletFor(rpcUrl: string, privateKey: Hex) {
  const chainId = await publicClientFor(rpcUrl).getChainId();
  return createWalletClient({
    account: privateKeyToAccount(privateKey),
    chain: localChain(chainId, rpcUrl),
    transport: http(rpcUrl),
    pollingInterval: POLLING_INTERVAL_MS,
  });
}

async function waitForSuccess(rpcUrl: string, hash: Hex, what: string) {
  const client = publicClientFor(rpcUrl);
  // anvil automines, so the receipt usually exists already; poll only if it doesn't.
  const receipt =
    (await client.getTransactionReceipt({ hash }).catch(() => undefined)) ??
    (await client.waitForTransactionReceipt({ hash, pollingInterval: POLLING_INTERVAL_MS }));
  if (receipt.status !== "success") throw new Error(`${what} reverted (tx ${hash})`);
  return receipt;
}

/** The anvil-only methods we call, typed for viem's `request`. */
type AnvilRpcSchema = [
  { Method: "anvil_setBalance"; Parameters: [address: Address, wei: Hex]; ReturnType: null },
  { Method: "anvil_setCode"; Parameters: [address: Address, code: Hex]; ReturnType: null },
  { Method: "evm_mine"; Parameters: [timestamp: number]; ReturnType: string },
  { Method: "anvil_getAutomine"; Parameters?: undefined; ReturnType: boolean },
];

function anvilClientFor(rpcUrl: string) {
  return createPublicClient({ transport: http(rpcUrl), rpcSchema: rpcSchema<AnvilRpcSchema>() });
}

/** Sets an account's ETH balance (anvil_setBalance): gas for dedicated accounts without touching others. */
export async function setEthBalance(rpcUrl: string, address: Address, wei: bigint): Promise<void> {
  await anvilClientFor(rpcUrl).request({ method: "anvil_setBalance", params: [address, toHex(wei)] });
}

/** Timestamp (Unix seconds) of the chain's latest block. */
export async function latestBlockTimestamp(rpcUrl: string): Promise<number> {
  const block = await publicClientFor(rpcUrl).getBlock({ blockTag: "latest" });
  return Number(block.timestamp);
}

/** False when anvil mines on an interval or on demand only (automine off), e.g. while a test holds a transaction pending. */
export async function isAutomining(rpcUrl: string): Promise<boolean> {
  return anvilClientFor(rpcUrl).request({ method: "anvil_getAutomine" });
}

/**
 * Mines one empty block stamped `timestamp` (Unix seconds; not below the latest block's). anvil keeps
 * counting from it, so a node clock that was set back follows the wall clock again afterwards.
 */
export async function mineBlockAt(rpcUrl: string, timestamp: number): Promise<void> {
  await anvilClientFor(rpcUrl).request({ method: "evm_mine", params: [timestamp] });
}

/** Tops the account up to 1 ETH if it has less (enough gas for any devnet setup). */
export async function ensureGas(rpcUrl: string, address: Address): Promise<void> {
  const oneEth = 10n ** 18n;
  if ((await publicClientFor(rpcUrl).getBalance({ address })) < oneEth) await setEthBalance(rpcUrl, address, oneEth);
}

export interface TokenDomain {
  name: string;
  version: string;
}

/** Deploys TestUSDC with a real CREATE transaction; the deployer is the minter unless given. */
export async function deployToken(
  rpcUrl: string,
  deployerKey: Hex,
  opts: TokenDomain & { minter?: Address },
): Promise<Address> {
  const wallet = await walletFor(rpcUrl, deployerKey);
  const minter = opts.minter ?? wallet.account.address;
  const hash = await wallet.deployContract({
    abi: testUsdcArtifactAbi,
    bytecode: testUsdcBytecode,
    args: [opts.name, opts.version, minter],
  });
  const receipt = await waitForSuccess(rpcUrl, hash, "TestUSDC deployment");
  if (!receipt.contractAddress) throw new Error(`TestUSDC deployment produced no contract address (tx ${hash})`);
  return getAddress(receipt.contractAddress);
}

/** Address a deployer's CREATE at `nonce` lands on (nonce 0: its first transaction). */
export function tokenAddressFor(deployer: Address, nonce = 0n): Address {
  return getContractAddress({ from: deployer, nonce });
}

/** Reads name()/version(), or undefined if `address` has no code. */
export async function readTokenDomain(rpcUrl: string, address: Address): Promise<TokenDomain | undefined> {
  const client = publicClientFor(rpcUrl);
  const code = await client.getCode({ address });
  if (!code || code === "0x") return undefined;
  const [name, version] = await Promise.all([
    client.readContract({ address, abi: testUsdcAbi, functionName: "name" }),
    client.readContract({ address, abi: testUsdcAbi, functionName: "version" }),
  ]);
  return { name, version };
}

/**
 * Puts TestUSDC at a fixed address (e.g. the real USDC address of the chain being imitated) with
 * anvil_setCode, then runs `initialize` (no constructor runs for placed code). `senderKey` pays
 * the gas for initialize (default: the dev token admin, topped up with ETH). Idempotent when the
 * token there is already initialized with the same name/version; throws if they differ.
 */
export async function placeTokenAt(
  rpcUrl: string,
  address: Address,
  opts: TokenDomain & { minter: Address; senderKey?: Hex },
): Promise<void> {
  const client = publicClientFor(rpcUrl);
  const code = await client.getCode({ address });
  if (code?.toLowerCase() !== testUsdcDeployedBytecode.toLowerCase()) {
    await anvilClientFor(rpcUrl).request({ method: "anvil_setCode", params: [address, testUsdcDeployedBytecode] });
  }
  const existing = await client.readContract({ address, abi: testUsdcAbi, functionName: "name" });
  if (existing !== "") {
    const domain = await readTokenDomain(rpcUrl, address);
    if (domain?.name !== opts.name || domain.version !== opts.version) {
      throw new Error(
        `token at ${address} is already initialized as ${JSON.stringify(domain)}, not ${JSON.stringify({ name: opts.name, version: opts.version })}`,
      );
    }
    return;
  }
  const senderKey = opts.senderKey ?? devAccount(DEV_ROLES.tokenAdminIndex).privateKey;
  const wallet = await walletFor(rpcUrl, senderKey);
  await ensureGas(rpcUrl, wallet.account.address);
  const hash = await wallet.writeContract({
    address,
    abi: testUsdcAbi,
    functionName: "initialize",
    args: [opts.name, opts.version, opts.minter],
  });
  await waitForSuccess(rpcUrl, hash, `initialize at ${address}`);
}

/** Places our Multicall3 stand-in at the canonical address unless some code is already there. */
export async function placeMulticall3(rpcUrl: string): Promise<void> {
  const code = await publicClientFor(rpcUrl).getCode({ address: MULTICALL3_ADDRESS });
  if (code && code !== "0x") return; // a fork or an earlier run already has it
  await anvilClientFor(rpcUrl).request({ method: "anvil_setCode", params: [MULTICALL3_ADDRESS, multicallDeployedBytecode] });
}

/** Mints `amountAtomic` (6 decimals: 1 USDC = 1_000_000n) to `to`; waits for the receipt. */
export async function mintUsdc(
  rpcUrl: string,
  minterKey: Hex,
  token: Address,
  to: Address,
  amountAtomic: bigint,
): Promise<Hex> {
  const wallet = await walletFor(rpcUrl, minterKey);
  const hash = await wallet.writeContract({
    address: token,
    abi: testUsdcAbi,
    functionName: "mint",
    args: [to, amountAtomic],
  });
  await waitForSuccess(rpcUrl, hash, `mint to ${to}`);
  return hash;
}

export async function usdcBalanceOf(rpcUrl: string, token: Address, address: Address): Promise<bigint> {
  return publicClientFor(rpcUrl).readContract({
    address: token,
    abi: testUsdcAbi,
    functionName: "balanceOf",
    args: [address],
  });
}

/** EIP-3009: true once the (authorizer, nonce) authorization was used or canceled. */
export async function authorizationState(
  rpcUrl: string,
  token: Address,
  authorizer: Address,
  nonce: Hex,
): Promise<boolean> {
  return publicClientFor(rpcUrl).readContract({
    address: token,
    abi: testUsdcAbi,
    functionName: "authorizationState",
    args: [authorizer, nonce],
  });
}

/** True if `to` has ever received a mint (a Transfer from the zero address) of `token`. */
export async function hasBeenMintedTo(rpcUrl: string, token: Address, to: Address): Promise<boolean> {
  const logs = await publicClientFor(rpcUrl).getLogs({
    address: token,
    event: testUsdcAbi.find((x) => x.type === "event" && x.name === "Transfer") as Extract<
      (typeof testUsdcAbi)[number],
      { type: "event"; name: "Transfer" }
    >,
    args: { from: "0x0000000000000000000000000000000000000000", to },
    fromBlock: 0n,
    toBlock: "latest",
  });
  return logs.length > 0;
}
