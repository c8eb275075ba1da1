// The 201 carrying the read token can be lost in transit: the wallet that paid gets it back by signing
// (EIP-191) a message naming the poll and a recent timestamp. Anyone else's signature is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import { readTokenRecoveryMessage } from "../src/polls/read-token-recovery";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

let service: LocalService;
let poll: CreatedPoll;

beforeAll(async () => {
  service = await startLocalService();
  poll = await createPaidPoll(service, {}, 2);
});
afterAll(async () => {
  await service?.stop();
});

const account = (index: number) => privateKeyToAccount(service.devnet!.payers[index]!.privateKey);
const recover = async (pollId: string, body: unknown) => {
  const response = await fetch(`${service.url}/api/v1/polls/${pollId}/read-token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { readToken?: string; pollId?: string; error?: { code: string; param?: string } } };
};
const signed = async (index: number, message: string) => ({ message, signature: await account(index).signMessage({ message }) });

describe("read-token recovery", () => {
  it("returns the poll's read token to the wallet that paid", async () => {
    expect(poll.payment.payer).toBe(account(2).address.toLowerCase());
    const { status, body } = await recover(poll.id, await signed(2, readTokenRecoveryMessage(poll.id)));
    expect(status).toBe(200);
    expect(body).toEqual({ pollId: poll.id, readToken: poll.readToken });
    const results = await fetch(`${service.url}/api/v1/polls/${poll.id}/results`, { headers: { "x-read-token": body.readToken! } });
    expect(results.status).toBe(200);
  });

  it("refuses any other wallet's signature with 403 invalid_signature", async () => {
    for (const index of [0, 1]) {
      const { status, body } = await recover(poll.id, await signed(index, readTokenRecoveryMessage(poll.id)));
      expect(status).toBe(403);
      expect(body.error?.code).toBe("invalid_signature");
      expect(body.readToken).toBeUndefined();
    }
  });

  it("refuses a message for another poll, a stale or future timestamp, or another wording", async () => {
    const other = await createPaidPoll(service, {}, 2);
    const cases = [
      readTokenRecoveryMessage(other.id),
      readTokenRecoveryMessage(poll.id, new Date(Date.now() - 11 * 60_000)),
      readTokenRecoveryMessage(poll.id, new Date(Date.now() + 10 * 60_000)),
      `Give me the token\nPoll: ${poll.id}\nTimestamp: ${new Date().toISOString()}`,
    ];
    for (const message of cases) {
      const { status, body } = await recover(poll.id, await signed(2, message));
      expect(status).toBe(400);
      expect(body.error?.param).toBe("message");
    }
    // The signature over one poll's message cannot be replayed against another poll.
    const { status } = await recover(other.id, await signed(2, readTokenRecoveryMessage(poll.id)));
    expect(status).toBe(400);
  });

  it("answers 404 for an unknown poll and 400 for a malformed signature", async () => {
    const unknownId = "7d0c1f3e-0000-4000-8000-000000000000";
    expect((await recover(unknownId, await signed(2, readTokenRecoveryMessage(unknownId)))).status).toBe(404);
    const malformed = await recover(poll.id, { message: readTokenRecoveryMessage(poll.id), signature: "0x1234" });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error?.code).toBe("validation_error");
  });
});
