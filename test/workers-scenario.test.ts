// The service on Cloudflare Workers, for real but offline: src/worker.ts under `wrangler dev --local`
// (workerd from npm) with local D1 migrated by `wrangler d1 migrations apply` from the same .sql files as
// Node, production mode, and every outside service local:
//   - one anvil chain with Base's id (8453) and the test token at Base's real USDC address, the official
//     x402 facilitator served over HTTP (X402_FACILITATOR_URL);
//   - OpenAI moderation: the stand-in (OPENAI_BASE_URL); World ID: the portal stand-in
//     (WORLD_ID_VERIFY_BASE_URL) — proofs are made here, in the test, like World App would; the Worker
//     serves no simulated-proof endpoint;
//   - webhook receivers on loopback (WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS: production refuses plain http and
//     loopback callbacks; that test-only switch lets a Worker under wrangler dev reach a local receiver).
// The same HTTP scenario as on Node: quote, paid poll with balances checked on chain, moderation
// rejection without settlement, votes until completion, results, votes pagination, and webhooks sent by
// scheduled(), run through wrangler's test-scheduled endpoint (GET /__scheduled). Where the scenario
// needs time to pass (a retry falling due, a poll's expiry), the test moves the data instead of the
// clock: it writes the due time into the local D1 file the running Worker reads.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { privateKeyToAddress } from "viem/accounts";
import { payingFetch } from "../scripts/lib/agent";
import { castVote, payoutAddressFor, requestWorldId, type WorldIdRequestView } from "../scripts/lib/voter";
import { startAnvil, type AnvilProcess } from "../src/devnet/anvil";
import { DEV_ROLES, devAccount, mintUsdc, placeMulticall3, placeTokenAt, publicClientFor, usdcBalanceOf } from "../src/devnet/chain";
import { createLocalFacilitator, serveFacilitatorOverHttp, type FacilitatorHttpServer } from "../src/devnet/facilitator";
import { BASE } from "../src/payment/networks";
import { installedPackage } from "../src/pages/static-node";
import { VENDOR_PREFIX, VENDORED } from "../src/pages/index";
import { simulateWorldIdProof, startWorldIdStandin, type SimulatedWorldIdNetwork, type WorldIdStandin } from "../src/devnet/world-id";
import { pollBody } from "./support/harness";
import { startOpenAIModerationStandin, type OpenAIModerationStandin } from "./support/openai-moderation-standin";
import { mapLimit } from "./support/polls";
import { freePort } from "./support/ports";
import { dataOf, openEventStream, type OpenedStream } from "./support/event-stream";
import { verifyQualiWebhook } from "./support/webhook-recipe";
import { startReceiver, type Receiver } from "./support/webhook-receiver";
import { REPO_ROOT, runWrangler, startWranglerDev, writeLocalD1, type WranglerDev } from "./support/wrangler";

const USDC = BASE.usdc.address as `0x${string}`;
const payer = devAccount(DEV_ROLES.firstPayerIndex);
const minter = devAccount(DEV_ROLES.tokenAdminIndex);
const payTo = devAccount(7).address;
const READ_TOKEN_SECRET = "workers-scenario-read-token-secret-0123456789";
const QUALI_CALLBACK_SECRET = "workers-scenario-contract-secret";
const RP_ID = "rp_workers_scenario";
const APP_ID = "app_workers_scenario";
const RP_SIGNING_KEY = `0x${randomBytes(32).toString("hex")}` as const;
// The simulated World ID network this test plays (World App + nodes), sharing its key with the portal stand-in.
const NETWORK: SimulatedWorldIdNetwork = { key: new Uint8Array(randomBytes(32)), relyingParties: [{ rpId: RP_ID, signerAddress: privateKeyToAddress(RP_SIGNING_KEY) }] };

