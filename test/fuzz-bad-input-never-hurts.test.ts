// Bad input never hurts: property-based fuzzing (fast-check) of every endpoint's inputs — random
// values, valid bodies with one field mutated, valid payment signatures, read tokens and World ID
// proofs with one field mutated. Every answer is a 4xx in the error envelope (or the 402
// PaymentRequired object), never a 5xx; nothing is written and no money moves.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodePaymentSignatureHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import { prepareVote, type PreparedVote } from "../scripts/lib/voter";
import { usdcBalanceOf } from "../src/devnet/chain";
import { pollBody, startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { challengeFor, signPayment } from "./support/sign";

let service: LocalService;
let poll: CreatedPoll;
let prepared: PreparedVote;
let validBody: Record<string, unknown>;
let validSignature: string;
let baseline: Record<string, number>;
let balancesBefore: bigint[];

const TABLES = ["polls", "poll_options", "payments", "votes", "reward_ledger", "webhook_deliveries"] as const;

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) {
    const row = await service.store.db
      .selectFrom(table as "polls")
      .select(({ fn }) => fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}

const balances = () =>
  Promise.all(service.devnet!.payers.map((payer) => usdcBalanceOf(service.devnet!.rpcUrl, service.devnet!.asset, payer.address)));

beforeAll(async () => {
  // Rate limits off: thousands of requests from one address are the point here.
  service = await startLocalService({ RATE_LIMIT_PER_MINUTE: "0", RATE_LIMIT_VOTES_PER_MINUTE: "0" });
  poll = await createPaidPoll(service, {}, 1);
  const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: "fuzz-human" });
  if (!("prepared" in step)) throw new Error(`could not prepare a vote: ${JSON.stringify(step.failed)}`);
  prepared = step.prepared;
  validBody = pollBody();
  validSignature = await signPayment(service, await challengeFor(service, validBody), 0);
  baseline = await counts();
  balancesBefore = await balances();
}, 120_000);

afterAll(async () => {
  await service?.stop();
});

/** The one shape every answer must have: the 402 PaymentRequired object, or the error envelope. */
async function expectSafeAnswer(response: Response, allowed: readonly number[]): Promise<void> {
  const text = await response.text();
  expect(response.status, text).toBeLessThan(500);
  expect(allowed, `${response.status}: ${text}`).toContain(response.status);
  const body = JSON.parse(text) as { x402Version?: unknown; accepts?: unknown; error?: { code?: unknown; message?: unknown } };
  if (response.status === 402) {
    expect(body.x402Version).toBe(2);
    expect(Array.isArray(body.accepts)).toBe(true);
  } else if (response.status >= 400) {
    expect(typeof body.error?.code).toBe("string");
    expect(typeof body.error?.message).toBe("string");
  }
}

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${service.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

const jsonish = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom("", "{", "[]", "null", '{"question":', "\u0000", "{}", '{"__proto__":{"x":1}}'),
);

