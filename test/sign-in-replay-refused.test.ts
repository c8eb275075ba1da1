// Attacks on wallet sign-in (SIGN-IN-WITH-X) against the read side, in process: a captured message sent
// again, a message made for another site, an expired or stale one, one dated in the future, a tampered
// signature, a smart-wallet signature, two requests racing with one message. Every refusal is a 401 with a
// precise reason and leaves the database as it was: the refused message's nonce is not used up.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { pruneSignInNonces } from "../src/polls";
import { testClock } from "./support/clock";
import { inProcessApp, type InProcessApp } from "./support/in-process";
import { encodeSIWxHeader, signedSignIn, signInHeader, tamperedSignature } from "./support/wallet-sign-in";

const payer = privateKeyToAccount(generatePrivateKey());
const stranger = privateKeyToAccount(generatePrivateKey());
const clock = testClock();
let app: InProcessApp;
let pollId: string;
let baseUrl: string;

const MINUTE = 60_000;
const path = () => `/api/v1/polls/${pollId}/results`;
const at = (offsetMs: number) => new Date(clock.now().getTime() + offsetMs);

async function read(headers: Record<string, string>, target = path()) {
  const response = await app.request(target, { headers });
  return { status: response.status, body: (await response.json()) as { error?: { code: string; param?: string; details?: Record<string, unknown> } } & Record<string, unknown> };
}

/** Everything a refusal must leave untouched. */
async function snapshot() {
  const nonces = await app.store.db.selectFrom("sign_in_nonces").selectAll().orderBy("nonce").execute();
  const poll = await app.store.db.selectFrom("polls").selectAll().where("id", "=", pollId).executeTakeFirstOrThrow();
  return { nonces, poll };
}

beforeAll(async () => {
  app = inProcessApp({ now: clock.now });
  pollId = await app.insertPoll();
  await app.store.db.updateTable("polls").set({ payer: payer.address.toLowerCase() }).where("id", "=", pollId).execute();
  // The origin the service names in its challenge is the only one a message may name.
  const challenge = await read({});
  const info = (challenge.body.error?.details?.extensions as Record<string, { info: { uri: string } }>)["sign-in-with-x"]!.info;
  baseUrl = new URL(info.uri).origin;
});
afterAll(async () => {
  await app?.close();
});

describe("a sign-in message is accepted once", () => {
  it("the same signed message twice: 200, then 401 sign_in_replayed", async () => {
    const header = await signInHeader(payer, baseUrl, path(), clock.now());
    const first = await read({ "SIGN-IN-WITH-X": header });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ pollId, voteCount: 0 });
    const before = await snapshot();
    const again = await read({ "SIGN-IN-WITH-X": header });
    expect(again.status).toBe(401);
    expect(again.body.error).toMatchObject({ code: "sign_in_replayed", param: "SIGN-IN-WITH-X", details: { reason: "invalid_siwx_nonce" } });
    expect(await snapshot()).toEqual(before);
  });

  it("replayed on another read endpoint of the same poll: still refused", async () => {
    const header = await signInHeader(payer, baseUrl, path(), clock.now());
    expect((await read({ "SIGN-IN-WITH-X": header })).status).toBe(200);
    const votes = await read({ "SIGN-IN-WITH-X": header }, `/api/v1/polls/${pollId}/votes`);
    expect(votes.status).toBe(401);
    expect(votes.body.error?.code).toBe("sign_in_replayed");
    const list = await read({ "SIGN-IN-WITH-X": header }, "/api/v1/polls");
    expect(list.status).toBe(401);
    expect(list.body.error?.code).toBe("sign_in_replayed");
  });

  it("two requests racing with one message: exactly one is answered", async () => {
    const header = await signInHeader(payer, baseUrl, path(), clock.now());
    const answers = await Promise.all([read({ "SIGN-IN-WITH-X": header }), read({ "SIGN-IN-WITH-X": header }), read({ "SIGN-IN-WITH-X": header })]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401]);
    expect(answers.filter((a) => a.status === 401).every((a) => a.body.error?.code === "sign_in_replayed")).toBe(true);
  });
});

