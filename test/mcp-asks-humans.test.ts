// An agent's whole errand through the MCP server, with the SDK's own client over stdio against the
// service in local mode (real chain, real x402 payment, simulated World ID voters): price a poll, pay
// for it (exactly the price moves on chain), follow the voters with progress notifications until the
// final results, read and list them. The read token stays in a 0600 file the agent never sees; input the
// tool schemas refuse never reaches the service; bad configuration stops the server at start.
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import { usdcBalanceOf } from "../src/devnet/chain";
import { PROJECT_ROOT } from "../src/project-paths";
import { binCommand, data, freshHome as newHome, readDevnet, startCountingService, startMcp, text, type DevnetFile, type McpSession } from "./support/mcp";
import { startServerProcess, type ServerProcess } from "./support/server-process";

let dataDir: string;
let service: ServerProcess;
let devnet: DevnetFile;
let home: string;
let mcp: McpSession;
const homes: string[] = [];
const freshHome = () => {
  const dir = newHome();
  homes.push(dir);
  return dir;
};

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "quali-mcp-service-"));
  service = await startServerProcess({ DATA_DIR: dataDir });
  devnet = readDevnet(dataDir);
  home = freshHome();
  mcp = await startMcp({ QUALI_BASE_URL: service.url, QUALI_PAYER_PRIVATE_KEY: devnet.payers[0]!.privateKey, QUALI_MCP_HOME: home });
});
afterAll(async () => {
  await mcp?.close();
  await service?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  for (const dir of homes) rmSync(dirname(dir), { recursive: true, force: true });
});

const balanceOf = (address: `0x${string}`) => usdcBalanceOf(devnet.rpcUrl, devnet.asset, address);

/** Runs `npm run simulate-voters` against the service; resolves with its exit code. */
function simulateVoters(pollId: string, votes: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/simulate-voters.ts", "--poll", pollId, "--votes", String(votes), "--base-url", service.url], {
      cwd: PROJECT_ROOT,
      stdio: "ignore",
    });
    child.on("exit", (code) => resolve(code));
  });
}

