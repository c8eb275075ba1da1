// "The outbox is in the database: a server restart between attempts still delivers." The first attempt
// fails (503), the service stops, time moves past the retry, a new service on the same DATA_DIR (and the
// same chain) delivers it with the same delivery id and body. A poll that expired while the service was
// down gets its poll.expired from the new service's startup sweep.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { startAnvil, type AnvilProcess } from "../src/devnet/anvil";
import { startLocalService, type LocalService } from "./support/harness";
import { testClock } from "./support/clock";
import { createPaidPoll } from "./support/polls";
import { startReceiver, type Receiver } from "./support/webhook-receiver";

let anvil: AnvilProcess;
let hook: Receiver;
let dataDir: string;
let healthy = false;
const services: LocalService[] = [];
beforeAll(async () => {
  anvil = await startAnvil({ chainId: 31337 });
  dataDir = mkdtempSync(join(tmpdir(), "quali-webhook-restart-"));
  hook = await startReceiver(() => (healthy ? { status: 200 } : { status: 503, body: "down for maintenance" }));
});
afterAll(async () => {
  for (const service of services) await service.stop().catch(() => undefined);
  await hook?.close();
  await anvil?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("webhook outbox across a restart", () => {
  it("delivers the retry from a new server instance on the same DATA_DIR, and poll.expired for a poll that expired while down", async () => {
    const clock = testClock();
    const env = { DATA_DIR: dataDir, DEVNET_RPC_URL: anvil.rpcUrl, WEBHOOK_DISPATCH_INTERVAL_MS: "100" };
    const first = await startLocalService(env, { now: clock.now });
    services.push(first);

    const completing = await createPaidPoll(first, { callbackUrl: hook.url });
    const expiring = await createPaidPoll(first, { callbackUrl: hook.url, expiresAt: new Date(clock.now().getTime() + 6 * 60_000).toISOString() }, 1);
    await sql`UPDATE polls SET vote_count = max_responses - 1 WHERE id = ${completing.id}`.execute(first.store.db);
    const vote = await voteAsSimulatedHuman(first.url, { pollId: completing.id, optionId: completing.options[0]!.id, human: "restart" });
    expect(vote.status).toBe(201);

    await hook.waitFor(1);
    const deliveryOf = (service: LocalService, pollId: string) =>
      service.store.db.selectFrom("webhook_deliveries").selectAll().where("poll_id", "=", pollId).executeTakeFirst();
    await expect.poll(async () => (await deliveryOf(first, completing.id))?.state).toBe("pending");
    const failed = (await deliveryOf(first, completing.id))!;
    expect(failed).toMatchObject({ attempts: 1, last_status: 503 });
    // The retry is one minute (±10% jitter) after the attempt was recorded, some time between the attempt's
    // start and this read: bound it from both ends instead of timing the read.
    const nextAttemptAt = Date.parse(failed.next_attempt_at!);
    expect(nextAttemptAt - Date.parse(failed.last_attempt_at!)).toBeGreaterThanOrEqual(54_000);
    expect(nextAttemptAt - clock.now().getTime()).toBeLessThanOrEqual(66_000);
    await first.stop();

    // Down for 7 minutes (the fake clock): past the retry and past the other poll's expiresAt.
    healthy = true;
    clock.advance(7 * 60_000);
    const second = await startLocalService(env, { now: clock.now });
    services.push(second);

    const arrivals = await hook.waitFor(3, 10_000);
    const retried = arrivals.filter((r) => r.headers.get("x-quali-delivery") === failed.id);
    expect(retried).toHaveLength(2);
    expect(retried[1]!.rawBody).toBe(retried[0]!.rawBody);
    expect(retried.map((r) => r.headers.get("x-quali-attempt"))).toEqual(["1", "2"]);

    const expired = arrivals.find((r) => r.headers.get("x-quali-event") === "poll.expired")!;
    expect(JSON.parse(expired.rawBody)).toMatchObject({ pollId: expiring.id, status: "expired", voteCount: 0, readToken: expiring.readToken });

    await expect.poll(async () => (await deliveryOf(second, completing.id))?.state).toBe("delivered");
    const history = await (
      await fetch(`${second.url}/api/v1/polls/${completing.id}/deliveries`, { headers: { "x-read-token": completing.readToken } })
    ).json();
    expect(history.deliveries[0]).toMatchObject({
      id: failed.id,
      state: "delivered",
      attempts: 2,
      nextAttemptAt: null,
      lastStatus: 200,
      history: [
        { attempt: 1, status: 503, error: "http_error" },
        { attempt: 2, status: 200, error: null },
      ],
    });
  });
});