describe("refused messages change nothing", () => {
  const refusals: [string, () => Promise<string>, string][] = [
    ["a message for another domain", () => signInHeader(payer, "https://quali.example.net", path(), clock.now()), "invalid_siwx_domain_mismatch"],
    [
      "a message naming our domain but another origin in its uri",
      async () => encodeSIWxHeader({ ...(await signedSignIn(payer, baseUrl, path(), clock.now())), uri: `https://elsewhere.example${path()}` }),
      "invalid_siwx_uri_mismatch",
    ],
    [
      "a message whose uri names our host over another scheme",
      () => {
        const otherScheme = baseUrl.startsWith("https:") ? baseUrl.replace(/^https:/, "http:") : baseUrl.replace(/^http:/, "https:");
        return signInHeader(payer, baseUrl, path(), clock.now(), { uri: `${otherScheme}${path()}` });
      },
      "invalid_siwx_uri_mismatch",
    ],
    [
      "an expired message (expirationTime passed)",
      () => signInHeader(payer, baseUrl, path(), at(-3 * MINUTE), { expirationTime: at(-1 * MINUTE).toISOString() }),
      "invalid_siwx_expired",
    ],
    ["a message issued more than 5 minutes ago", () => signInHeader(payer, baseUrl, path(), at(-6 * MINUTE)), "invalid_siwx_issued_at_too_old"],
    ["a message issued in the future beyond the allowed skew", () => signInHeader(payer, baseUrl, path(), at(2 * MINUTE)), "invalid_siwx_issued_at_in_future"],
    [
      "a message not valid before a future instant",
      () => signInHeader(payer, baseUrl, path(), clock.now(), { notBefore: at(10 * MINUTE).toISOString() }),
      "invalid_siwx_not_yet_valid",
    ],
    ["a tampered signature", async () => encodeSIWxHeader(tamperedSignature(await signedSignIn(payer, baseUrl, path(), clock.now()))), "invalid_siwx_signature"],
    [
      "a signed message whose nonce was changed afterwards",
      async () => encodeSIWxHeader({ ...(await signedSignIn(payer, baseUrl, path(), clock.now())), nonce: "0123456789abcdef0123456789abcdef" }),
      "invalid_siwx_signature",
    ],
    [
      "a message signed by the payer for another address",
      async () => encodeSIWxHeader({ ...(await signedSignIn(payer, baseUrl, path(), clock.now())), address: stranger.address }),
      "invalid_siwx_signature",
    ],
    [
      "a smart-wallet (ERC-6492-wrapped) signature",
      async () => {
        const payload = await signedSignIn(payer, baseUrl, path(), clock.now());
        return encodeSIWxHeader({ ...payload, signature: `${payload.signature}${"00".repeat(32)}${"6492".repeat(16)}` });
      },
      "invalid_siwx_malformed_signature",
    ],
    [
      "a Solana chain",
      async () => encodeSIWxHeader({ ...(await signedSignIn(payer, baseUrl, path(), clock.now())), chainId: "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", type: "ed25519" }),
      "invalid_siwx_unsupported_chain",
    ],
    ["a header that is not base64 JSON", async () => "not a sign-in", "invalid_siwx_header"],
  ];

  it.each(refusals)("%s: 401 sign_in_invalid", async (_name, make, reason) => {
    const header = await make();
    const before = await snapshot();
    const { status, body } = await read({ "SIGN-IN-WITH-X": header });
    expect(status).toBe(401);
    expect(body.error).toMatchObject({ code: "sign_in_invalid", param: "SIGN-IN-WITH-X", details: { reason } });
    // A fresh challenge rides along, so the agent can sign again at once.
    expect(body.error?.details?.extensions).toHaveProperty(["sign-in-with-x", "info", "nonce"]);
    expect(await snapshot()).toEqual(before);
  });

  it("a message issued slightly ahead of our clock (within the skew) is accepted", async () => {
    const { status } = await read({ "SIGN-IN-WITH-X": await signInHeader(payer, baseUrl, path(), at(30_000)) });
    expect(status).toBe(200);
  });

  it("another wallet's valid message: 403 wallet_not_payer, and its nonce is not used up", async () => {
    const payload = await signedSignIn(stranger, baseUrl, path(), clock.now());
    const before = await snapshot();
    const { status, body } = await read({ "SIGN-IN-WITH-X": encodeSIWxHeader(payload) });
    expect(status).toBe(403);
    expect(body.error?.code).toBe("wallet_not_payer");
    expect(await snapshot()).toEqual(before);
    // The payer may still use that nonce: the refusal recorded nothing.
    const payers = await signInHeader(payer, baseUrl, path(), clock.now(), { nonce: payload.nonce });
    expect((await read({ "SIGN-IN-WITH-X": payers })).status).toBe(200);
  });

  it("a refused message's nonce stays usable by a valid message", async () => {
    const tampered = tamperedSignature(await signedSignIn(payer, baseUrl, path(), clock.now()));
    expect((await read({ "SIGN-IN-WITH-X": encodeSIWxHeader(tampered) })).status).toBe(401);
    const valid = await signInHeader(payer, baseUrl, path(), clock.now(), { nonce: tampered.nonce });
    expect((await read({ "SIGN-IN-WITH-X": valid })).status).toBe(200);
  });

  it("an unknown poll answers 404 before the sign-in is looked at, using nothing up", async () => {
    const unknown = "7d0c1f3e-0000-4000-8000-000000000000";
    const header = await signInHeader(payer, baseUrl, `/api/v1/polls/${unknown}/results`, clock.now());
    const before = await snapshot();
    expect((await read({ "SIGN-IN-WITH-X": header }, `/api/v1/polls/${unknown}/results`)).status).toBe(404);
    expect(await snapshot()).toEqual(before);
    expect((await read({ "SIGN-IN-WITH-X": header })).status).toBe(200);
  });
});