describe("the MCP server asks humans", () => {
  it("offers five tools whose schemas and descriptions say units, limits and cost", async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["create_poll", "get_poll_results", "list_my_polls", "quote_poll", "wait_for_poll"]);
    const byName = new Map(tools.map((t) => [t.name, t]));
    const create = byName.get("create_poll")!;
    expect(create.description).toContain("COSTS MONEY");
    expect(create.description).toContain("QUALI_MAX_USDC_PER_POLL");
    expect(create.description).toContain("QUALI_MAX_USDC_PER_DAY");
    expect(create.inputSchema.required).toEqual(expect.arrayContaining(["question", "options", "maxResponses"]));
    expect(create.inputSchema.properties!.maxResponses).toMatchObject({ type: "integer", minimum: 100, maximum: 1_000_000 });
    expect(create.annotations).toMatchObject({ readOnlyHint: false, idempotentHint: false });
    for (const name of ["quote_poll", "get_poll_results", "wait_for_poll", "list_my_polls"]) {
      expect(byName.get(name)!.description).toMatch(/Free/);
      expect(byName.get(name)!.annotations?.readOnlyHint).toBe(true);
    }
    expect(byName.get("wait_for_poll")!.inputSchema.properties!.timeoutSeconds).toMatchObject({ type: "integer", description: expect.stringContaining("seconds") });
  });

  it("quote_poll prices a poll in USDC decimal strings and moves no money", async () => {
    const before = await balanceOf(devnet.payers[0]!.address);
    const result = await mcp.client.callTool({ name: "quote_poll", arguments: { maxResponses: 100 } });
    expect(result.isError).toBeFalsy();
    expect(data(result)).toMatchObject({
      maxResponses: 100,
      priceUsdc: "0.5",
      priceAtomic: "500000",
      networks: [{ network: devnet.network, priceUsdc: "0.5", asset: devnet.asset }],
      payOnNetwork: devnet.network,
      createPollAllowed: true,
      limits: { maxUsdcPerPoll: "1", maxUsdcPerDay: "10", spentUsdcLast24h: "0", leftUsdcLast24h: "10" },
    });
    expect(await balanceOf(devnet.payers[0]!.address)).toBe(before);
  });

  it("create_poll pays exactly the price, keeps the read token to itself, and wait_for_poll follows the voters to the final results", async () => {
    const payer = devnet.payers[0]!.address;
    const before = { payer: await balanceOf(payer), payTo: await balanceOf(devnet.payTo) };
    const created = await mcp.client.callTool({
      name: "create_poll",
      arguments: {
        question: "Which name is clearer for a note-taking app?",
        options: [{ text: "Jot" }, { text: "Notably" }, { text: "Scribbly" }],
        maxResponses: 100,
        durationMinutes: 60,
      },
    });
    expect(created.isError, text(created)).toBeFalsy();
    const poll = data(created) as { pollId: string; url: string; status: string; payment: { txHash: string; amountUsdc: string; network: string; payer: string } };
    expect(poll.pollId).toMatch(/^[0-9a-f-]{36}$/);
    expect(poll.url).toBe(`${service.url}/polls/${poll.pollId}`);
    expect(poll.status).toBe("active");
    expect(poll.payment).toEqual({ network: devnet.network, txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/), amountUsdc: "0.5", payer: expect.any(String) });
    expect(poll.payment.payer.toLowerCase()).toBe(payer.toLowerCase());
    // Exactly the price, from the payer to the service's pay-to address.
    expect(before.payer - (await balanceOf(payer))).toBe(500_000n);
    expect((await balanceOf(devnet.payTo)) - before.payTo).toBe(500_000n);

    // The read token: in a file only this user can read, never in what the agent sees.
    const tokenFile = join(home, "polls", `${poll.pollId}.json`);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, "polls")).mode & 0o777).toBe(0o700);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(tokenFile, "utf8")) as { readToken: string };
    expect(stored.readToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(created)).not.toContain(stored.readToken);
    const tokenAnswer = await fetch(`${service.url}/api/v1/polls/${poll.pollId}/results`, { headers: { authorization: `Bearer ${stored.readToken}` } });
    expect(tokenAnswer.status).toBe(200);

    // A timeout is an answer, not an error.
    const early = await mcp.client.callTool({ name: "wait_for_poll", arguments: { pollId: poll.pollId, timeoutSeconds: 1 } });
    expect(early.isError, text(early)).toBeFalsy();
    expect(data(early)).toMatchObject({ outcome: "timeout", timedOut: true, status: "active", voteCount: 0 });

    const progress: Progress[] = [];
    const waiting = mcp.client.callTool(
      { name: "wait_for_poll", arguments: { pollId: poll.pollId, timeoutSeconds: 120 } },
      undefined,
      { onprogress: (p) => progress.push(p), timeout: 150_000, resetTimeoutOnProgress: true },
    );
    // The first notification (the poll as it stands) says the wait is following the poll: then the voters come.
    await vi.waitUntil(() => progress.length > 0, { timeout: 30_000, interval: 20 });
    expect(await simulateVoters(poll.pollId, 100)).toBe(0);
    const done = await waiting;
    expect(done.isError, text(done)).toBeFalsy();
    const final = data(done) as { outcome: string; status: string; voteCount: number; maxResponses: number; options: { count: number; share: number }[] };
    expect(final).toMatchObject({ outcome: "completed", timedOut: false, status: "completed", voteCount: 100, maxResponses: 100 });
    expect(final.options).toHaveLength(3);
    expect(final.options.reduce((sum, o) => sum + o.count, 0)).toBe(100);
    expect(data(done)).toHaveProperty("demographics.notStated");

    // Progress: votes out of maxResponses, rising with every notification, ending at the full poll.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const [i, p] of progress.entries()) {
      expect(p.total).toBe(100);
      if (i > 0) expect(p.progress).toBeGreaterThan(progress[i - 1]!.progress);
    }
    expect(progress.at(-1)!.progress).toBe(100);

    const results = await mcp.client.callTool({ name: "get_poll_results", arguments: { pollId: poll.pollId } });
    expect(results.isError, text(results)).toBeFalsy();
    expect(data(results)).toMatchObject({ pollId: poll.pollId, status: "completed", voteCount: 100, options: final.options });
    expect(text(results)).toContain("Which name is clearer for a note-taking app?");

    const listed = await mcp.client.callTool({ name: "list_my_polls", arguments: {} });
    expect(listed.isError, text(listed)).toBeFalsy();
    expect(data(listed)).toMatchObject({
      payer: devnet.payers[0]!.address,
      polls: [{ pollId: poll.pollId, status: "completed", voteCount: 100, maxResponses: 100, progress: "100/100 votes (100%)" }],
      more: false,
    });
  });

  it("answers a service refusal with its code as a tool error", async () => {
    const result = await mcp.client.callTool({ name: "get_poll_results", arguments: { pollId: "00000000-0000-4000-8000-000000000000" } });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/code (poll_not_found|read_token_invalid|not_found)/);
  });
});

