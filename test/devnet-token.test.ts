// TestUSDC against a real anvil: ERC-20 basics, EIP-3009 happy path and every rejection the
// facilitator relies on, the EIP-712 domain, and placement at a real USDC address.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createWalletClient,
  hashDomain,
  http,
  parseSignature,
  serializeSignature,
  toHex,
  type Hex,
  type PrivateKeyAccount,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { startAnvil, type AnvilProcess } from "../src/devnet/anvil.js";
import {
  authorizationState,
  deployToken,
  devAccount,
  localChain,
  mintUsdc,
  placeTokenAt,
  publicClientFor,
  testUsdcAbi,
  usdcBalanceOf,
  type Address,
} from "../src/devnet/chain.js";

const USDC = 1_000_000n; // 6 decimals
const BASE_USDC: Address = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const authorizationTypes = {
  TransferWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

interface Authorization {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
}

const now = () => BigInt(Math.floor(Date.now() / 1000));
const randomNonce = (): Hex => toHex(crypto.getRandomValues(new Uint8Array(32)));

function signAuthorization(
  signer: PrivateKeyAccount,
  domain: { name: string; version: string; chainId: number; verifyingContract: Address },
  message: Authorization,
): Promise<Hex> {
  return signer.signTypedData({ domain, types: authorizationTypes, primaryType: "TransferWithAuthorization", message });
}

function authorization(from: Address, to: Address, value: bigint, overrides: Partial<Authorization> = {}): Authorization {
  return { from, to, value, validAfter: 0n, validBefore: now() + 3600n, nonce: randomNonce(), ...overrides };
}

/** The EIP-712 domain separator as viem computes it (what every wallet signs against). */
function viemDomainSeparator(domain: { name: string; version: string; chainId: number; verifyingContract: Address }): Hex {
  return hashDomain({
    domain: { ...domain, chainId: BigInt(domain.chainId) },
    types: {
      EIP712Domain: [
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "chainId", type: "uint256" },
        { name: "verifyingContract", type: "address" },
      ],
    },
  });
}

/** Submits transferWithAuthorization (v,r,s overload) from a relayer that is neither party. */
async function submitVrs(rpcUrl: string, chainId: number, token: Address, auth: Authorization, signature: Hex) {
  const { v, r, s } = parseSignature(signature);
  const wallet = createWalletClient({
    account: privateKeyToAccount(devAccount(5).privateKey),
    chain: localChain(chainId, rpcUrl),
    transport: http(rpcUrl),
  });
  const hash = await wallet.writeContract({
    address: token,
    abi: testUsdcAbi,
    functionName: "transferWithAuthorization",
    args: [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, Number(v), r, s],
  });
  return publicClientFor(rpcUrl).waitForTransactionReceipt({ hash, pollingInterval: 50 });
}

async function submitBytes(rpcUrl: string, chainId: number, token: Address, auth: Authorization, signature: Hex) {
  const wallet = createWalletClient({
    account: privateKeyToAccount(devAccount(5).privateKey),
    chain: localChain(chainId, rpcUrl),
    transport: http(rpcUrl),
  });
  const hash = await wallet.writeContract({
    address: token,
    abi: testUsdcAbi,
    functionName: "transferWithAuthorization",
    args: [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, signature],
  });
  return publicClientFor(rpcUrl).waitForTransactionReceipt({ hash, pollingInterval: 50 });
}