describe("the read token is unchanged, and the challenge is declared", () => {
  it("no credentials: 401 read_token_missing with a sign-in-with-x challenge in details.extensions", async () => {
    const { status, body } = await read({});
    expect(status).toBe(401);
    expect(body.error?.code).toBe("read_token_missing");
    const declared = (body.error?.details?.extensions as Record<string, unknown>)["sign-in-with-x"] as {
      info: Record<string, unknown>;
      supportedChains: { chainId: string; type: string }[];
      schema: { required: string[] };
    };
    const base = new URL(baseUrl);
    expect(declared.info).toMatchObject({ domain: base.host, uri: `${baseUrl}${path()}`, version: "1", resources: [`${baseUrl}${path()}`] });
    expect(declared.info.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(Date.parse(String(declared.info.expirationTime)) - Date.parse(String(declared.info.issuedAt))).toBe(5 * MINUTE);
    expect(declared.supportedChains).toEqual([{ chainId: "eip155:31337", type: "eip191", signatureScheme: "eip191" }]);
    expect(declared.schema.required).toEqual(expect.arrayContaining(["domain", "address", "uri", "nonce", "issuedAt", "signature"]));
    // Two challenges never share a nonce.
    const again = await read({});
    expect((again.body.error?.details?.extensions as Record<string, { info: { nonce: string } }>)["sign-in-with-x"]!.info.nonce).not.toBe(declared.info.nonce);
  });

  it("a presented read token decides alone: a wrong one is 403 read_token_invalid even beside a valid sign-in", async () => {
    const header = await signInHeader(payer, baseUrl, path(), clock.now());
    const before = await snapshot();
    const wrong = await read({ "X-Read-Token": "00000000-0000-4000-8000-000000000000", "SIGN-IN-WITH-X": header });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error?.code).toBe("read_token_invalid");
    expect(await snapshot()).toEqual(before);
    const token = app.readTokens!.tokenFor(pollId);
    expect((await read({ "X-Read-Token": token })).status).toBe(200);
    expect((await read({ Authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it("a public poll answers without credentials, but a presented sign-in must still be valid", async () => {
    const publicId = await app.insertPoll({ publicResults: true });
    expect((await read({}, `/api/v1/polls/${publicId}/results`)).status).toBe(200);
    const forged = encodeSIWxHeader(tamperedSignature(await signedSignIn(payer, baseUrl, `/api/v1/polls/${publicId}/results`, clock.now())));
    expect((await read({ "SIGN-IN-WITH-X": forged }, `/api/v1/polls/${publicId}/results`)).status).toBe(401);
  });
});

describe("used nonces are forgotten once their messages are too old anyway", () => {
  it("the sweep's pruning keeps a row while its message could still pass, then deletes it", async () => {
    const header = await signInHeader(payer, baseUrl, path(), clock.now());
    expect((await read({ "SIGN-IN-WITH-X": header })).status).toBe(200);
    const count = async () => (await app.store.db.selectFrom("sign_in_nonces").select("nonce").execute()).length;
    const rows = await count();
    expect(rows).toBeGreaterThan(0);
    expect(await pruneSignInNonces(app.store, at(4 * MINUTE))).toBe(0);
    // Past issuedAt + 5 minutes the replay is refused as too old: the row is no longer needed.
    clock.advance(7 * MINUTE);
    const stale = await read({ "SIGN-IN-WITH-X": header });
    expect(stale.body.error?.details).toMatchObject({ reason: "invalid_siwx_issued_at_too_old" });
    expect(await pruneSignInNonces(app.store, clock.now())).toBe(rows);
    expect(await count()).toBe(0);
    expect((await read({ "SIGN-IN-WITH-X": header })).status).toBe(401);
  });
});
