// The wallet that paid for a poll reads it without the read token: it signs an x402 sign-in-with-x
// message (SIGN-IN-WITH-X) and reads the results and the votes, and lists its own polls. Another wallet
// gets 403. Local mode: the polls are paid on the devnet chain with the official x402 client, so `payer`
// is whatever the chain settled, and the wallet signs the challenge the service declares on its 401.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSIWxPayload, type SIWxExtension } from "@x402/extensions/sign-in-with-x";
import { privateKeyToAccount } from "viem/accounts";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { encodeSIWxHeader, signedSignIn, signInHeader } from "./support/wallet-sign-in";

let service: LocalService;
let poll: CreatedPoll;
let othersPoll: CreatedPoll;
let payer: ReturnType<typeof privateKeyToAccount>;
let stranger: ReturnType<typeof privateKeyToAccount>;

beforeAll(async () => {
  service = await startLocalService();
  poll = await createPaidPoll(service, {}, 0);
  othersPoll = await createPaidPoll(service, {}, 1);
  payer = privateKeyToAccount(service.devnet!.payers[0]!.privateKey);
  stranger = privateKeyToAccount(service.devnet!.payers[1]!.privateKey);
  expect((await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[1]!.id, human: "siwx-reader" })).status).toBe(201);
});
afterAll(async () => {
  await service?.stop();
});

type Body = { error?: { code: string; details?: { extensions?: Record<string, SIWxExtension> } } } & Record<string, unknown>;

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${service.url}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Body };
}

/** What an agent does: ask, read the challenge off the 401, sign it with its wallet, ask again. */
async function signChallengeOf(path: string, account: typeof payer): Promise<string> {
  const challenge = await get(path);
  expect(challenge.status).toBe(401);
  const declared = challenge.body.error!.details!.extensions!["sign-in-with-x"]!;
  const chain = declared.supportedChains.find((c) => c.type === "eip191")!;
  const payload = await createSIWxPayload({ ...declared.info, chainId: chain.chainId, type: chain.type }, account, `${service.url}${path}`);
  return encodeSIWxHeader(payload);
}

const fresh = (account: typeof payer, path: string) => signInHeader(account, service.url, path, new Date(), { chainId: poll.payment.network });

describe("the paying wallet reads its poll without the read token", () => {
  it("the payer recorded for the poll is the devnet wallet that paid", () => {
    expect(poll.payment.payer.toLowerCase()).toBe(payer.address.toLowerCase());
  });

  it("results: the signed challenge of the 401 answers the same document as the read token", async () => {
    const path = `/api/v1/polls/${poll.id}/results`;
    const withToken = await get(path, { "X-Read-Token": poll.readToken });
    expect(withToken.status).toBe(200);
    const header = await signChallengeOf(path, payer);
    const signedIn = await get(path, { "SIGN-IN-WITH-X": header });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toEqual(withToken.body);
    expect(signedIn.body).toMatchObject({ pollId: poll.id, voteCount: 1 });
    // The signed message is never written to the logs (nor is the signature).
    const logs = service.logs.join("\n");
    expect(logs).not.toContain(header.slice(0, 40));
    expect(logs).not.toContain(JSON.parse(Buffer.from(header, "base64").toString("utf8")).signature);
  });

  it("votes: the same page as with the read token", async () => {
    const path = `/api/v1/polls/${poll.id}/votes`;
    const withToken = await get(path, { Authorization: `Bearer ${poll.readToken}` });
    const signedIn = await get(path, { "SIGN-IN-WITH-X": await fresh(payer, path) });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toEqual(withToken.body);
    // (Votes of the current minute are not listed yet: the page may be empty, but it is the token's page.)
    expect(Array.isArray(signedIn.body.votes)).toBe(true);
  });

  it("a checksummed or lower-case address in the message both work (the payer is matched in any letter case)", async () => {
    const path = `/api/v1/polls/${poll.id}/results`;
    const lower = await signedSignIn(payer, service.url, path, new Date(), { chainId: poll.payment.network });
    expect(lower.address).toBe(payer.address);
    const response = await get(path, { "SIGN-IN-WITH-X": encodeSIWxHeader({ ...lower, address: payer.address.toLowerCase() }) });
    expect(response.status).toBe(200);
  });

  it("lists its polls: GET /api/v1/polls without payer lists the signer's polls, no read tokens", async () => {
    const mine = await get("/api/v1/polls", { "SIGN-IN-WITH-X": await fresh(payer, "/api/v1/polls") });
    expect(mine.status).toBe(200);
    const ids = (mine.body.polls as { id: string }[]).map((p) => p.id);
    expect(ids).toContain(poll.id);
    expect(ids).not.toContain(othersPoll.id);
    expect(JSON.stringify(mine.body)).not.toContain(poll.readToken);
    // The same list the public `payer` filter gives.
    const byPayer = await get(`/api/v1/polls?payer=${payer.address}`);
    expect(mine.body).toEqual(byPayer.body);

    const theirs = await get("/api/v1/polls", { "SIGN-IN-WITH-X": await fresh(stranger, "/api/v1/polls") });
    expect((theirs.body.polls as { id: string }[]).map((p) => p.id)).toEqual(expect.arrayContaining([othersPoll.id]));
    expect((theirs.body.polls as { id: string }[]).map((p) => p.id)).not.toContain(poll.id);
  });

  it("listing with `payer` works as before, and without either answers 400 with the challenge", async () => {
    const byPayer = await get(`/api/v1/polls?payer=${stranger.address.toLowerCase()}`);
    expect(byPayer.status).toBe(200);
    const neither = await get("/api/v1/polls");
    expect(neither.status).toBe(400);
    expect(neither.body.error?.code).toBe("validation_error");
    expect(neither.body.error?.details?.extensions?.["sign-in-with-x"]?.info.domain).toBe(new URL(service.url).host);
  });
});

describe("another wallet is refused", () => {
  for (const endpoint of ["results", "votes"] as const) {
    it(`${endpoint}: a valid sign-in by a wallet that did not pay for the poll → 403 wallet_not_payer`, async () => {
      const path = `/api/v1/polls/${poll.id}/${endpoint}`;
      const { status, body } = await get(path, { "SIGN-IN-WITH-X": await signChallengeOf(path, stranger) });
      expect(status).toBe(403);
      expect(body.error?.code).toBe("wallet_not_payer");
      expect(JSON.stringify(body)).not.toContain('"options"');
    });
  }

  it("the other wallet reads its own poll, but not with the first wallet's read token", async () => {
    const path = `/api/v1/polls/${othersPoll.id}/results`;
    expect((await get(path, { "SIGN-IN-WITH-X": await fresh(stranger, path) })).status).toBe(200);
    expect((await get(path, { "X-Read-Token": poll.readToken })).status).toBe(403);
  });
});
