// Paid poll creation as agents do it, with the official x402 client and a devnet payer.
import { encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { agentClient, payingFetch } from "../../scripts/lib/agent";

export interface DevnetInfo {
  network: `${string}:${string}`;
  asset: string;
  payers: { address: string; privateKey: `0x${string}` }[];
}

export function pollBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    question: "Which benchmark matters most?",
    description: "Created by npm run bench",
    options: [{ text: "Throughput" }, { text: "Latency" }, { text: "Memory" }],
    maxResponses: 100,
    expiresAt: new Date(Date.now() + 7 * 24 * 3600_000).toISOString(),
    ...overrides,
  };
}

/** Pays for one poll through the stock @x402/fetch wrapper; returns its id, read token and option ids. */
export async function createPaidPoll(
  baseUrl: string,
  devnet: DevnetInfo,
  payerIndex: number,
  overrides: Record<string, unknown>,
): Promise<{ id: string; readToken: string; optionIds: string[] }> {
  const payer = devnet.payers[payerIndex]!;
  const pay = payingFetch({ privateKey: payer.privateKey, network: devnet.network, asset: devnet.asset });
  const response = await pay(`${baseUrl}/api/v1/polls`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(pollBody(overrides)),
  });
  if (response.status !== 201) throw new Error(`poll creation answered ${response.status}: ${await response.text()}`);
  const created = (await response.json()) as { id: string; readToken: string };
  const poll = (await (await fetch(`${baseUrl}/api/v1/polls/${created.id}`)).json()) as { options: { id: string }[] };
  return { id: created.id, readToken: created.readToken, optionIds: poll.options.map((o) => o.id) };
}

export interface PaidSample {
  status: number;
  /** Seen by the agent: from sending the paid POST to the end of the 201 body. */
  clientMs: number;
}

/**
 * `count` polls one after the other: the challenge is fetched once (identical for identical bodies),
 * each poll gets a freshly signed authorization (signing is the agent's time, outside the measure).
 */
export async function sequentialPaidPolls(baseUrl: string, devnet: DevnetInfo, payerIndex: number, count: number): Promise<PaidSample[]> {
  const payer = devnet.payers[payerIndex]!;
  const client = agentClient({ privateKey: payer.privateKey, network: devnet.network, asset: devnet.asset });
  const body = JSON.stringify(pollBody());
  const challenge = await fetch(`${baseUrl}/api/v1/polls`, { method: "POST", headers: { "content-type": "application/json" }, body });
  if (challenge.status !== 402) throw new Error(`expected a 402 challenge, got ${challenge.status}`);
  const paymentRequired = (await challenge.json()) as PaymentRequired;
  const samples: PaidSample[] = [];
  for (let i = 0; i < count; i++) {
    const signature = encodePaymentSignatureHeader(await client.createPaymentPayload(paymentRequired));
    const started = performance.now();
    const response = await fetch(`${baseUrl}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": signature },
      body,
    });
    await response.arrayBuffer();
    samples.push({ status: response.status, clientMs: performance.now() - started });
  }
  return samples;
}
