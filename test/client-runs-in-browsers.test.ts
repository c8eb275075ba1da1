// The typed client runs in a browser: src/client bundles for `platform: "browser"` with nothing from Node
// (a Node builtin fails the build), and in real headless Chromium, on a page of another origin, it quotes,
// pays for a poll against local mode (the payer loses exactly the price on chain), reads the results with
// the read token and with a wallet sign-in, and follows the events stream: the CORS, headers and streams
// a browser enforces.
import { createServer, type Server } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usdcBalanceOf, type Address } from "../src/devnet/chain";
import { PROJECT_ROOT } from "../src/project-paths";
import { collectProblems, launchBrowser, newContext } from "./support/browser";
import { futureIso } from "./support/harness";
import { startServerProcess, type ServerProcess } from "./support/server-process";

interface DevnetFile {
  network: string;
  rpcUrl: string;
  asset: Address;
  payTo: Address;
  payers: { address: Address; privateKey: `0x${string}` }[];
}

type ClientModule = typeof import("../src/client") & Pick<typeof import("viem/accounts"), "privateKeyToAccount">;

/** The client, and a viem account to pay with, as one browser module. */
const ENTRY = `export * from "./src/client/index.ts";\nexport { privateKeyToAccount } from "viem/accounts";\n`;

let bundle: string;
let inputs: string[];
let server: ServerProcess;
let dataDir: string;
let devnet: DevnetFile;
let page: Server;
let pageUrl: string;
let browser: Browser;

beforeAll(async () => {
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: PROJECT_ROOT, loader: "ts", sourcefile: "client-entry.ts" },
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  bundle = result.outputFiles[0]!.text;
  inputs = Object.keys(result.metafile.inputs);

  dataDir = mkdtempSync(join(tmpdir(), "quali-client-browser-"));
  server = await startServerProcess({ DATA_DIR: dataDir });
  devnet = JSON.parse(readFileSync(join(dataDir, "devnet.json"), "utf8")) as DevnetFile;

  // The agent's page, on its own origin (another port): every API call is cross-origin.
  page = createServer((request, response) => {
    if (request.url === "/client.mjs") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    } else {
      response
        .writeHead(200, { "content-type": "text/html" })
        .end('<!doctype html><title>agent</title><script type="module">import * as quali from "/client.mjs"; window.quali = quali;</script>');
    }
  });
  await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
  const address = page.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  pageUrl = `http://localhost:${address.port}`;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => page?.close(resolve));
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the client in a browser", () => {
  it("bundles for the browser from Web APIs only: nothing from Node, no database or server code", () => {
    expect(inputs.filter((input) => input.startsWith("node:") || /^(fs|path|crypto|buffer|stream|http|net|os)$/.test(input))).toEqual([]);
    const ours = inputs.filter((input) => input.startsWith("src/"));
    expect(ours.filter((input) => !input.startsWith("src/client/"))).toEqual(["src/polls/read-token-message.ts"]);
    // The wire schemas are types only: not our zod, Hono or Kysely (@x402/core brings its own zod 3).
    expect(inputs.filter((input) => /^node_modules\/(zod|hono|@hono|kysely|better-sqlite3)\//.test(input))).toEqual([]);
  });

  it("quotes, pays exactly the price, reads the results and follows the events stream in Chromium", async () => {
    const context = await newContext(browser, 1280);
    try {
      const tab = await context.newPage();
      const problems = collectProblems(tab);
      await tab.goto(pageUrl);
      await tab.waitForFunction(() => Reflect.has(window, "quali"));
      const payer = devnet.payers[2]!;
      const before = await usdcBalanceOf(devnet.rpcUrl, devnet.asset, payer.address);

      const outcome = await tab.evaluate(
        async ({ baseUrl, privateKey, network, asset, expiresAt }) => {
          const client = Reflect.get(window, "quali") as ClientModule;
          const agent = client.createQualiClient({
            baseUrl,
            account: client.privateKeyToAccount(privateKey),
            allowedAssets: [{ network, asset }],
            maxAmountAtomicPerPoll: 500_000n,
          });
          const quote = await agent.quote({ maxResponses: 100 });
          const { poll, payment } = await agent.createPoll({
            question: "Which name is clearer?",
            options: [{ text: "Option A" }, { text: "Option B" }],
            maxResponses: 100,
            expiresAt,
          });
          const auth = { readToken: poll.readToken };
          const results = await agent.getResults(poll.id, auth);
          const waited = await agent.waitForCompletion(poll.id, auth, { timeoutMs: 10_000, untilVotes: 0 });
          const signedIn = await agent.getResults(poll.id, { wallet: true });
          const refused = await agent.getResults(poll.id, { readToken: "wrong" }).catch((error: { code?: string }) => error.code);
          return {
            costAtomic: quote.costAtomic,
            amountAtomic: String(payment.amountAtomic),
            txHash: payment.txHash,
            bodyTxHash: poll.payment.txHash,
            voteCount: results.voteCount,
            signedInPollId: signedIn.pollId,
            pollId: poll.id,
            waited,
            refused,
          };
        },
        { baseUrl: server.url, privateKey: payer.privateKey, network: devnet.network, asset: devnet.asset, expiresAt: futureIso() },
      );

      expect(outcome.costAtomic).toBe("500000");
      expect(outcome.amountAtomic).toBe("500000");
      expect(outcome.txHash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(outcome.txHash).toBe(outcome.bodyTxHash);
      expect(before - (await usdcBalanceOf(devnet.rpcUrl, devnet.asset, payer.address))).toBe(500_000n);
      expect(outcome.voteCount).toBe(0);
      expect(outcome.signedInPollId).toBe(outcome.pollId);
      expect(outcome.waited).toEqual({ outcome: "target_reached", status: "active", voteCount: 0, maxResponses: 100 });
      expect(outcome.refused).toBe("read_token_invalid");
      expect(problems.filter((problem) => !problem.includes("403"))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