describe("TestUSDC on a local chain (31337)", () => {
  const chainId = 31337;
  let anvil: AnvilProcess;
  let rpcUrl: string;
  let token: Address;
  const minter = devAccount(0);
  const payer = privateKeyToAccount(devAccount(2).privateKey);
  const payee = devAccount(3).address;
  const stranger = privateKeyToAccount(devAccount(4).privateKey);
  let domain: { name: string; version: string; chainId: number; verifyingContract: Address };

  beforeAll(async () => {
    anvil = await startAnvil({ chainId });
    rpcUrl = anvil.rpcUrl;
    token = await deployToken(rpcUrl, minter.privateKey, { name: "USDC", version: "2" });
    domain = { name: "USDC", version: "2", chainId, verifyingContract: token };
    await mintUsdc(rpcUrl, minter.privateKey, token, payer.address, 1_000n * USDC);
  });
  afterAll(async () => {
    await anvil?.stop();
  });

  it("has 6 decimals, the deployed name/version, and counts minted supply", async () => {
    const client = publicClientFor(rpcUrl);
    const read = <F extends "name" | "version" | "decimals" | "symbol" | "totalSupply">(functionName: F) =>
      client.readContract({ address: token, abi: testUsdcAbi, functionName });
    expect(await read("name")).toBe("USDC");
    expect(await read("version")).toBe("2");
    expect(await read("decimals")).toBe(6);
    expect(await read("symbol")).toBe("USDC");
    expect(await read("totalSupply")).toBeGreaterThanOrEqual(1_000n * USDC);
    expect(await usdcBalanceOf(rpcUrl, token, payer.address)).toBeGreaterThanOrEqual(1_000n * USDC);
  });

  it("lets only the minter mint", async () => {
    await expect(mintUsdc(rpcUrl, devAccount(4).privateKey, token, payee, 1n)).rejects.toThrow(/caller is not the minter/);
  });

  it("computes DOMAIN_SEPARATOR exactly like viem's hashDomain and reports it via eip712Domain()", async () => {
    const client = publicClientFor(rpcUrl);
    const separator = await client.readContract({ address: token, abi: testUsdcAbi, functionName: "DOMAIN_SEPARATOR" });
    expect(separator).toBe(viemDomainSeparator(domain));
    const eip712 = await client.getEip712Domain({ address: token });
    expect(eip712.domain).toMatchObject({ name: "USDC", version: "2", chainId, verifyingContract: token });
  });

  it("moves funds for a valid transferWithAuthorization and marks the nonce used", async () => {
    const auth = authorization(payer.address, payee, 12_345_678n);
    const signature = await signAuthorization(payer, domain, auth);
    const [payerBefore, payeeBefore] = await Promise.all([
      usdcBalanceOf(rpcUrl, token, payer.address),
      usdcBalanceOf(rpcUrl, token, payee),
    ]);
    expect(await authorizationState(rpcUrl, token, payer.address, auth.nonce)).toBe(false);

    const receipt = await submitVrs(rpcUrl, chainId, token, auth, signature);

    expect(receipt.status).toBe("success");
    expect(await usdcBalanceOf(rpcUrl, token, payer.address)).toBe(payerBefore - 12_345_678n);
    expect(await usdcBalanceOf(rpcUrl, token, payee)).toBe(payeeBefore + 12_345_678n);
    expect(await authorizationState(rpcUrl, token, payer.address, auth.nonce)).toBe(true);
  });

  it("accepts the same kind of signature through the bytes-signature overload", async () => {
    const auth = authorization(payer.address, payee, 1n * USDC);
    const payeeBefore = await usdcBalanceOf(rpcUrl, token, payee);
    const receipt = await submitBytes(rpcUrl, chainId, token, auth, await signAuthorization(payer, domain, auth));
    expect(receipt.status).toBe("success");
    expect(await usdcBalanceOf(rpcUrl, token, payee)).toBe(payeeBefore + 1n * USDC);
  });

  it("reverts when the signature is not from `from`", async () => {
    const auth = authorization(payer.address, payee, 1n * USDC);
    const forged = await signAuthorization(stranger, domain, auth);
    await expect(submitVrs(rpcUrl, chainId, token, auth, forged)).rejects.toThrow(/invalid signature/);
    await expect(submitBytes(rpcUrl, chainId, token, auth, forged)).rejects.toThrow(/invalid signature/);
    expect(await authorizationState(rpcUrl, token, payer.address, auth.nonce)).toBe(false);
  });

  it("reverts when a nonce is reused", async () => {
    const auth = authorization(payer.address, payee, 1n * USDC);
    const signature = await signAuthorization(payer, domain, auth);
    await submitVrs(rpcUrl, chainId, token, auth, signature);
    const payerAfterFirst = await usdcBalanceOf(rpcUrl, token, payer.address);
    await expect(submitVrs(rpcUrl, chainId, token, auth, signature)).rejects.toThrow(/authorization is used/);
    expect(await usdcBalanceOf(rpcUrl, token, payer.address)).toBe(payerAfterFirst);
  });

  it("reverts when validBefore has passed", async () => {
    const auth = authorization(payer.address, payee, 1n * USDC, { validBefore: now() - 10n });
    await expect(submitVrs(rpcUrl, chainId, token, auth, await signAuthorization(payer, domain, auth))).rejects.toThrow(
      /authorization is expired/,
    );
  });

  it("reverts when validAfter is still in the future", async () => {
    const auth = authorization(payer.address, payee, 1n * USDC, { validAfter: now() + 3600n });
    await expect(submitVrs(rpcUrl, chainId, token, auth, await signAuthorization(payer, domain, auth))).rejects.toThrow(
      /authorization is not yet valid/,
    );
  });

  it("rejects the malleable (upper-half s) twin of a valid signature", async () => {
    const auth = authorization(payer.address, payee, 1n * USDC);
    const { r, s, yParity } = parseSignature(await signAuthorization(payer, domain, auth));
    const twin = serializeSignature({ r, s: toHex(SECP256K1_N - BigInt(s), { size: 32 }), yParity: yParity === 0 ? 1 : 0 });
    await expect(submitVrs(rpcUrl, chainId, token, auth, twin)).rejects.toThrow(/invalid signature: s is in the upper half/);
  });

  it("reverts for an amount above the balance with the message the facilitator maps", async () => {
    const poor = privateKeyToAccount(devAccount(6).privateKey);
    const auth = authorization(poor.address, payee, 1n);
    await expect(submitVrs(rpcUrl, chainId, token, auth, await signAuthorization(poor, domain, auth))).rejects.toThrow(
      /transfer amount exceeds balance/,
    );
  });

  it("lets only the payee submit receiveWithAuthorization", async () => {
    const payeeAccount = privateKeyToAccount(devAccount(3).privateKey);
    const auth = authorization(payer.address, payeeAccount.address, 1n * USDC);
    const signature = await payer.signTypedData({
      domain,
      types: { ReceiveWithAuthorization: authorizationTypes.TransferWithAuthorization },
      primaryType: "ReceiveWithAuthorization",
      message: auth,
    });
    const { v, r, s } = parseSignature(signature);
    const args = [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, Number(v), r, s] as const;
    const walletOf = (account: PrivateKeyAccount) =>
      createWalletClient({ account, chain: localChain(chainId, rpcUrl), transport: http(rpcUrl) });

    await expect(
      walletOf(stranger).writeContract({ address: token, abi: testUsdcAbi, functionName: "receiveWithAuthorization", args }),
    ).rejects.toThrow(/caller must be the payee/);
    const before = await usdcBalanceOf(rpcUrl, token, payeeAccount.address);
    const hash = await walletOf(payeeAccount).writeContract({
      address: token,
      abi: testUsdcAbi,
      functionName: "receiveWithAuthorization",
      args,
    });
    await publicClientFor(rpcUrl).waitForTransactionReceipt({ hash, pollingInterval: 50 });
    expect(await usdcBalanceOf(rpcUrl, token, payeeAccount.address)).toBe(before + 1n * USDC);
  });

  it("makes a canceled authorization unusable", async () => {
    const auth = authorization(payer.address, payee, 1n * USDC);
    const cancelSig = await payer.signTypedData({
      domain,
      types: { CancelAuthorization: [{ name: "authorizer", type: "address" }, { name: "nonce", type: "bytes32" }] },
      primaryType: "CancelAuthorization",
      message: { authorizer: payer.address, nonce: auth.nonce },
    });
    const { v, r, s } = parseSignature(cancelSig);
    const wallet = createWalletClient({ account: stranger, chain: localChain(chainId, rpcUrl), transport: http(rpcUrl) });
    const hash = await wallet.writeContract({
      address: token,
      abi: testUsdcAbi,
      functionName: "cancelAuthorization",
      args: [payer.address, auth.nonce, Number(v), r, s],
    });
    await publicClientFor(rpcUrl).waitForTransactionReceipt({ hash, pollingInterval: 50 });
    expect(await authorizationState(rpcUrl, token, payer.address, auth.nonce)).toBe(true);
    await expect(submitVrs(rpcUrl, chainId, token, auth, await signAuthorization(payer, domain, auth))).rejects.toThrow(
      /authorization is used or canceled/,
    );
  });

  it("rejects a signature made for another chain id", async () => {
    const auth = authorization(payer.address, payee, 1n * USDC);
    const wrongChain = await signAuthorization(payer, { ...domain, chainId: 8453 }, auth);
    await expect(submitVrs(rpcUrl, chainId, token, auth, wrongChain)).rejects.toThrow(/invalid signature/);
  });
});

