// The devnet USDC blacklists like Circle's FiatToken: isBlacklisted(address), blacklist/unBlacklist by the
// admin (the minter) only, and a blacklisted sender, recipient or spender makes transfers, approvals and
// mints revert with FiatToken's reason — so payout code meets real USDC's failure on the local chain.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalletClient, http, parseAbi, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { startAnvil, type AnvilProcess } from "../src/devnet/anvil.js";
import { deployToken, devAccount, localChain, mintUsdc, publicClientFor, usdcBalanceOf, type Address } from "../src/devnet/chain.js";

const abi = parseAbi([
  "function isBlacklisted(address account) view returns (bool)",
  "function blacklist(address account)",
  "function unBlacklist(address account)",
  "function transfer(address to, uint256 value) returns (bool)",
  "function approve(address spender, uint256 value) returns (bool)",
  "function mint(address to, uint256 amount)",
  "event Blacklisted(address indexed _account)",
  "event UnBlacklisted(address indexed _account)",
]);
const REASON = /Blacklistable: account is blacklisted/;

let anvil: AnvilProcess;
let token: Address;
const admin = devAccount(0);
const alice = devAccount(1);
const bob = devAccount(2);

const client = () => publicClientFor(anvil.rpcUrl);
const as = (privateKey: Hex) =>
  createWalletClient({ account: privateKeyToAccount(privateKey), chain: localChain(31337, anvil.rpcUrl), transport: http(anvil.rpcUrl) });
const simulate = (privateKey: Hex, functionName: "transfer" | "approve" | "mint" | "blacklist" | "unBlacklist", args: readonly unknown[]) =>
  client().simulateContract({ account: privateKeyToAccount(privateKey), address: token, abi, functionName, args: args as never });
async function send(privateKey: Hex, functionName: "blacklist" | "unBlacklist" | "transfer", args: readonly unknown[]) {
  const hash = await as(privateKey).writeContract({ address: token, abi, functionName, args: args as never });
  return client().waitForTransactionReceipt({ hash, pollingInterval: 50 });
}
const isBlacklisted = (address: Address) => client().readContract({ address: token, abi, functionName: "isBlacklisted", args: [address] });

beforeAll(async () => {
  anvil = await startAnvil({ chainId: 31337 });
  token = await deployToken(anvil.rpcUrl, admin.privateKey, { name: "USD Coin", version: "2" });
  await mintUsdc(anvil.rpcUrl, admin.privateKey, token, alice.address, 1_000_000n);
});
afterAll(async () => {
  await anvil?.stop();
});

describe("TestUSDC blacklist", () => {
  it("only the admin (minter) may blacklist or un-blacklist", async () => {
    await expect(simulate(alice.privateKey, "blacklist", [bob.address])).rejects.toThrow(/caller is not the minter/);
    await expect(simulate(alice.privateKey, "unBlacklist", [bob.address])).rejects.toThrow(/caller is not the minter/);
    expect(await isBlacklisted(bob.address)).toBe(false);
  });

  it("a blacklisted recipient, sender or spender makes transfers, approvals and mints revert", async () => {
    const receipt = await send(admin.privateKey, "blacklist", [bob.address]);
    expect(receipt.logs).toHaveLength(1); // Blacklisted(bob)
    expect(await isBlacklisted(bob.address)).toBe(true);
    await expect(simulate(alice.privateKey, "transfer", [bob.address, 1n])).rejects.toThrow(REASON);
    await expect(simulate(alice.privateKey, "approve", [bob.address, 1n])).rejects.toThrow(REASON);
    await expect(simulate(admin.privateKey, "mint", [bob.address, 1n])).rejects.toThrow(REASON);
    // The estimate a payout makes reverts the same way.
    await expect(client().estimateContractGas({ account: alice.address, address: token, abi, functionName: "transfer", args: [bob.address, 1n] })).rejects.toThrow(REASON);

    await send(admin.privateKey, "blacklist", [alice.address]);
    await expect(simulate(alice.privateKey, "transfer", [admin.address, 1n])).rejects.toThrow(REASON);
    await send(admin.privateKey, "unBlacklist", [alice.address]);
  });

  it("un-blacklisting lets transfers through again", async () => {
    await send(admin.privateKey, "unBlacklist", [bob.address]);
    expect(await isBlacklisted(bob.address)).toBe(false);
    await send(alice.privateKey, "transfer", [bob.address, 700n]);
    expect(await usdcBalanceOf(anvil.rpcUrl, token, bob.address)).toBe(700n);
  });
});
