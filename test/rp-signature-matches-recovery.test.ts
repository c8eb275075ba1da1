// The simulated World ID network's fast RP-signature check (src/devnet/world-id/rp-signature.ts) must give exactly the verdict
// of recovering the signer with viem and comparing addresses — for good signatures, for the first and
// later signatures of a signer (the cached-key path), and for every kind of tampering.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hexToBigInt, recoverMessageAddress, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { isSignedBy } from "../src/devnet/world-id/rp-signature";

async function recoveredBy(message: Uint8Array, sig: { r: bigint; s: bigint; v: number }, address: string): Promise<boolean> {
  const hex = (n: bigint) => n.toString(16).padStart(64, "0");
  try {
    const signer = await recoverMessageAddress({ message: { raw: message }, signature: `0x${hex(sig.r)}${hex(sig.s)}${sig.v.toString(16).padStart(2, "0")}` as Hex });
    return signer.toLowerCase() === address.toLowerCase();
  } catch {
    return false;
  }
}

function split(signature: Hex): { r: bigint; s: bigint; v: number } {
  return { r: hexToBigInt(`0x${signature.slice(2, 66)}`), s: hexToBigInt(`0x${signature.slice(66, 130)}`), v: Number.parseInt(signature.slice(130, 132), 16) };
}

describe("the fast RP signature check agrees with signer recovery", () => {
  it("accepts every good signature and refuses tampered ones, exactly as recovery does", async () => {
    const signers = [privateKeyToAccount(generatePrivateKey()), privateKeyToAccount(generatePrivateKey())];
    const stranger = privateKeyToAccount(generatePrivateKey());
    for (let i = 0; i < 40; i++) {
      const account = signers[i % signers.length]!;
      const message = new Uint8Array(randomBytes(81));
      const good = split(await account.signMessage({ message: { raw: message } }));
      const cases: [string, Uint8Array, { r: bigint; s: bigint; v: number }, string][] = [
        ["good", message, good, account.address],
        ["other signer's address", message, good, stranger.address],
        ["flipped recovery bit", message, { ...good, v: good.v === 27 ? 28 : 27 }, account.address],
        ["other message", new Uint8Array(randomBytes(81)), good, account.address],
        ["r + 1", message, { ...good, r: good.r + 1n }, account.address],
        ["s + 1", message, { ...good, s: good.s + 1n }, account.address],
        ["stranger's signature", message, split(await stranger.signMessage({ message: { raw: message } })), account.address],
      ];
      for (const [label, m, sig, address] of cases) {
        const expected = await recoveredBy(m, sig, address);
        expect(isSignedBy(m, sig, address), `${label} (round ${i})`).toBe(expected);
        if (label === "good") expect(expected).toBe(true);
        else expect(expected).toBe(false);
      }
    }
  });

  it("refuses out-of-range values without throwing", () => {
    const message = new Uint8Array(10);
    const address = privateKeyToAccount(generatePrivateKey()).address;
    for (const sig of [{ r: 0n, s: 1n, v: 27 }, { r: 1n, s: 0n, v: 27 }, { r: 1n, s: 1n, v: 30 }, { r: 2n ** 256n, s: 1n, v: 27 }]) {
      expect(isSignedBy(message, sig, address)).toBe(false);
    }
  });
});
