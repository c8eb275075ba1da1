// Paid polls for the voting / read-side tests (the fake clock is test/support/clock.ts).
import { payingFetch } from "../../scripts/lib/agent";
import { pollBody, type LocalService } from "./harness";

export interface CreatedPoll {
  id: string;
  readToken: string;
  payment: { network: string; payer: string };
  options: { id: string; text: string }[];
}

/** Pays for a poll with the official x402 client (devnet payer `payerIndex`) and returns the 201 body + options. */
export async function createPaidPoll(
  service: LocalService,
  overrides: Record<string, unknown> = {},
  payerIndex = 0,
): Promise<CreatedPoll> {
  const devnet = service.devnet!;
  const pay = payingFetch({ privateKey: devnet.payers[payerIndex]!.privateKey, network: devnet.network, asset: devnet.asset });
  const response = await pay(`${service.url}/api/v1/polls`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(pollBody(overrides)),
  });
  if (response.status !== 201) throw new Error(`poll creation answered ${response.status}: ${await response.text()}`);
  const created = (await response.json()) as Omit<CreatedPoll, "options">;
  const poll = (await (await fetch(`${service.url}/api/v1/polls/${created.id}`)).json()) as { options: { id: string; text: string }[] };
  return { ...created, options: poll.options };
}

/** Runs `tasks` with at most `limit` in flight, keeping their order in the results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
  return results;
}
