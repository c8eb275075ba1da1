// "Voters can report a poll from its page; the operator sees the reports and takes a poll down with the
// admin API or `npm run admin`, guarded by ADMIN_TOKEN." A report is a reason from a short list, needs no
// World ID, is rate-limited per client IP and counts once per address. A taken-down poll leaves the feed,
// refuses votes, answers status removed (its results stay readable with its read token only), its creator's
// webhook says so, and every admin action is recorded with who and why. The admin API is off without
// ADMIN_TOKEN, and refuses a missing or wrong token (token guessing) without changing anything.
import { spawn } from "node:child_process";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, prepareVote, submitPrepared, voteAsSimulatedHuman } from "../scripts/lib/voter";
import { startLocalService, type LocalService } from "./support/harness";
import { collectProblems, launchBrowser, newContext } from "./support/browser";
import { inProcessApp } from "./support/in-process";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { startReceiver, type Receiver } from "./support/webhook-receiver";

const ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef";
const REPORTS_PER_MINUTE = 3;

let service: LocalService;
let hook: Receiver;
let browser: Browser;
let reported: CreatedPoll;
/** Every log line of the service, with its structured fields. */
const logs: string[] = [];
let target: CreatedPoll;

/** Each call from its own client address (TRUST_PROXY_HOPS=1), unless one is given. */
let nextClient = 0;
const clientAddress = () => `203.0.113.${++nextClient}`;
const report = (pollId: string, body: unknown, ip = clientAddress()) =>
  fetch(`${service.url}/api/v1/polls/${pollId}/reports`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
const admin = (path: string, init: RequestInit & { token?: string | null } = {}) => {
  const { token = ADMIN_TOKEN, ...rest } = init;
  return fetch(`${service.url}/admin/api/v1${path}`, {
    ...rest,
    headers: { "content-type": "application/json", "x-forwarded-for": clientAddress(), ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
  });
};
const takedown = (pollId: string, body: unknown, token?: string | null) => admin(`/polls/${pollId}/takedown`, { method: "POST", body: JSON.stringify(body), token });
const pollRow = (id: string) => service.store.db.selectFrom("polls").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
const reportRows = (pollId: string) => service.store.db.selectFrom("reports").selectAll().where("poll_id", "=", pollId).execute();
const feedIds = async () => ((await (await fetch(`${service.url}/api/v1/voter/polls?limit=100`)).json()) as { polls: { id: string }[] }).polls.map((p) => p.id);

/** `npm run admin -- <args>` as the operator runs it; resolves with its exit code and output. */
function npmRunAdmin(args: string[], token: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", "admin", "--", ...args, "--url", service.url], {
      env: { ...process.env, ADMIN_TOKEN: token, MODE: "local" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

beforeAll(async () => {
  hook = await startReceiver();
  [service, browser] = await Promise.all([
    startLocalService({
      ADMIN_TOKEN,
      RATE_LIMIT_REPORTS_PER_IP_PER_MINUTE: String(REPORTS_PER_MINUTE),
      TRUST_PROXY_HOPS: "1",
      WEBHOOK_DISPATCH_INTERVAL_MS: "100",
    }, { log: (line: string, fields?: Record<string, unknown>) => logs.push(fields ? `${line} ${JSON.stringify(fields)}` : line) }),
    launchBrowser(),
  ]);
  reported = await createPaidPoll(service, { question: "Reported poll?", maxResponses: 100 }, 0);
  target = await createPaidPoll(service, { question: "Taken down?", maxResponses: 100, callbackUrl: hook.url, publicResults: true }, 1);
});
afterAll(async () => {
  await browser?.close();
  await service?.stop();
  await hook?.close();
});

describe("reports", () => {
  it("are sent from the voter page's 'Report this poll' control, with no World ID", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = collectProblems(page);
    await page.goto(`${service.url}/polls/${reported.id}`);
    await page.locator("main[data-ready=true]").waitFor();
    await page.locator("#report summary").click();
    await page.selectOption("#report-reason", "misleading");
    await page.fill("#report-note", "Claims to be from a bank.");
    await page.click("#report-send");
    await page.locator("#report-done").waitFor();
    expect(await reportRows(reported.id)).toMatchObject([{ reason: "misleading", note: "Claims to be from a bank." }]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("refuse bad input with the error envelope and store nothing", async () => {
    const before = (await reportRows(reported.id)).length;
    const cases: [unknown, string | undefined][] = [
      [{ reason: "boring" }, "reason"],
      [{}, "reason"],
      [{ reason: "spam", note: "x".repeat(501) }, "note"],
      [{ reason: "spam", extra: true }, undefined],
      ["{not json", undefined],
    ];
    for (const [body] of cases) {
      const answer = await report(reported.id, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      const envelope = (await answer.json()) as { error: { code: string; message: string; param?: string } };
      expect(envelope.error.message.length).toBeGreaterThan(0);
      expect(["validation_error", "invalid_json"]).toContain(envelope.error.code);
    }
    const unknown = await report("3f0c2a8e-6a4b-4c1d-9f7e-2b5d8c1a9e40", { reason: "spam" });
    expect(unknown.status).toBe(404);
    expect((await reportRows(reported.id)).length).toBe(before);
  });

  it("count once per client address: a repeat answers the same 202 and changes nothing", async () => {
    const ip = clientAddress();
    const first = await report(reported.id, { reason: "spam" }, ip);
    const again = await report(reported.id, { reason: "offensive", note: "changed my mind" }, ip);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(await again.text()).toBe(JSON.stringify({ pollId: reported.id, received: true }));
    const rows = await reportRows(reported.id);
    expect(rows.filter((r) => r.reason === "spam")).toHaveLength(1);
    expect(rows.filter((r) => r.reason === "offensive")).toHaveLength(0);
    // The reporter is a keyed hash, never the address.
    expect(JSON.stringify(rows)).not.toContain(ip);
  });

  it(`are rate-limited per client address (${REPORTS_PER_MINUTE} a minute): report flooding is refused with 429`, async () => {
    const ip = clientAddress();
    const polls = [reported.id, target.id, reported.id, target.id];
    const answers = [];
    for (const pollId of polls) answers.push(await report(pollId, { reason: "other" }, ip));
    expect(answers.slice(0, REPORTS_PER_MINUTE).map((a) => a.status)).toEqual([202, 202, 202]);
    expect(answers[REPORTS_PER_MINUTE]!.status).toBe(429);
    expect(answers[REPORTS_PER_MINUTE]!.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await answers[REPORTS_PER_MINUTE]!.json()).toMatchObject({ error: { code: "rate_limited", details: { rule: "reports-per-ip" } } });
    // Another address is not affected.
    expect((await report(target.id, { reason: "other" })).status).toBe(202);
  });

  it("are listed for the operator per poll with counts, most recently reported first", async () => {
    expect((await report(target.id, { reason: "illegal", note: "newest" })).status).toBe(202);
    const answer = await admin("/reports");
    expect(answer.status).toBe(200);
    const { polls } = (await answer.json()) as { polls: { pollId: string; reports: number; reasons: Record<string, number>; latestReportAt: string; recent: { note: string | null }[] }[] };
    expect(polls.map((p) => p.pollId)).toEqual([target.id, reported.id]);
    const stored = (id: string) => reportRows(id).then((rows) => rows.length);
    expect(polls[0]!.reports).toBe(await stored(target.id));
    expect(polls[0]!.reasons.illegal).toBe(1);
    expect(polls[0]!.recent[0]!.note).toBe("newest");
    expect(polls[1]!.reports).toBe(await stored(reported.id));
    expect(polls[1]!.reasons).toMatchObject({ misleading: 1, spam: 1 });
    expect(polls[0]!.latestReportAt >= polls[1]!.latestReportAt).toBe(true);
  });
});

describe("the admin API's guard", () => {
  it("refuses a request without the admin token (401) and a guessed one (403: token guessing), changing nothing", async () => {
    const before = await pollRow(target.id);
    const none = await takedown(target.id, { reason: "spam", actor: "mallory" }, null);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("admin_token_missing");
    const guesses = [
      `${ADMIN_TOKEN.slice(0, -1)}x`, // all but the last character right
      ADMIN_TOKEN.slice(0, -1), // a prefix
      `${ADMIN_TOKEN}0`, // the token and more
      ADMIN_TOKEN.toUpperCase(),
      reported.readToken, // a poll's read token is not an admin token
    ];
    for (const guess of guesses) {
      const answer = await takedown(target.id, { reason: "spam", actor: "mallory" }, guess);
      expect(answer.status, guess).toBe(403);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe("admin_token_invalid");
      expect((await admin("/reports", { token: guess })).status).toBe(403);
    }
    expect(await pollRow(target.id)).toEqual(before);
    expect(await service.store.db.selectFrom("admin_actions").selectAll().execute()).toEqual([]);
    // Refusals are logged without the token that was sent, and the real one never appears.
    const text = logs.join("\n");
    expect(text).toContain("admin request refused");
    for (const secret of [ADMIN_TOKEN, ...guesses]) expect(text).not.toContain(secret);
  });

  it("is off without ADMIN_TOKEN: 503 admin_not_configured, with or without a token", async () => {
    const app = inProcessApp();
    try {
      const id = await app.insertPoll();
      const variants: Record<string, string>[] = [{}, { authorization: `Bearer ${ADMIN_TOKEN}` }];
      for (const headers of variants) {
        const answer = await app.request(`/admin/api/v1/polls/${id}/takedown`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ reason: "x", actor: "y" }) });
        expect(answer.status).toBe(503);
        expect(((await answer.json()) as { error: { code: string } }).error.code).toBe("admin_not_configured");
        expect((await app.request("/admin/api/v1/reports", { headers })).status).toBe(503);
      }
      expect((await app.store.db.selectFrom("polls").select("status").where("id", "=", id).executeTakeFirstOrThrow()).status).toBe("active");
      // Reports still work: they need no admin.
      expect((await app.postJson(`/api/v1/polls/${id}/reports`, { reason: "spam" })).status).toBe(202);
    } finally {
      await app.close();
    }
  });

  it("is not in the public /openapi.json", async () => {
    const document = (await (await fetch(`${service.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths).filter((path) => path.includes("/admin"))).toEqual([]);
    expect(Object.keys(document.paths)).toContain("/api/v1/polls/{id}/reports");
  });
});

describe("takedowns", () => {
  it("through the admin API: the poll leaves the feed, refuses votes, reads as removed, and its webhook says so", async () => {
    for (let i = 0; i < 2; i++) {
      expect((await voteAsSimulatedHuman(service.url, { pollId: target.id, optionId: target.options[0]!.id, human: `takedown-${i}` })).status).toBe(201);
    }
    const pending = await prepareVote(service.url, { pollId: target.id, optionId: target.options[1]!.id, human: "takedown-late" });
    if ("failed" in pending) throw new Error(JSON.stringify(pending.failed));
    expect(await feedIds()).toContain(target.id);
    expect((await fetch(`${service.url}/api/v1/polls/${target.id}/results`)).status).toBe(200); // public results, for now

    const bad = await takedown(target.id, { reason: "illegal content" });
    expect(bad.status).toBe(400);
    expect((await pollRow(target.id)).status).toBe("active");

    const answer = await takedown(target.id, { reason: "illegal content (report by voters)", actor: "ops-alice" });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { status: string; previousStatus: string; outcome: string; webhook: boolean; action: { actor: string; reason: string } };
    expect(body).toMatchObject({ status: "removed", previousStatus: "active", outcome: "applied", webhook: true, action: { actor: "ops-alice", reason: "illegal content (report by voters)" } });

    const row = await pollRow(target.id);
    expect(row.status).toBe("removed");
    expect(row.completed_at).not.toBeNull();
    expect(await feedIds()).not.toContain(target.id);
    const late = await submitPrepared(service.url, pending.prepared);
    expect(late.status).toBe(409);
    expect(errorCode(late)).toBe("poll_removed");
    const fresh = await voteAsSimulatedHuman(service.url, { pollId: target.id, optionId: target.options[0]!.id, human: "takedown-after" });
    expect(errorCode(fresh)).toBe("poll_removed");
    expect((await pollRow(target.id)).vote_count).toBe(2);

    const read = (await (await fetch(`${service.url}/api/v1/polls/${target.id}`)).json()) as { status: string };
    expect(read.status).toBe("removed");
    // Public no more: the results need the read token now, and are still there with it.
    expect((await fetch(`${service.url}/api/v1/polls/${target.id}/results`)).status).toBe(401);
    const results = await fetch(`${service.url}/api/v1/polls/${target.id}/results`, { headers: { "x-read-token": target.readToken } });
    expect(results.status).toBe(200);
    expect(await results.json()).toMatchObject({ status: "removed", voteCount: 2 });

    const [received] = await hook.waitFor(1, 10_000);
    expect(received!.headers.get("x-quali-event")).toBe("poll.completed");
    expect(JSON.parse(received!.rawBody)).toMatchObject({ pollId: target.id, status: "removed", voteCount: 2, maxResponses: 100, completedAt: row.completed_at, readToken: target.readToken });

    // Recorded with who and why: the admin_actions row and a log line, never the token.
    const actions = await service.store.db.selectFrom("admin_actions").selectAll().where("poll_id", "=", target.id).execute();
    expect(actions).toMatchObject([{ action: "takedown", actor: "ops-alice", reason: "illegal content (report by voters)", outcome: "applied" }]);
    const line = logs.find((l) => l.startsWith("admin action") && l.includes(target.id));
    expect(line).toContain('"actor":"ops-alice"');
    expect(line).toContain('"reason":"illegal content (report by voters)"');
    expect(line).toContain('"requestId"');
    expect(logs.join("\n")).not.toContain(ADMIN_TOKEN);
  });

  it("the voter page of a removed poll says it was taken down and no longer shows its content", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${service.url}/polls/${target.id}`);
    await page.locator("main[data-ready=true]").waitFor();
    expect(await page.locator("#removed h1").textContent()).toBe("This poll was taken down");
    expect(await page.locator("main").textContent()).not.toContain("Taken down?");
    await context.close();
  });

  it("is idempotent: taking down a removed poll changes nothing, sends nothing, and is still recorded", async () => {
    const before = await pollRow(target.id);
    const answer = await takedown(target.id, { reason: "double-check", actor: "ops-bob" });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ status: "removed", previousStatus: "removed", outcome: "unchanged", webhook: false });
    expect(await pollRow(target.id)).toEqual(before);
    expect(await service.store.db.selectFrom("webhook_deliveries").selectAll().where("poll_id", "=", target.id).execute()).toHaveLength(1);
    const actions = await service.store.db.selectFrom("admin_actions").select(["actor", "outcome"]).where("poll_id", "=", target.id).orderBy("created_at").execute();
    expect(actions).toEqual([
      { actor: "ops-alice", outcome: "applied" },
      { actor: "ops-bob", outcome: "unchanged" },
    ]);
    expect((await takedown("3f0c2a8e-6a4b-4c1d-9f7e-2b5d8c1a9e40", { reason: "x", actor: "y" })).status).toBe(404);
  });

  it("through `npm run admin`: list-reports, takedown, list-actions; a wrong token is refused", { timeout: 90_000 }, async () => {
    const listed = await npmRunAdmin(["list-reports"], ADMIN_TOKEN);
    expect(listed.code, listed.output).toBe(0);
    expect(listed.output).toContain(reported.id);
    expect(listed.output).toContain("Claims to be from a bank.");

    const refused = await npmRunAdmin(["takedown", reported.id, "--reason", "misleading", "--actor", "mallory"], `${ADMIN_TOKEN.slice(0, -1)}x`);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain("admin_token_invalid");
    expect((await pollRow(reported.id)).status).toBe("active");

    const done = await npmRunAdmin(["takedown", reported.id, "--reason", "misleading: impersonates a bank", "--actor", "ops-carol"], ADMIN_TOKEN);
    expect(done.code, done.output).toBe(0);
    expect(done.output).toContain(`poll ${reported.id} taken down (was active)`);
    expect(done.output).not.toContain(ADMIN_TOKEN);
    expect((await pollRow(reported.id)).status).toBe("removed");
    expect(await feedIds()).not.toContain(reported.id);

    const actions = await npmRunAdmin(["list-actions", "--poll", reported.id], ADMIN_TOKEN);
    expect(actions.code).toBe(0);
    expect(actions.output).toContain("by ops-carol (applied): misleading: impersonates a bank");
  });

  it("of a poll that already ended takes its content out of view without a second webhook", async () => {
    const done = await createPaidPoll(service, { maxResponses: 100, callbackUrl: hook.url }, 2);
    await service.store.db.updateTable("polls").set({ vote_count: 99 }).where("id", "=", done.id).execute();
    expect((await voteAsSimulatedHuman(service.url, { pollId: done.id, optionId: done.options[0]!.id, human: "completes" })).status).toBe(201);
    await expect.poll(() => hook.received.some((r) => r.rawBody.includes(done.id)), { timeout: 10_000 }).toBe(true);
    const answer = await takedown(done.id, { reason: "offensive", actor: "ops-alice" });
    expect(await answer.json()).toMatchObject({ previousStatus: "completed", outcome: "applied", webhook: false });
    expect((await pollRow(done.id)).status).toBe("removed");
    const deliveries = await service.store.db.selectFrom("webhook_deliveries").select("body").where("poll_id", "=", done.id).execute();
    expect(deliveries).toHaveLength(1);
    expect(JSON.parse(deliveries[0]!.body)).toMatchObject({ status: "completed" });
  });
});
