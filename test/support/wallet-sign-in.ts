// Signed SIGN-IN-WITH-X headers for the wallet sign-in tests, made the way an agent makes them: the
// extension's own client code (createSIWxPayload, encodeSIWxHeader) over a viem account, from the
// challenge the service declares or from fields the test chooses.
import { randomBytes } from "node:crypto";
import { createSIWxPayload, encodeSIWxHeader, type SIWxExtensionInfo, type SIWxPayload } from "@x402/extensions/sign-in-with-x";
import type { LocalAccount } from "viem";

export interface SignInFields extends Partial<SIWxExtensionInfo> {
  chainId?: string;
}

/**
 * A signed payload for `baseUrl` + `path` (domain and uri of that origin), issued `now`, fresh nonce;
 * `fields` override any of it (another domain, an old issuedAt…).
 */
export async function signedSignIn(account: LocalAccount, baseUrl: string, path: string, now: Date, fields: SignInFields = {}): Promise<SIWxPayload> {
  const base = new URL(baseUrl);
  const info = {
    domain: base.host,
    uri: `${baseUrl}${path}`,
    version: "1",
    nonce: randomBytes(16).toString("hex"),
    issuedAt: now.toISOString(),
    statement: "Sign in with the wallet that paid for the poll to read it.",
    chainId: "eip155:31337",
    type: "eip191" as const,
    ...fields,
  };
  // The extension checks (client side) that a challenge names the origin it is sent to: name the message's own.
  return createSIWxPayload(info, account, new URL(info.uri));
}

export async function signInHeader(account: LocalAccount, baseUrl: string, path: string, now: Date, fields: SignInFields = {}): Promise<string> {
  return encodeSIWxHeader(await signedSignIn(account, baseUrl, path, now, fields));
}

/** The payload with its signature's last byte changed (still 65 bytes of hex). */
export function tamperedSignature(payload: SIWxPayload): SIWxPayload {
  const last = payload.signature.slice(-2);
  return { ...payload, signature: `${payload.signature.slice(0, -2)}${last === "1b" ? "1c" : "1b"}` };
}

export { encodeSIWxHeader };
