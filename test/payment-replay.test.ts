// A payment authorization buys one poll, once: a replay, or the same signature raced in parallel,
// gets 409 naming the poll it paid for, and the chain moves the money exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usdcBalanceOf } from "../src/devnet/chain";
import { pollBody, startLocalService, type LocalService } from "./support/harness";
import { challengeFor, postPoll, signPayment } from "./support/sign";

let service: LocalService;
beforeAll(async () => {
  service = await startLocalService();
});
afterAll(async () => {
  await service?.stop();
});

const payerBalance = (index: number) =>
  usdcBalanceOf(service.devnet!.rpcUrl, service.devnet!.asset, service.devnet!.payers[index]!.address);

const countPolls = async () =>
  Number(
    (await service.store.db.selectFrom("polls").select(({ fn }) => fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n,
  );

describe("payment replay guard", () => {
  it("answers a replayed signature with 409 naming the paid poll, never its read token", async () => {
    const body = pollBody();
    const signature = await signPayment(service, await challengeFor(service, body), 0);
    const first = await postPoll(service, body, signature);
    expect(first.status).toBe(201);
    const created = await first.json();
    const balanceAfterFirst = await payerBalance(0);

    const replay = await postPoll(service, body, signature);
    expect(replay.status).toBe(409);
    const error = await replay.json();
    expect(error.error.code).toBe("payment_already_used");
    expect(error.error.details).toEqual({ pollId: created.id });
    expect(JSON.stringify(error)).not.toContain(created.readToken);
    expect(replay.headers.get("PAYMENT-RESPONSE")).toBeNull();
    expect(await payerBalance(0)).toBe(balanceAfterFirst);
  });

  it("lets exactly one of two simultaneous requests with the same signature create a poll", async () => {
    const body = pollBody({ maxResponses: 300 });
    const signature = await signPayment(service, await challengeFor(service, body), 1);
    const pollsBefore = await countPolls();
    const before = await payerBalance(1);

    const responses = await Promise.all([postPoll(service, body, signature), postPoll(service, body, signature)]);
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409]);
    const winner = await responses.find((r) => r.status === 201)!.json();
    const loser = await responses.find((r) => r.status === 409)!.json();
    expect(loser.error.details.pollId).toBe(winner.id);

    expect(before - (await payerBalance(1))).toBe(1_500_000n);
    expect((await countPolls()) - pollsBefore).toBe(1);
  });
});