describe("TestUSDC placed at Base's USDC address (chain 8453)", () => {
  const chainId = 8453;
  let anvil: AnvilProcess;
  let rpcUrl: string;
  const minter = devAccount(0);
  const payer = privateKeyToAccount(devAccount(2).privateKey);
  const payee = devAccount(3).address;

  beforeAll(async () => {
    anvil = await startAnvil({ chainId });
    rpcUrl = anvil.rpcUrl;
    await placeTokenAt(rpcUrl, BASE_USDC, { name: "USD Coin", version: "2", minter: minter.address });
  });
  afterAll(async () => {
    await anvil?.stop();
  });

  it("is initialized from storage: name, version and minter work without a constructor", async () => {
    const client = publicClientFor(rpcUrl);
    expect(await client.readContract({ address: BASE_USDC, abi: testUsdcAbi, functionName: "name" })).toBe("USD Coin");
    expect(await client.readContract({ address: BASE_USDC, abi: testUsdcAbi, functionName: "version" })).toBe("2");
    await mintUsdc(rpcUrl, minter.privateKey, BASE_USDC, payer.address, 50n * USDC);
    expect(await usdcBalanceOf(rpcUrl, BASE_USDC, payer.address)).toBe(50n * USDC);
  });

  it("accepts a transferWithAuthorization signed for {USD Coin, 2, 8453, real address}", async () => {
    await mintUsdc(rpcUrl, minter.privateKey, BASE_USDC, payer.address, 10n * USDC);
    const domain = { name: "USD Coin", version: "2", chainId, verifyingContract: BASE_USDC };
    const separator = await publicClientFor(rpcUrl).readContract({
      address: BASE_USDC,
      abi: testUsdcAbi,
      functionName: "DOMAIN_SEPARATOR",
    });
    expect(separator).toBe(viemDomainSeparator(domain));
    const auth = authorization(payer.address, payee, 2n * USDC);
    const before = await usdcBalanceOf(rpcUrl, BASE_USDC, payee);
    const receipt = await submitVrs(rpcUrl, chainId, BASE_USDC, auth, await signAuthorization(payer, domain, auth));
    expect(receipt.status).toBe("success");
    expect(await usdcBalanceOf(rpcUrl, BASE_USDC, payee)).toBe(before + 2n * USDC);
  });

  it("cannot be initialized twice", async () => {
    const wallet = createWalletClient({
      account: privateKeyToAccount(devAccount(4).privateKey),
      chain: localChain(chainId, rpcUrl),
      transport: http(rpcUrl),
    });
    await expect(
      wallet.writeContract({
        address: BASE_USDC,
        abi: testUsdcAbi,
        functionName: "initialize",
        args: ["Evil", "1", devAccount(4).address],
      }),
    ).rejects.toThrow(/already initialized/);
    // placing again with the same domain is a no-op; with a different one it is refused
    await expect(placeTokenAt(rpcUrl, BASE_USDC, { name: "USD Coin", version: "2", minter: minter.address })).resolves.toBeUndefined();
    await expect(placeTokenAt(rpcUrl, BASE_USDC, { name: "USDC", version: "2", minter: minter.address })).rejects.toThrow(
      /already initialized/,
    );
  });
});
