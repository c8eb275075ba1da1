// Builds PAYMENT-SIGNATURE headers by hand with the official client, for tests that replay,
// race or tamper with them.
import { encodePaymentSignatureHeader } from "@x402/core/http";
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