let anvil: AnvilProcess;
let facilitatorHttp: FacilitatorHttpServer;
let openai: OpenAIModerationStandin;
let portal: WorldIdStandin;
let hookA: Receiver;
let hookB: Receiver;
let worker: WranglerDev;
let stateDir: string;
let base: string;

const balances = async () => ({
  payer: await usdcBalanceOf(anvil.rpcUrl, USDC, payer.address),
  payTo: await usdcBalanceOf(anvil.rpcUrl, USDC, payTo),
});

const pay = () => payingFetch({ privateKey: payer.privateKey, network: BASE.network, asset: USDC, onlyThisNetwork: true });

async function createPaidPoll(overrides: Record<string, unknown>) {
  const response = await pay()(`${base}/api/v1/polls`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(pollBody(overrides)),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** A vote by one simulated human: the Worker signs the request, the test plays World App, the portal stand-in verifies. */
async function vote(pollId: string, optionId: string, human: string) {
  const payoutAddress = payoutAddressFor(human);
  const request = await requestWorldId(base, pollId, optionId, payoutAddress);
  if (request.status !== 200) return request;
  const view = request.body as WorldIdRequestView;
  expect(view.simulated).toBe(false);
  const proof = simulateWorldIdProof({ network: NETWORK, rpContext: view.idkit.rp_context, action: view.idkit.action, signal: view.signal, human });
  return castVote(base, pollId, { optionId, payoutAddress, proof, demographics: { country: human.endsWith("7") ? "DE" : "FR", ageBand: "25-34" } });
}

/** Runs scheduled() now, like the cron trigger (wrangler dev --test-scheduled). */
async function cronTick() {
  const response = await fetch(`${base}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
  expect(response.status).toBe(200);
  expect(await response.text()).toBe("Ran scheduled event");
}

beforeAll(async () => {
  anvil = await startAnvil({ chainId: BASE.chainId });
  await placeMulticall3(anvil.rpcUrl);
  await placeTokenAt(anvil.rpcUrl, USDC, { name: "USD Coin", version: "2", minter: minter.address });
  await mintUsdc(anvil.rpcUrl, minter.privateKey, USDC, payer.address, 10_000_000n);
  facilitatorHttp = await serveFacilitatorOverHttp(
    createLocalFacilitator({
      rpcUrl: anvil.rpcUrl,
      chainId: BASE.chainId,
      privateKey: devAccount(DEV_ROLES.facilitatorIndex).privateKey,
      networks: [BASE.network],
    }),
  );
  openai = await startOpenAIModerationStandin();
  portal = await startWorldIdStandin({ relyingParties: [{ rpId: RP_ID, appId: APP_ID }], networkKey: NETWORK.key });
  // Poll A's receiver refuses the first attempt (sent right after the completing vote) and takes the
  // retry, which only scheduled() sends.
  hookA = await startReceiver((_request, index) => (index === 0 ? { status: 503, body: "busy" } : { status: 200, body: "ok" }), "/hook-a");
  hookB = await startReceiver(undefined, "/hook-b");

  stateDir = mkdtempSync(join(tmpdir(), "quali-workers-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  await runWrangler(["d1", "migrations", "apply", "quali", "--local", "--persist-to", stateDir], stateDir);
  worker = await startWranglerDev({
    port,
    inspectorPort: await freePort(),
    stateDir,
    vars: {
      PUBLIC_BASE_URL: base,
      READ_TOKEN_SECRET,
      QUALI_CALLBACK_SECRET,
      X402_PAY_TO_ADDRESS_BASE: payTo,
      X402_FACILITATOR_URL: facilitatorHttp.url,
      RPC_URL_BASE: anvil.rpcUrl,
      OPENAI_API_KEY: openai.apiKey,
      OPENAI_BASE_URL: openai.url,
      WORLD_ID_APP_ID: APP_ID,
      WORLD_ID_RP_ID: RP_ID,
      WORLD_ID_SIGNING_KEY: RP_SIGNING_KEY,
      WORLD_ID_VERIFY_BASE_URL: portal.url,
      WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS: "true",
      // Every simulated human votes from this one loopback address: lift the per-IP voter-write ceiling
      // and the portal budget, as the bench does (their own tests cover them).
      RATE_LIMIT_VOTER_WRITES_PER_IP_PER_MINUTE: "0",
      WORLD_ID_PORTAL_CALLS_PER_MINUTE: "0",
    },
  });
}, 120_000);

afterAll(async () => {
  // On failure, what the Worker logged is the first thing to read.
  if (process.env.WORKERS_SCENARIO_LOG && worker) writeFileSync(process.env.WORKERS_SCENARIO_LOG, worker.output());
  await worker?.stop();
  await hookA?.close();
  await hookB?.close();
  await portal?.close();
  await openai?.close();
  await facilitatorHttp?.close();
  await anvil?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("on Cloudflare Workers (wrangler dev --local, D1, production mode)", () => {
  let pollA: Record<string, any>;

  it("quotes Base USDC with the production network table", async () => {
    const response = await fetch(`${base}/api/v1/quote?maxResponses=100`);
    expect(response.status).toBe(200);
    const quote = (await response.json()) as { paymentRequired: { accepts: Record<string, unknown>[]; resource: { url: string } } };
    expect(quote.paymentRequired.accepts).toEqual([
      {
        scheme: "exact",
        network: "eip155:8453",
        amount: "500000",
        asset: USDC,
        payTo,
        maxTimeoutSeconds: 120,
        extra: { name: "USD Coin", version: "2" },
      },
    ]);
    expect(quote.paymentRequired.resource.url).toBe(`${base}/api/v1/polls`);
    // @x402/hono's start-up self-check of this declaration cannot compile its JSON Schema validator on
    // Workers (no code generation from strings) and only warns; the declaration itself is served.
    expect(quote.paymentRequired).toHaveProperty("extensions.bazaar.info.input.body");
  });

  it("rejects content through OpenAI moderation without settling the payment", async () => {
    const before = await balances();
    const moderated = openai.requests.length;
    const { status, body } = await createPaidPoll({ question: "Should we kill the old logo?" });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: "content_rejected", param: "question" });
    expect(openai.requests.length).toBeGreaterThan(moderated);
    expect(await balances()).toEqual(before);
  });

  it("refuses a callback URL that is an IP literal, before any challenge", async () => {
    const response = await fetch(`${base}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(pollBody({ callbackUrl: "https://93.184.215.14/hook" })),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("payment-required")).toBeNull();
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe("callbackUrl");
  });

  it("creates a paid poll: USDC moves on chain and the poll is stored in D1", async () => {
    const before = await balances();
    const { status, body } = await createPaidPoll({ maxResponses: 100, callbackUrl: hookA.url, options: [{ text: "Option A" }, { text: "Option B" }, { text: "Option C" }] });
    expect(status).toBe(201);
    pollA = body;
    expect(body.payment).toMatchObject({ network: BASE.network, networkLabel: "Base", amountAtomic: "500000" });
    expect(body.payment.payer.toLowerCase()).toBe(payer.address.toLowerCase());
    expect(body.callbackSecret).toMatch(/^whsec_/);
    const after = await balances();
    expect(before.payer - after.payer).toBe(500_000n);
    expect(after.payTo - before.payTo).toBe(500_000n);
    const receipt = await publicClientFor(anvil.rpcUrl).getTransactionReceipt({ hash: body.payment.txHash });
    expect(receipt.status).toBe("success");
    const poll = await (await fetch(`${base}/api/v1/polls/${body.id}`)).json();
    expect(poll).toMatchObject({ id: body.id, status: "active", maxResponses: 100 });
  });

  // Live progress (GET /events): on Workers each stream reads D1 on an interval for itself.
  let progress: OpenedStream;
  it("opens the poll's event stream with its read token: progress at once", async () => {
    expect((await fetch(`${base}/api/v1/polls/${pollA.id}/events`)).status).toBe(401);
    progress = await openEventStream(`${base}/api/v1/polls/${pollA.id}/events`, { "x-read-token": pollA.readToken });
    expect(progress.response.status).toBe(200);
    expect(progress.response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const [first] = await progress.waitForEvents(1);
    expect(first).toMatchObject({ event: "progress", lastEventId: "0" });
  });

  it("takes 100 World ID-verified votes, completes the poll and refuses the 101st", async () => {
    const options = ((await (await fetch(`${base}/api/v1/polls/${pollA.id}`)).json()) as { options: { id: string }[] }).options.map((o) => o.id);
    pollA.optionIds = options;
    const verifiedBefore = portal.requests.length;
    const answers = await mapLimit(Array.from({ length: 100 }, (_, i) => i), 6, (i) => vote(pollA.id, options[i % 3]!, `human-${i}`));
    expect(answers.map((a) => a.status)).toEqual(new Array(100).fill(201));
    expect(portal.requests.length - verifiedBefore).toBe(100);
    const last = answers.find((a) => (a.body as { poll: { status: string } }).poll.status === "completed");
    expect(last).toBeDefined();

    const extra = await vote(pollA.id, options[0]!, "human-late");
    expect(extra.status).toBe(409);
    // One human, one vote: the same nullifier again is refused by D1's UNIQUE index, not by the portal.
    const poll = await (await fetch(`${base}/api/v1/polls/${pollA.id}`)).json();
    expect(poll).toMatchObject({ status: "completed", voteCount: 100 });
  });

  it("streamed progress while the votes landed, then `completed` once, and ended the stream", async () => {
    expect((await progress.ended).error).toBeUndefined();
    const names = progress.events.map((e) => e.event);
    expect(names.filter((n) => n === "completed"), JSON.stringify(progress.events)).toHaveLength(1);
    expect(names.at(-1)).toBe("completed");
    // From the empty poll to the full one (votes that land between two reads of D1 arrive as one event).
    const counts = progress.events.filter((e) => e.event === "progress").map((e) => Number(e.lastEventId));
    expect(counts[0]).toBe(0);
    expect(counts.at(-1)).toBe(100);
    expect(counts).toEqual([...new Set(counts)].sort((a, b) => a - b));
    expect(dataOf(progress.events.at(-1)!)).toMatchObject({ pollId: pollA.id, status: "completed", voteCount: 100, maxResponses: 100, completedAt: expect.any(String) });
  });

  it("answers results and paginates the votes with the read token", async () => {
    const headers = { "x-read-token": pollA.readToken as string };
    const results = (await (await fetch(`${base}/api/v1/polls/${pollA.id}/results`, { headers })).json()) as Record<string, any>;
    expect(results).toMatchObject({ pollId: pollA.id, status: "completed", voteCount: 100, maxResponses: 100 });
    const counts = Object.fromEntries(results.options.map((o: { id: string; count: number }) => [o.id, o.count]));
    expect(pollA.optionIds.map((id: string) => counts[id])).toEqual([34, 33, 33]);
    expect(results.demographics.country.find((c: { value: string }) => c.value === "DE").count).toBe(10);

    const seen = new Set<string>();
    const pages: number[] = [];
    let cursor: string | null = null;
    do {
      const url = `${base}/api/v1/polls/${pollA.id}/votes?limit=30${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = (await (await fetch(url, { headers })).json()) as { votes: { id: string; createdAt: string }[]; nextCursor: string | null };
      pages.push(page.votes.length);
      for (const v of page.votes) seen.add(v.id);
      cursor = page.nextCursor;
    } while (cursor);
    expect(pages).toEqual([30, 30, 30, 10]);
    expect(seen.size).toBe(100);

    // The CSV export streams every vote from D1: the same ids as the JSON pages.
    const csv = await fetch(`${base}/api/v1/polls/${pollA.id}/votes?format=csv`, { headers });
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const lines = (await csv.text()).split("\r\n").filter(Boolean);
    expect(lines).toHaveLength(101);
    expect(new Set(lines.slice(1).map((line) => line.split(",")[0]))).toEqual(seen);
    expect((await fetch(`${base}/api/v1/polls/${pollA.id}/results`)).status).toBe(401);
  });

  it("sends poll.completed right after the completing vote and retries it from scheduled()", async () => {
    // Attempt 1 went out after the completing vote's response (ctx.waitUntil) and got a 503.
    const [first] = await hookA.waitFor(1);
    expect(first!.headers.get("x-quali-attempt")).toBe("1");
    const history = async () =>
      ((await (await fetch(`${base}/api/v1/polls/${pollA.id}/deliveries`, { headers: { "x-read-token": pollA.readToken } })).json()) as {
        deliveries: { state: string; attempts: number; lastStatus: number; nextAttemptAt: string | null }[];
      }).deliveries;
    // Up to 30 s: the deadline only bounds a failure (a loaded machine records the attempt later).
    for (let i = 0; i < 300 && (await history())[0]?.state !== "pending"; i += 1) await new Promise((r) => setTimeout(r, 100));
    const pending = (await history())[0]!;
    expect(pending).toMatchObject({ state: "pending", attempts: 1, lastStatus: 503 });

    // About a minute after the attempt (measured from its arrival, not from however long the wait took).
    expect(Date.parse(pending.nextAttemptAt!) - first!.receivedAt).toBeGreaterThan(40_000);

    // The retry is due in about a minute: make it due now, then the cron tick sends it.
    expect(writeLocalD1(stateDir, "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE poll_id = ?", new Date(Date.now() - 1_000).toISOString(), pollA.id)).toBe(1);
    await cronTick();
    const received = await hookA.waitFor(2);
    const retry = received[1]!;
    expect(retry.headers.get("x-quali-attempt")).toBe("2");
    expect(retry.headers.get("x-quali-event")).toBe("poll.completed");
    const verdict = verifyQualiWebhook(
      retry.headers,
      retry.rawBody,
      { callbackSecret: pollA.callbackSecret, qualiCallbackSecret: QUALI_CALLBACK_SECRET },
      new Set(),
    );
    expect(verdict).toMatchObject({ ok: true, event: "poll.completed" });
    expect(retry.headers.get("x-quali-delivery")).toBe(first!.headers.get("x-quali-delivery"));
    expect(retry.rawBody).toBe(first!.rawBody);
    expect(JSON.parse(retry.rawBody)).toEqual({
      pollId: pollA.id,
      status: "completed",
      voteCount: 100,
      maxResponses: 100,
      completedAt: expect.any(String),
      resultsUrl: `${base}/api/v1/polls/${pollA.id}/results`,
      votesUrl: `${base}/api/v1/polls/${pollA.id}/votes`,
      readToken: pollA.readToken,
    });
    expect((await history())[0]).toMatchObject({ state: "delivered", attempts: 2, lastStatus: 200 });
  });

  it("expires a poll from scheduled() and delivers poll.expired in the same run", async () => {
    const expiresAt = new Date(Date.now() + 6 * 60_000);
    const { status, body } = await createPaidPoll({ maxResponses: 100, expiresAt: expiresAt.toISOString(), callbackUrl: hookB.url });
    expect(status).toBe(201);
    const view = (await (await fetch(`${base}/api/v1/voter/polls/${body.id}`)).json()) as { options: { id: string }[] };
    for (const human of ["b-1", "b-2"]) expect((await vote(body.id, view.options[0]!.id, human)).status).toBe(201);

    // Its expiry passes (no vote notices it), then the cron tick's sweep expires it and sends the webhook.
    expect(writeLocalD1(stateDir, "UPDATE polls SET expires_at = ? WHERE id = ?", new Date(Date.now() - 1_000).toISOString(), body.id)).toBe(1);
    expect(hookB.received).toHaveLength(0);
    await cronTick();
    const [delivery] = await hookB.waitFor(1);
    expect(delivery!.headers.get("x-quali-event")).toBe("poll.expired");
    expect(JSON.parse(delivery!.rawBody)).toMatchObject({ pollId: body.id, status: "expired", voteCount: 2, readToken: body.readToken });
    const poll = await (await fetch(`${base}/api/v1/polls/${body.id}`)).json();
    expect(poll).toMatchObject({ status: "expired", voteCount: 2 });
    // The refund of the 98 unfilled responses is recorded and queued here too (this Worker has no payout key: nothing is sent).
    const refund = { status: "pending", amountAtomic: "490000", amountUsdc: 0.49, txHash: null };
    expect(poll).toMatchObject({ refundPolicy: "unfilled", refund });
    expect(JSON.parse(delivery!.rawBody)).toMatchObject({ refund });
    // In D1: one refund row, queued by the cron's sweep (a no-op UPDATE counts the rows that match).
    const queued = "UPDATE payouts SET updated_at = updated_at WHERE kind = 'refund' AND poll_id = ? AND status = 'claimed' AND amount_atomic = '490000'";
    expect(writeLocalD1(stateDir, queued, body.id)).toBe(1);
  });

  it("serves discovery, the voter pages from static assets, and no simulated World ID", async () => {
    const openapi = await fetch(`${base}/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(((await openapi.json()) as { paths: Record<string, unknown> }).paths).toHaveProperty("/api/v1/polls");
    const docs = await fetch(`${base}/docs`);
    expect(docs.status).toBe(200);
    const bundle = (await docs.text()).match(/src="([^"]*swagger-ui-bundle\.js)"/)?.[1];
    expect(bundle).toBeDefined();
    expect((await fetch(`${base}${bundle}`)).status).toBe(200);
    expect((await fetch(`${base}/favicon.ico`)).headers.get("content-type")).toMatch(/icon/);
    expect((await fetch(`${base}/agents.md`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    const report = (await ready.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> };
    expect(report.checks).toMatchObject({ database: { ok: true }, "chain:eip155:8453": { ok: true }, facilitator: { ok: true }, moderation: { ok: true } });
    expect(ready.status).toBe(200);

    // Page routes go through the app to their HTML file in the ASSETS binding.
    for (const path of ["/", `/polls/${pollA.id}`, `/polls/${pollA.id}/results`, "/rewards"]) {
      const page = await fetch(`${base}${path}`);
      expect(page.status, path).toBe(200);
      expect(page.headers.get("content-type"), path).toMatch(/text\/html/);
      expect(page.headers.get("content-security-policy"), path).toContain("default-src 'self'");
    }
    // As on Node, the HTML files themselves are not served under their own names; the rest of public/ is.
    expect((await fetch(`${base}/poll.html`)).status).toBe(404);
    for (const name of readdirSync(join(REPO_ROOT, "public", "assets"))) {
      expect((await fetch(`${base}/assets/${name}`)).status, name).toBe(200);
    }
    // Every vendored browser build the pages load, bundled with the Worker.
    for (const vendored of VENDORED) {
      const { version } = installedPackage(vendored.packageName);
      for (const file of vendored.files) {
        const path = `${VENDOR_PREFIX}/${vendored.name}/${version}/${file}`;
        expect((await fetch(`${base}${path}`)).status, path).toBe(200);
      }
    }

    const simulated = await fetch(`${base}/api/v1/voter/simulated-proof`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: "a", signal: "s", rpContext: { rp_id: RP_ID, nonce: "0x01", created_at: 1, expires_at: 2, signature: "0x" } }),
    });
    expect(simulated.status).toBe(404);
    expect(worker.output()).not.toMatch(/SIMULATED|local-word-list/);
  });
});
