// Builds PAYMENT-SIGNATURE headers by hand with the official client, for tests that replay,
// race or tamper with them.
import { decodePaymentSignatureHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import { createWalletClient, http, publicActions, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccount, localChain, testUsdcAbi } from "../../src/devnet/chain";
import type { PaymentPayload, PaymentRequired } from "@x402/core/types";
import { agentClient } from "../../scripts/lib/agent";
import type { LocalService } from "./harness";

export async function challengeFor(service: LocalService, body: unknown): Promise<PaymentRequired> {
  const response = await fetch(`${service.url}/api/v1/polls`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status !== 402) throw new Error(`expected 402, got ${response.status}: ${await response.text()}`);
  return (await response.json()) as PaymentRequired;
}

export async function signPayment(
  service: LocalService,
  paymentRequired: PaymentRequired,
  payerIndex = 0,
  tamper?: (payload: PaymentPayload) => PaymentPayload,
): Promise<string> {
  const devnet = service.devnet!;
  const client = agentClient({
    privateKey: devnet.payers[payerIndex]!.privateKey,
    network: devnet.network,
    asset: devnet.asset,
  });
  const payload = await client.createPaymentPayload(paymentRequired);
  return encodePaymentSignatureHeader(tamper ? tamper(payload) : payload);
}

export function postPoll(service: LocalService, body: unknown, paymentSignature?: string): Promise<Response> {
  return fetch(`${service.url}/api/v1/polls`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(paymentSignature ? { "PAYMENT-SIGNATURE": paymentSignature } : {}),
    },
    body: JSON.stringify(body),
  });
}

/**
 * Submits the payer's signed EIP-3009 authorization to the token from an unrelated account (dev account 9):
 * someone front-running the facilitator, or a facilitator broadcasting late. Returns the transaction hash once
 * it is mined: anvil answers the send before its automine block lands, so a balance read right after could miss it.
 */
export async function submitAuthorization(
  chain: { rpcUrl: string; chainId: number; asset: `0x${string}` },
  paymentSignature: string,
): Promise<`0x${string}`> {
  const { authorization, signature } = decodePaymentSignatureHeader(paymentSignature).payload as {
    authorization: { from: Hex; to: Hex; value: string; validAfter: string; validBefore: string; nonce: Hex };
    signature: Hex;
  };
  const wallet = createWalletClient({
    account: privateKeyToAccount(devAccount(9).privateKey),
    chain: localChain(chain.chainId, chain.rpcUrl),
    transport: http(chain.rpcUrl),
  }).extend(publicActions);
  const hash = await wallet.writeContract({
    address: chain.asset,
    abi: testUsdcAbi,
    functionName: "transferWithAuthorization",
    args: [authorization.from, authorization.to, BigInt(authorization.value), BigInt(authorization.validAfter), BigInt(authorization.validBefore), authorization.nonce, signature],
  });
  const receipt = await wallet.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  if (receipt.status !== "success") throw new Error(`transferWithAuthorization ${hash} reverted`);
  return hash;
}