const anyValue = fc.oneof(
  fc.jsonValue(),
  fc.string({ maxLength: 300 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(null, true, -1, 0, 1e308, "", "https://", "http://127.0.0.1/", "x".repeat(5000)),
);

/** Equal as values, not just as text: "0x00" and "0" are the same uint256, so not a mutation. */
function sameValue(a: unknown, b: unknown): boolean {
  if (JSON.stringify(a) === JSON.stringify(b)) return true;
  try {
    return (typeof a === "string" || typeof a === "number") && (typeof b === "string" || typeof b === "number") && BigInt(a) === BigInt(b);
  } catch {
    return false;
  }
}

/** A copy of `value` with the field at a random path set to `replacement` (or deleted). */
function mutateOneField(value: Record<string, unknown>, keyIndex: number, replacement: unknown, remove: boolean) {
  const copy = structuredClone(value);
  const keys = Object.keys(copy);
  const key = keys[keyIndex % keys.length]!;
  if (remove) delete copy[key];
  else copy[key] = replacement;
  return copy;
}

describe("fuzzing every endpoint", () => {
  it("POST /api/v1/polls with arbitrary bodies: 400/402/413/415, never 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(jsonish, async (body) => {
        await expectSafeAnswer(await post("/api/v1/polls", body), [400, 402, 413, 415]);
      }),
      { numRuns: 1000 },
    );
  });

  it("POST /api/v1/polls with a valid body mutated one field at a time (incl. options[i])", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), anyValue, fc.boolean(), fc.nat(), anyValue, async (keyIndex, replacement, remove, optionIndex, optionValue) => {
        const body = mutateOneField(validBody, keyIndex, replacement, remove);
        if (keyIndex % 3 === 0) {
          const options = structuredClone(validBody.options) as Record<string, unknown>[];
          options[optionIndex % options.length] = { text: optionValue } as Record<string, unknown>;
          body.options = options;
        }
        await expectSafeAnswer(await post("/api/v1/polls", JSON.stringify(body)), [400, 402]);
      }),
      { numRuns: 900 },
    );
  });

  it("POST /api/v1/polls with a valid signature mutated one field at a time: never created, never charged", async () => {
    const decoded = decodePaymentSignatureHeader(validSignature) as unknown as Record<string, unknown>;
    const paths: string[][] = [
      ["payload", "signature"],
      ["payload", "authorization", "from"],
      ["payload", "authorization", "to"],
      ["payload", "authorization", "value"],
      ["payload", "authorization", "validAfter"],
      ["payload", "authorization", "validBefore"],
      ["payload", "authorization", "nonce"],
      ["accepted", "amount"],
      ["accepted", "payTo"],
      ["accepted", "asset"],
      ["accepted", "network"],
      ["accepted", "scheme"],
      ["resource", "url"],
      ["x402Version"],
    ];
    const hexLike = fc.oneof(
      fc.constantFrom("0x", "0x00", "0x" + "f".repeat(40), "0x" + "0".repeat(64), "0x" + "1".repeat(130), "1000000000", "0", "-1"),
      anyValue,
    );
    await fc.assert(
      fc.asyncProperty(fc.nat(), hexLike, async (pathIndex, replacement) => {
        const copy = structuredClone(decoded);
        const path = paths[pathIndex % paths.length]!;
        let node = copy as Record<string, unknown>;
        for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
        const leaf = path.at(-1)!;
        if (sameValue(node[leaf], replacement)) return; // not a mutation
        node[leaf] = replacement;
        const header = encodePaymentSignatureHeader(copy as never);
        await expectSafeAnswer(await post("/api/v1/polls", JSON.stringify(validBody), { "PAYMENT-SIGNATURE": header }), [400, 402, 409]);
      }),
      { numRuns: 500 },
    );
    // And garbage headers, including non-base64 and oversized ones.
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 2000 }).filter((s) => /^[\x21-\x7e]*$/.test(s)), async (header) => {
        await expectSafeAnswer(await post("/api/v1/polls", JSON.stringify(validBody), { "PAYMENT-SIGNATURE": header || "x" }), [400, 402]);
      }),
      { numRuns: 300 },
    );
  });

  it("GET /api/v1/quote with arbitrary queries: 200 or 400", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), async (maxResponses, network) => {
        const query = new URLSearchParams({ maxResponses, ...(network ? { network } : {}) });
        await expectSafeAnswer(await fetch(`${service.url}/api/v1/quote?${query}`), [200, 400]);
      }),
      { numRuns: 500 },
    );
  });

  it("read endpoints with mutated tokens, ids, cursors and limits: never a leak, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.string({ maxLength: 60 }),
        fc.constantFrom("results", "votes", "deliveries"),
        fc.boolean(),
        fc.string({ maxLength: 60 }),
        fc.string({ maxLength: 10 }),
        async (position, replacement, endpoint, mutateId, cursor, limit) => {
          const chars = [...poll.readToken];
          const at = position % chars.length;
          chars[at] = replacement.slice(0, 1) || "0";
          const token = chars.join("");
          const id = mutateId ? encodeURIComponent(replacement || "x") : poll.id;
          const query = endpoint === "votes" ? `?${new URLSearchParams({ cursor, limit })}` : "";
          const response = await fetch(`${service.url}/api/v1/polls/${id}/${endpoint}${query}`, {
            headers: { "X-Read-Token": token.replace(/[^\x20-\x7e]/g, "?") },
          });
          const mutatedToken = token.toLowerCase() !== poll.readToken;
          if (mutatedToken || mutateId) expect(response.status).not.toBe(200);
          await expectSafeAnswer(response, [200, 400, 401, 403, 404]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("GET lists with arbitrary payer, cursor and limit: 200 or 400", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 50 }), fc.string({ maxLength: 50 }), fc.string({ maxLength: 8 }), async (payer, cursor, limit) => {
        const list = await fetch(`${service.url}/api/v1/polls?${new URLSearchParams({ payer, cursor, limit })}`);
        await expectSafeAnswer(list, [200, 400]);
        const feed = await fetch(`${service.url}/api/v1/voter/polls?${new URLSearchParams({ cursor, limit })}`);
        await expectSafeAnswer(feed, [200, 400]);
        const rewards = await fetch(`${service.url}/api/v1/voter/rewards?${new URLSearchParams({ address: payer })}`);
        await expectSafeAnswer(rewards, [200, 400]);
      }),
      { numRuns: 300 },
    );
  });

  it("votes with a valid World ID proof mutated one field at a time: never recorded", async () => {
    const vote = {
      optionId: prepared.optionId,
      payoutAddress: prepared.payoutAddress,
      proof: prepared.proof,
    } as Record<string, unknown>;
    const proofKeys = Object.keys(prepared.proof);
    await fc.assert(
      fc.asyncProperty(fc.nat(), anyValue, fc.boolean(), async (index, replacement, inProof) => {
        let body: Record<string, unknown>;
        if (inProof && proofKeys.length > 0) {
          const key = proofKeys[index % proofKeys.length]!;
          if (sameValue(prepared.proof[key], replacement)) return;
          const proof = mutateOneField(prepared.proof, index, replacement, false);
          body = { ...vote, proof };
        } else {
          body = mutateOneField(vote, index, replacement, index % 5 === 0);
          if (JSON.stringify(body) === JSON.stringify(vote)) return;
        }
        await expectSafeAnswer(await post(`/api/v1/polls/${poll.id}/votes`, JSON.stringify(body)), [400, 401, 404, 409, 413]);
      }),
      { numRuns: 400 },
    );
    await fc.assert(
      fc.asyncProperty(jsonish, async (body) => {
        await expectSafeAnswer(await post(`/api/v1/polls/${poll.id}/votes`, body), [400, 404, 409, 413, 415]);
        await expectSafeAnswer(await post(`/api/v1/polls/${poll.id}/world-id-request`, body), [400, 404, 409, 413, 415]);
      }),
      { numRuns: 300 },
    );
  });

  it("read-token recovery with arbitrary messages and signatures: refused", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), async (message, signature) => {
        await expectSafeAnswer(
          await post(`/api/v1/polls/${poll.id}/read-token`, JSON.stringify({ message, signature })),
          [400, 403, 404],
        );
      }),
      { numRuns: 300 },
    );
  });

  it("wrote nothing and moved no money", async () => {
    expect(await counts()).toEqual(baseline);
    expect(await balances()).toEqual(balancesBefore);
  });
});
