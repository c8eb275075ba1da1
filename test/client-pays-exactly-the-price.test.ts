// The typed client (src/client) against the service as `npm start` runs it, in local mode (a real anvil
// chain, the test USDC, the official facilitator): createPoll moves exactly the quoted price and nothing
// more; a price above the client's cap, a refusal in beforePayment, an invalid body and moderated content
// move nothing (and the first three sign nothing); the read token reads results and every vote; the wait
// ends `completed` when simulated voters fill the poll, `target_reached` at a vote target, `timeout` as a
// normal outcome; a dropped events stream resumes with Last-Event-ID, and without one it polls /results.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getAddress, type Hex, type LocalAccount } from "viem";
import { privateKeyToAccount, toAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import {
  createQualiClient,
  QualiApiError,
  QualiClientError,
  SpendLimitError,
  type CreatePollInput,
  type FetchLike,
  type PaymentProposal,
  type QualiClient,
  type QualiClientOptions,
  type WaitProgress,
} from "../src/client";
import { publicClientFor, usdcBalanceOf, type Address } from "../src/devnet/chain";
import { futureIso } from "./support/harness";
import { mapLimit } from "./support/polls";
import { startServerProcess, type ServerProcess } from "./support/server-process";

interface DevnetFile {
  network: string;
  rpcUrl: string;
  asset: Address;
  payTo: Address;
  payers: { address: Address; privateKey: Hex }[];
}

let server: ServerProcess;
let dataDir: string;
let devnet: DevnetFile;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "quali-client-"));
  server = await startServerProcess({ DATA_DIR: dataDir });
  devnet = JSON.parse(readFileSync(join(dataDir, "devnet.json"), "utf8")) as DevnetFile;
});
afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A devnet payer's account that counts what it is asked to sign. */
function countingAccount(payerIndex: number): { account: LocalAccount; signatures: () => number } {
  const key = privateKeyToAccount(devnet.payers[payerIndex]!.privateKey);
  let signatures = 0;
  const account = toAccount({
    address: key.address,
    signMessage: (parameters) => (signatures++, key.signMessage(parameters)),
    signTransaction: (transaction) => (signatures++, key.signTransaction(transaction)),
    signTypedData: (typedData) => (signatures++, key.signTypedData(typedData)),
  });
  return { account, signatures: () => signatures };
}

const pollBody = (overrides: Partial<CreatePollInput> = {}): CreatePollInput => ({
  question: "Which name is clearer?",
  options: [{ text: "Option A" }, { text: "Option B" }],
  maxResponses: 100,
  expiresAt: futureIso(),
  ...overrides,
});

function client(options: Partial<QualiClientOptions> = {}): QualiClient {
  return createQualiClient({ baseUrl: server.url, allowedAssets: [{ network: devnet.network, asset: devnet.asset }], ...options });
}

const balances = async (payerIndex: number) => ({
  payer: await usdcBalanceOf(devnet.rpcUrl, devnet.asset, devnet.payers[payerIndex]!.address),
  payTo: await usdcBalanceOf(devnet.rpcUrl, devnet.asset, devnet.payTo),
});

/** Casts `count` votes as distinct simulated humans (options in turn); every one must be accepted. */
async function castVotes(pollId: string, optionIds: readonly string[], count: number, from = 0): Promise<void> {
  await mapLimit(Array.from({ length: count }, (_, i) => from + i), 8, async (i) => {
    const answer = await voteAsSimulatedHuman(server.url, { pollId, optionId: optionIds[i % optionIds.length]!, human: `client-test-${pollId}-${i}` });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  });
}

