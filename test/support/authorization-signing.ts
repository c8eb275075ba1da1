// Signs EIP-3009 TransferWithAuthorization messages with any key, to build payloads an official client
// would never produce: another key signing for `from`, a validly signed but expired authorization, ...
import { decodePaymentSignatureHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload } from "@x402/core/types";
import { authorizationTypes } from "@x402/evm";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

export interface TokenDomain {
  chainId: number;
  asset: Address;
  name: string;
  version: string;
}

/** The authorization as it travels: decimal strings. */
export interface WireAuthorization {
  from: Address;
  to: Address;
  value: string;
  validAfter: string;
  validBefore: string;
  nonce: Hex;
}

export function signAuthorization(privateKey: Hex, domain: TokenDomain, authorization: WireAuthorization): Promise<Hex> {
  return privateKeyToAccount(privateKey).signTypedData({
    domain: { name: domain.name, version: domain.version, chainId: domain.chainId, verifyingContract: domain.asset },
    types: authorizationTypes,
    primaryType: "TransferWithAuthorization",
    message: {
      ...authorization,
      value: BigInt(authorization.value),
      validAfter: BigInt(authorization.validAfter),
      validBefore: BigInt(authorization.validBefore),
    },
  });
}

export function authorizationOf(payload: PaymentPayload): WireAuthorization {
  return (payload.payload as { authorization: WireAuthorization }).authorization;
}

/** The payload with its authorization and signature replaced (resource, accepted, ... kept). */
export function withAuthorization(payload: PaymentPayload, authorization: WireAuthorization, signature: Hex): PaymentPayload {
  return { ...payload, payload: { ...payload.payload, authorization, signature } };
}

/** A PAYMENT-SIGNATURE header whose authorization is changed and signed again by `privateKey`. */
export async function resignHeader(
  header: string,
  privateKey: Hex,
  domain: TokenDomain,
  changes: Partial<WireAuthorization> = {},
): Promise<string> {
  const payload = decodePaymentSignatureHeader(header);
  const authorization = { ...authorizationOf(payload), ...changes };
  return encodePaymentSignatureHeader(withAuthorization(payload, authorization, await signAuthorization(privateKey, domain, authorization)));
}