describe("input the tools refuse never reaches the service", () => {
  it("refuses bad arguments as tool errors before any request; a valid call does reach it", async () => {
    const counting = await startCountingService();
    const session = await startMcp({ QUALI_BASE_URL: counting.url, QUALI_MCP_HOME: freshHome() });
    try {
      const options = [{ text: "A" }, { text: "B" }];
      const refused = [
        { name: "create_poll", arguments: { question: "Which?", options, maxResponses: 0 } },
        { name: "create_poll", arguments: { options, maxResponses: 100 } },
        { name: "create_poll", arguments: { question: "Which?", options: [{ text: "only one" }], maxResponses: 100 } },
        { name: "create_poll", arguments: { question: "Which?", options, maxResponses: 100, durationMinutes: 60, expiresAt: "2099-01-01T00:00:00Z" } },
        { name: "create_poll", arguments: { question: "Which?", options, maxResponses: 100, callbackUrl: "http://example.com/hook" } },
        { name: "create_poll", arguments: { question: "Which?", options, maxResponses: 100 } }, // no wallet configured
        { name: "quote_poll", arguments: { maxResponses: 99.5 } },
        { name: "get_poll_results", arguments: { pollId: "../../etc/passwd" } },
        { name: "wait_for_poll", arguments: { pollId: "00000000-0000-4000-8000-000000000000", timeoutSeconds: 0 } },
        { name: "list_my_polls", arguments: {} }, // no wallet configured
      ];
      for (const call of refused) {
        const result = await session.client.callTool(call);
        expect(result.isError, JSON.stringify(call)).toBe(true);
        expect(text(result).length).toBeGreaterThan(0);
      }
      const noWallet = await session.client.callTool(refused[5]!);
      expect(text(noWallet)).toContain("QUALI_PAYER_PRIVATE_KEY");
      expect(counting.requests).toEqual([]);

      // The control: a valid call reaches the stand-in, and its refusal comes back with the code.
      const quote = await session.client.callTool({ name: "quote_poll", arguments: { maxResponses: 100 } });
      expect(quote.isError).toBe(true);
      expect(text(quote)).toContain("payment_not_configured");
      expect(counting.requests).toHaveLength(1);
    } finally {
      await session.close();
      await counting.close();
    }
  });
});

describe("configuration", () => {
  const run = (env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const { command, args } = binCommand();
      const child = spawn(command, args, { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), ...env }, stdio: ["pipe", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("exit", (code) => resolve({ code, stderr }));
    });

  it("stops at start with a clear message for bad settings, never printing the private key", async () => {
    const secret = "0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdefff";
    const result = await run({
      QUALI_PAYER_PRIVATE_KEY: secret,
      QUALI_MAX_USDC_PER_POLL: "1e3",
      QUALI_MAX_USDC_PER_DAY: "-5",
      QUALI_BASE_URL: "ftp://example.com",
      QUALI_NETWORK: "mars",
      QUALI_MCP_HOME: freshHome(),
    });
    expect(result.code).toBe(2);
    for (const name of ["QUALI_PAYER_PRIVATE_KEY", "QUALI_MAX_USDC_PER_POLL", "QUALI_MAX_USDC_PER_DAY", "QUALI_BASE_URL", "QUALI_NETWORK"]) {
      expect(result.stderr).toContain(name);
    }
    expect(result.stderr).not.toContain(secret.slice(2, 20));
  });

  it("refuses a QUALI_MCP_HOME other users may enter instead of keeping tokens there", async () => {
    const shared = mkdtempSync(join(tmpdir(), "quali-mcp-shared-"));
    try {
      chmodSync(shared, 0o755);
      const result = await run({ QUALI_MCP_HOME: shared });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("QUALI_MCP_HOME");
      expect(result.stderr).toContain("accessible to other users");
      expect(statSync(shared).mode & 0o777).toBe(0o755);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it("`npm run mcp` serves the tools from the checkout", async () => {
    const session = await startMcp({ QUALI_MCP_HOME: freshHome() }, { command: "npm", args: ["run", "--silent", "mcp"] });
    try {
      const { tools } = await session.client.listTools();
      expect(tools).toHaveLength(5);
      expect(session.stderr()).toContain("quali-mcp: serving http://localhost:8787");
    } finally {
      await session.close();
    }
  });
});