describe("the typed client against local mode", () => {
  let created: { id: string; readToken: string; optionIds: string[] };

  it("pays exactly the quoted price: the payer loses it, payTo gains it, and the tx it reports is on chain", async () => {
    const { account, signatures } = countingAccount(0);
    const proposals: PaymentProposal[] = [];
    const payer = client({ account, maxAmountAtomicPerPoll: 500_000n, beforePayment: (p) => void proposals.push(p) });
    const quote = await payer.quote({ maxResponses: 100 });
    const price = BigInt(quote.costAtomic);
    expect(price).toBe(500_000n);
    expect(quote.paymentRequired.accepts[0]).toMatchObject({ network: devnet.network, amount: "500000" });

    const before = await balances(0);
    const { poll, payment } = await payer.createPoll(pollBody());
    const after = await balances(0);

    expect(before.payer - after.payer).toBe(price);
    expect(after.payTo - before.payTo).toBe(price);
    expect(payment.amountAtomic).toBe(price);
    expect(payment.network).toBe(devnet.network);
    expect(getAddress(payment.payer)).toBe(account.address);
    expect(payment.txHash).toBe(poll.payment.txHash);
    const receipt = await publicClientFor(devnet.rpcUrl).getTransactionReceipt({ hash: payment.txHash as Hex });
    expect(receipt.status).toBe("success");
    expect(poll.readToken).toMatch(/^[0-9a-f-]{36}$/);
    // One EIP-3009 authorization, shown to beforePayment first.
    expect(signatures()).toBe(1);
    expect(proposals).toEqual([{ amountAtomic: price, network: devnet.network, payTo: devnet.payTo, asset: devnet.asset }]);

    const publicPoll = await payer.getPoll(poll.id);
    expect(publicPoll.status).toBe("active");
    created = { id: poll.id, readToken: poll.readToken, optionIds: publicPoll.options.map((o) => o.id) };
  });

  it("refuses a price above maxAmountAtomicPerPoll with SpendLimitError: nothing signed, no money moved", async () => {
    const { account, signatures } = countingAccount(1);
    let asked = 0;
    const payer = client({ account, maxAmountAtomicPerPoll: 499_999n, beforePayment: () => void asked++ });
    const before = await balances(1);
    const error = await payer.createPoll(pollBody()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpendLimitError);
    expect(error).toMatchObject({ code: "spend_limit_exceeded", limit: "maxAmountAtomicPerPoll", limitAtomic: 499_999n, amountAtomic: 500_000n });
    expect(signatures()).toBe(0);
    expect(asked).toBe(0);
    expect(await balances(1)).toEqual(before);
    expect((await payer.listPolls({ payer: account.address })).polls).toEqual([]);
  });

  it("stops when beforePayment throws: its error comes back as is, nothing signed, no money moved", async () => {
    const { account, signatures } = countingAccount(1);
    const refusal = new Error("daily budget spent");
    const payer = client({ account });
    const before = await balances(1);
    await expect(payer.createPoll(pollBody(), { beforePayment: () => Promise.reject(refusal) })).rejects.toBe(refusal);
    expect(signatures()).toBe(0);
    expect(await balances(1)).toEqual(before);
  });

  it("refuses an asset it was not told about (the devnet's test USDC) before signing", async () => {
    const { account, signatures } = countingAccount(1);
    const error = await createQualiClient({ baseUrl: server.url, account }).createPoll(pollBody()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QualiClientError);
    expect(error).toMatchObject({ code: "asset_not_allowed" });
    expect(signatures()).toBe(0);
    const offered = await createQualiClient({ baseUrl: server.url, account }).createPoll(pollBody(), { network: "eip155:8453" }).catch((e: unknown) => e);
    expect(offered).toMatchObject({ code: "network_not_offered" });
    expect(signatures()).toBe(0);
  });

  it("surfaces the service's refusals as QualiApiError with its code, and moves no money", async () => {
    const { account, signatures } = countingAccount(1);
    const payer = client({ account });
    const before = await balances(1);

    const invalid = await payer.createPoll(pollBody({ options: [{ text: "Only one" }] })).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(QualiApiError);
    expect(invalid).toMatchObject({ status: 400, code: "validation_error" });
    expect(signatures()).toBe(0);

    // Moderation runs after the payment is verified and before it is settled: signed, never charged.
    const rejected = await payer.createPoll(pollBody({ question: "What the fuck is this logo?" })).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(QualiApiError);
    expect(rejected).toMatchObject({ status: 400, code: "content_rejected", param: "question" });
    expect(await balances(1)).toEqual(before);

    const missing = await payer.getResults(created.id, { readToken: "00000000-0000-0000-0000-000000000000" }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 403, code: "read_token_invalid" });
  });

  it("gets the read token back by signing with the paying wallet", async () => {
    const { account } = countingAccount(0);
    expect(await client({ account }).recoverReadToken(created.id)).toEqual({ pollId: created.id, readToken: created.readToken });
  });

  it("reads with a wallet sign-in by the paying wallet instead of the read token; another wallet is refused", async () => {
    const { account } = countingAccount(0);
    const payer = client({ account });
    expect(await payer.getResults(created.id, { wallet: true })).toMatchObject({ pollId: created.id, voteCount: 0 });
    expect((await payer.listPolls()).polls.map((p) => p.id)).toContain(created.id);
    const other = await client({ account: countingAccount(1).account })
      .getResults(created.id, { wallet: true })
      .catch((e: unknown) => e);
    expect(other).toBeInstanceOf(QualiApiError);
    expect(other).toMatchObject({ status: 403 });
  });

  it("returns `timeout` as a normal outcome while the poll waits for votes", async () => {
    const result = await client().waitForCompletion(created.id, { readToken: created.readToken }, { timeoutMs: 1_000 });
    expect(result).toEqual({ outcome: "timeout", status: "active", voteCount: 0, maxResponses: 100 });
  });

  it("waits through a dropped stream (Last-Event-ID) to `completed` as voters fill the poll; the token reads every vote", async () => {
    const auth = { readToken: created.readToken };
    // The events stream is cut after each event, so every event after the first arrives on a reconnection.
    const eventRequests: Headers[] = [];
    const cutting: FetchLike = async (input, init) => {
      const request = new Request(input, init);
      const response = await fetch(request);
      if (!request.url.endsWith("/events") || !response.body) return response;
      eventRequests.push(request.headers);
      return new Response(firstEventOnly(response.body), { status: response.status, headers: response.headers });
    };
    const progress: WaitProgress[] = [];
    const completion = client({ fetch: cutting }).waitForCompletion(created.id, auth, {
      timeoutMs: 120_000,
      onProgress: (p) => progress.push(p),
    });
    const target = client().waitForCompletion(created.id, auth, { timeoutMs: 120_000, untilVotes: 10 });
    const polled: string[] = [];
    const polling = client({ fetch: withoutEventsRoute(polled) }).waitForCompletion(created.id, auth, {
      timeoutMs: 120_000,
      untilVotes: 20,
      pollIntervalMs: 100,
    });

    // The targets are reached while the poll is still active (a poll that completes first answers `completed`).
    await castVotes(created.id, created.optionIds, 25);
    const reached = await target;
    expect(reached.outcome).toBe("target_reached");
    expect(reached.voteCount).toBeGreaterThanOrEqual(10);
    const polledResult = await polling;
    expect(polledResult.outcome).toBe("target_reached");
    expect(polledResult.voteCount).toBeGreaterThanOrEqual(20);
    expect(polled[0]).toBe(`/api/v1/polls/${created.id}/events`);
    expect(polled.slice(1).every((path) => path === `/api/v1/polls/${created.id}/results`)).toBe(true);
    expect(polled.length).toBeGreaterThan(2);
    await castVotes(created.id, created.optionIds, 75, 25);
    expect(await completion).toEqual({ outcome: "completed", status: "completed", voteCount: 100, maxResponses: 100 });

    const counts = progress.map((p) => p.voteCount);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(new Set(counts).size).toBe(counts.length);
    expect(eventRequests.length).toBeGreaterThan(1);
    expect(eventRequests[0]!.get("last-event-id")).toBeNull();
    expect(eventRequests.slice(1).every((headers) => /^\d+$/.test(headers.get("last-event-id") ?? ""))).toBe(true);

    const results = await client().getResults(created.id, auth);
    expect(results.voteCount).toBe(100);
    const votes = [];
    for await (const vote of client().listVotes(created.id, auth, { limit: 30 })) votes.push(vote);
    expect(votes).toHaveLength(100);
    expect(new Set(votes.map((v) => v.id)).size).toBe(100);
    expect(votes.filter((v) => v.optionId === created.optionIds[0]).length).toBe(results.options.find((o) => o.id === created.optionIds[0])!.count);
  });

  it("falls back to polling /results when the events stream is absent or keeps failing", async () => {
    const auth = { readToken: created.readToken };
    const paths: string[] = [];
    const result = await client({ fetch: withoutEventsRoute(paths) }).waitForCompletion(created.id, auth, { timeoutMs: 30_000 });
    expect(result).toEqual({ outcome: "completed", status: "completed", voteCount: 100, maxResponses: 100 });
    expect(paths).toEqual([`/api/v1/polls/${created.id}/events`, `/api/v1/polls/${created.id}/results`]);

    let attempts = 0;
    const failing: FetchLike = async (input, init) => {
      const request = new Request(input, init);
      if (request.url.endsWith("/events")) {
        attempts++;
        throw new TypeError("fetch failed");
      }
      return fetch(request);
    };
    expect(await client({ fetch: failing }).waitForCompletion(created.id, auth, { timeoutMs: 30_000 })).toMatchObject({ outcome: "completed" });
    expect(attempts).toBe(3);
  });
});

/** The service as if it had no events route (a 404 envelope), recording every path asked for. */
function withoutEventsRoute(paths: string[]): FetchLike {
  return async (input, init) => {
    const request = new Request(input, init);
    paths.push(new URL(request.url).pathname);
    if (request.url.endsWith("/events")) return Response.json({ error: { code: "not_found", message: "No such route." } }, { status: 404 });
    return fetch(request);
  };
}

/** A stream that passes the bytes of its first event (up to the first blank line) and then ends. */
function firstEventOnly(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let text = "";
  return new ReadableStream({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      controller.enqueue(value);
      text += new TextDecoder().decode(value);
      // An event (not a heartbeat comment or a retry line) followed by a blank line: cut here.
      if (/(^|\n)data:[^\n]*\n\n/.test(text)) {
        controller.close();
        await reader.cancel();
      }
    },
    cancel: () => reader.cancel(),
  });
}
