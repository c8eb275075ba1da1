// npm run bench:workers: the scale story, measured. The Worker (src/worker.ts) under `wrangler dev --local`
// — workerd from npm, the D1 binding on a local SQLite file — in production mode with the vars
// test/workers-scenario.test.ts uses for voting (World ID verified by the portal stand-in, in a process
// of its own, the proofs made here as World App would), next to the Node service measured by
// `npm run bench` (BENCH_ONLY=votes,results,feed) in the same run, on the same machine, one after the other:
//   1. votes: concurrent voters (50 connections), each vote a distinct simulated human whose World ID
//      request was asked for before the timed window (as the Node bench does); votes/s, latency, and the
//      counters checked afterwards (every 201 counted once, never past maxResponses);
//   2. results of a poll with BENCH_RESULT_VOTES votes (10 connections);
//   3. the voter feed with 10,000 active polls (10 connections).
// Polls are written straight into the local D1 file before wrangler starts (rows as paid creation leaves
// them: paying is not what is measured), as the Node bench seeds its SQLite file. Load comes from
// autocannon in this process; CPU per request is read from /proc for workerd (and for wrangler's own
// Node process), the number that moves least when the machine is busy. Only 127.0.0.1 is targeted.
//
//   npm run bench:workers            about 3 minutes on a busy 2-vCPU machine (half of it the Node part)
//   BENCH_DURATION=5                 seconds per latency scenario (default 5; warm-up 2 s before each)
//   BENCH_VOTES=3000                 votes in Node's timed vote window (default 3,000)
//   BENCH_WORKERS_VOTES=300          votes in the Worker's timed vote window (default 300, +50 to warm up:
//                                    a vote costs far more CPU under workerd than on Node, and each World
//                                    ID request asked for beforehand is a signature and a D1 write too)
//   BENCH_RESULT_VOTES=100000        votes behind the Worker's results poll (default 100,000; the Node
//                                    bench seeds 1,000,000; results read counters only, never votes)
//   BENCH_NODE=run|file|skip         the Node figures: run `npm run bench`'s three scenarios now with the
//                                    same duration (default; it writes the git-ignored bench/results.json), read BENCH_NODE_RESULTS
//                                    (default bench/results.json) as a past run left it, or leave them out
//
// Writes bench/workers-results.json (both sides, load averages, machine).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { privateKeyToAddress } from "viem/accounts";
import { payoutAddressFor, requestWorldId, type WorldIdRequestView } from "../scripts/lib/voter";
import { simulateWorldIdProof, type SimulatedWorldIdNetwork } from "../src/devnet/world-id";
import { createReadTokens } from "../src/polls";
import { PROJECT_ROOT } from "../src/project-paths";
import { runLoad, type LoadResult, type LoadSpec } from "./lib/load";
import { cpuMsOf } from "./lib/processes";
import { seedFeedPolls, seedVotes } from "./lib/seed";
import { voteCounters } from "./lib/vote-check";
import { forEachLimit } from "./lib/voters";
import { freePort } from "../test/support/ports";
import { wranglerEnv } from "../test/support/wrangler";

const here = dirname(fileURLToPath(import.meta.url));
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP_SECONDS = 2;
const NODE_VOTES = Number(process.env.BENCH_VOTES ?? 3_000);
const VOTES = Number(process.env.BENCH_WORKERS_VOTES ?? 300);
const WARMUP_VOTES = 50;
const RESULT_VOTES = Number(process.env.BENCH_RESULT_VOTES ?? 100_000);
const FEED_POLLS = 10_000;
const NODE_MODE = (process.env.BENCH_NODE ?? "run") as "run" | "file" | "skip";
const NODE_RESULTS = resolve(process.env.BENCH_NODE_RESULTS ?? join(here, "results.json"));
const VOTE_CONNECTIONS = 50;
const LATENCY_CONNECTIONS = 10;
const NETWORK = "eip155:8453";
const WRANGLER = join(PROJECT_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

const COUNTRIES = ["US", "DE", "IN", "BR", "NG", "JP", "FR", "GB"];
const AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"];

const log = (line: string) => console.log(line);
const loadString = () => loadavg().map((l) => l.toFixed(2)).join(" ");
const fmt = (value: number | null | undefined, digits = 1) => (value === null || value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits));

/** One scenario's figures on one runtime. Mean latency is connections ÷ throughput (a closed loop: Little's law). */
export interface Figures {
  rps: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** CPU time of the server per request: workerd's on Workers, the service process's on Node. */
  cpuUsPerRequest: number | null;
  connections: number;
  note?: string;
}

type Key = "votes" | "results" | "feed";

/** A row of `npm run bench`'s results.json, as this script reads it. */
interface NodeRow {
  key: string;
  anchor?: string;
  connections: number;
  rps: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  errors: number;
  cpuUsPerRequest: number | null;
  details?: Record<string, unknown>;
}

/** The service's own rows (not the anchors') of an `npm run bench` results.json, per scenario. */
export function nodeFigures(results: { scenarios: NodeRow[] }): Partial<Record<Key, Figures>> {
  const out: Partial<Record<Key, Figures>> = {};
  for (const row of results.scenarios) {
    if (row.anchor || (row.key !== "votes" && row.key !== "results" && row.key !== "feed") || row.rps === null || row.rps <= 0) continue;
    out[row.key] = {
      rps: row.rps,
      meanMs: (row.connections / row.rps) * 1000,
      p50Ms: row.p50Ms ?? NaN,
      p99Ms: row.p99Ms ?? NaN,
      errors: row.errors,
      cpuUsPerRequest: row.cpuUsPerRequest,
      connections: row.connections,
    };
  }
  return out;
}

function figuresOf(result: LoadResult, cpuUsPerRequest: number | null): Figures {
  return {
    rps: result.rps,
    meanMs: result.rps > 0 ? (result.connections / result.rps) * 1000 : NaN,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    errors: result.errors,
    cpuUsPerRequest,
    connections: result.connections,
  };
}

// ---- processes this script starts (each in its own process group, all stopped on exit) ----

const groups = new Set<ChildProcess>();
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((done) => child.once("exit", () => done()));
  killGroup(child, "SIGTERM");
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
  await gone;
  clearTimeout(timer);
  groups.delete(child);
}
/** Whatever this script started is stopped when it exits, fails or is interrupted. */
function installCleanup(): void {
  process.on("exit", () => {
    for (const child of groups) killGroup(child, "SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping`);
      void Promise.all([...groups].map(stopGroup)).finally(() => process.exit(130));
    });
  }
}

function startGroup(args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; output(): string } {
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  groups.add(child);
  child.once("exit", () => groups.delete(child));
  const out = openSync(logFile, "a");
  let text = "";
  const keep = (chunk: Buffer) => {
    text += chunk.toString();
    if (text.length > 200_000) text = text.slice(-100_000);
    writeFileSync(out, chunk);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  return { child, output: () => text };
}

/** Processes of a group (pid → command name), from /proc. */
function groupMembers(pgid: number): Map<number, string> {
  const members = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) members.set(Number(entry), comm); // field 5 of the line: pgrp
    } catch {
      /* gone meanwhile */
    }
  }
  return members;
}

// ---- wrangler (with test/support/wrangler.ts's environment: offline, no metrics, no prompts) ----

async function runToEnd(args: string[], logFile: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  const { child, output } = startGroup(args, logFile, env);
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((done) => child.once("exit", (c) => done(c)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${args.slice(0, 3).join(" ")} exited with ${code}:\n${output().slice(-3000)}`);
}

function localD1File(stateDir: string): string {
  const dir = join(stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = readdirSync(dir).filter((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite");
  if (files.length !== 1) throw new Error(`expected one local D1 database in ${dir}, found ${files.join(", ") || "none"}`);
  return join(dir, files[0]!);
}

interface Worker {
  url: string;
  output(): string;
  wranglerPid: number;
  /** The workerd running the Worker and its local D1. */
  workerdPid: number;
  /** The workerd of wrangler's proxy in front of it (users' requests pass through it). */
  proxyPid: number | undefined;
  stop(): Promise<void>;
}

async function startWorker(stateDir: string, port: number, vars: Record<string, string>, logFile: string): Promise<Worker> {
  const args = [
    WRANGLER,
    "dev",
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(await freePort()),
    "--persist-to",
    stateDir,
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
    ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
  const { child, output } = startGroup(args, logFile, wranglerEnv(stateDir));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited before it was ready:\n${output().slice(-3000)}`);
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`wrangler dev did not answer /healthz in time:\n${output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  // wrangler dev runs two workerd: its proxy on the port we gave (the address users reach), and the
  // runtime with the Worker and its D1 behind it, on a port of its own. The latter is the server measured.
  const workerds = [...groupMembers(child.pid!)].filter(([, comm]) => comm.includes("workerd")).map(([pid]) => pid);
  const isProxy = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`entry=127.0.0.1:${port}\0`);
    } catch {
      return false;
    }
  };
  const runtime = workerds.filter((pid) => !isProxy(pid));
  if (runtime.length !== 1) throw new Error(`expected one workerd running the Worker in wrangler's process group ${child.pid}, found ${workerds.join(", ") || "none"}`);
  return { url, output, wranglerPid: child.pid!, workerdPid: runtime[0]!, proxyPid: workerds.find(isProxy), stop: () => stopGroup(child) };
}

/** The World ID portal stand-in as a process of its own (src/devnet/world-id/standin-cli.ts). */
async function startPortal(input: { rpId: string; appId: string; networkKeyHex: string }, logFile: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const cli = join(PROJECT_ROOT, "src", "devnet", "world-id", "standin-cli.ts");
  const { child, output } = startGroup(["--import", "tsx", cli, "--rp-id", input.rpId, "--app-id", input.appId, "--network-key", input.networkKeyHex], logFile);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const url = /listening on (http:\/\/\S+)/.exec(output())?.[1];
    if (url) return { url, pid: child.pid!, stop: () => stopGroup(child) };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the World ID portal stand-in did not start:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- seeding the local D1 file (before wrangler opens it) ----

/** An active poll as paid creation leaves it (its payment is not what is measured); returns its option ids. */
function seedPoll(file: string, input: { id: string; question: string; maxResponses: number; options: number }): string[] {
  const optionIds = Array.from({ length: input.options }, () => randomUUID());
  const db = new BetterSqlite3(file);
  try {
    const now = new Date();
    const cost = BigInt(input.maxResponses) * 5_000n;
    db.transaction(() => {
      db.prepare(
        `INSERT INTO polls (id, status, question, description, layout_type, max_responses, vote_count, expires_at, network, payer,
                            cost_atomic, reward_pool_atomic, fee_atomic, created_at, activated_at, refund_policy)
         VALUES (?, 'active', ?, 'Seeded by npm run bench:workers', 'list', ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, 'unfilled')`,
      ).run(
        input.id,
        input.question,
        input.maxResponses,
        new Date(now.getTime() + 7 * 24 * 3600_000).toISOString(),
        NETWORK,
        privateKeyToAddress(`0x${"11".repeat(32)}`).toLowerCase(),
        cost.toString(),
        (cost / 10n).toString(),
        (cost - cost / 10n).toString(),
        now.toISOString(),
        now.toISOString(),
      );
      const insertOption = db.prepare("INSERT INTO poll_options (poll_id, position, id, text) VALUES (?, ?, ?, ?)");
      optionIds.forEach((id, position) => insertOption.run(input.id, position, id, `Option ${position + 1}`));
    })();
  } finally {
    db.close();
  }
  return optionIds;
}

// ---- the Node side ----

async function nodeSide(work: string): Promise<{ figures: Partial<Record<Key, Figures>>; source: string }> {
  if (NODE_MODE === "skip") return { figures: {}, source: "not measured (BENCH_NODE=skip)" };
  if (NODE_MODE === "file") {
    if (!existsSync(NODE_RESULTS)) throw new Error(`${NODE_RESULTS} is missing: run npm run bench, or BENCH_NODE=run`);
    const results = JSON.parse(readFileSync(NODE_RESULTS, "utf8")) as { startedAt: string; machine: { loadAvgAtStart: number[] }; setup: { resultVotes: number }; scenarios: NodeRow[] };
    return {
      figures: nodeFigures(results),
      source: `${NODE_RESULTS} (npm run bench started ${results.startedAt}, load at start ${results.machine.loadAvgAtStart.map((l) => l.toFixed(2)).join(" ")}, ${results.setup.resultVotes.toLocaleString("en-US")} result votes)`,
    };
  }
  // `npm run bench` with only these scenarios (it also runs its baseline and the vote ceiling); it writes
  // bench/results.json, which is git-ignored.
  const logFile = join(work, "node-bench.log");
  log(`Node: npm run bench with BENCH_ONLY=votes,results,feed BENCH_DURATION=${DURATION} BENCH_VOTES=${NODE_VOTES} (log: ${logFile})`);
  const started = Date.now();
  const { child, output } = startGroup(["--import", "tsx", join(here, "run.ts")], logFile, {
    ...process.env,
    BENCH_ONLY: "votes,results,feed",
    BENCH_DURATION: String(DURATION),
    BENCH_VOTES: String(NODE_VOTES),
  });
  const code = await new Promise<number | null>((done) => child.once("exit", (c) => done(c)));
  if (code !== 0) throw new Error(`npm run bench failed (${code}):\n${output().slice(-3000)}`);
  const results = JSON.parse(readFileSync(join(here, "results.json"), "utf8")) as { startedAt: string; scenarios: NodeRow[] };
  for (const line of output().split("\n")) if (/^(votes|vote ceiling|4\. results|5\. voter feed):/.test(line)) log(`  ${line}`);
  log(`  (${((Date.now() - started) / 1000).toFixed(0)} s) load average ${loadString()}`);
  return { figures: nodeFigures(results), source: `npm run bench in this run (BENCH_ONLY=votes,results,feed, started ${results.startedAt})` };
}

// ---- the Workers side ----

interface WorkersOutcome {
  figures: Partial<Record<Key, Figures>>;
  votes: { accepted: number; consistent: boolean; portalCpuUsPerVote: number; wranglerCpuUsPerVote: number; proxyCpuUsPerVote: number; prepareSeconds: number; worldIdRequestsPerSecond: number };
  /** An unknown API route (404): the Worker without any D1 query. */
  noD1: Figures;
  loadAvg: { start: string; end: string };
}

async function workersSide(work: string): Promise<WorkersOutcome> {
  const loadStart = loadString();
  const stateDir = join(work, "wrangler");
  const rpId = "rp_bench_workers";
  const appId = "app_bench_workers";
  const rpSigningKey = `0x${randomBytes(32).toString("hex")}` as const;
  const networkKey = randomBytes(32);
  const network: SimulatedWorldIdNetwork = { key: new Uint8Array(networkKey), relyingParties: [{ rpId, signerAddress: privateKeyToAddress(rpSigningKey) }] };
  const readTokenSecret = randomBytes(24).toString("hex");

  let t = performance.now();
  await runToEnd([WRANGLER, "d1", "migrations", "apply", "quali", "--local", "--persist-to", stateDir], join(work, "wrangler-migrations.log"), wranglerEnv(stateDir), 120_000);
  log(`Workers: local D1 migrated (wrangler d1 migrations apply --local) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  const d1 = localD1File(stateDir);
  const votePoll = { id: randomUUID(), optionIds: [] as string[] };
  votePoll.optionIds = seedPoll(d1, { id: votePoll.id, question: "Vote ingestion benchmark (Workers)", maxResponses: 1_000_000, options: 3 });
  const resultsPollId = randomUUID();
  seedPoll(d1, { id: resultsPollId, question: "Results benchmark (Workers)", maxResponses: RESULT_VOTES, options: 4 });
  seedFeedPolls(d1, { count: FEED_POLLS, network: NETWORK, payer: privateKeyToAddress(`0x${"22".repeat(32)}`).toLowerCase() });
  seedVotes(d1, { pollId: resultsPollId, count: RESULT_VOTES });
  log(`Workers: local D1 seeded (${FEED_POLLS.toLocaleString("en-US")} feed polls, ${RESULT_VOTES.toLocaleString("en-US")} result votes) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const portal = await startPortal({ rpId, appId, networkKeyHex: networkKey.toString("hex") }, join(work, "portal.log"));
  t = performance.now();
  const port = await freePort();
  const worker = await startWorker(
    stateDir,
    port,
    {
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      READ_TOKEN_SECRET: readTokenSecret,
      WORLD_ID_APP_ID: appId,
      WORLD_ID_RP_ID: rpId,
      WORLD_ID_SIGNING_KEY: rpSigningKey,
      WORLD_ID_VERIFY_BASE_URL: portal.url,
      // Every request comes from this one loopback address: the per-IP rules and the portal budget would
      // refuse a load generator (the per-voter rule stays on: each vote is another voter).
      RATE_LIMIT_PER_MINUTE: "0",
      RATE_LIMIT_VOTER_WRITES_PER_IP_PER_MINUTE: "0",
      WORLD_ID_PORTAL_CALLS_PER_MINUTE: "0",
    },
    join(work, "wrangler-dev.log"),
  ).catch(async (error: unknown) => {
    await portal.stop();
    throw error;
  });
  const figures: Partial<Record<Key, Figures>> = {};
  try {
    log(`Workers: wrangler dev --local at ${worker.url} (wrangler pid ${worker.wranglerPid}; workerd running the Worker pid ${worker.workerdPid}, wrangler's proxy workerd pid ${worker.proxyPid ?? "none"}) ready in ${((performance.now() - t) / 1000).toFixed(1)} s; portal stand-in ${portal.url}`);
    /** The rest of wrangler dev: its Node processes (the bin starts the CLI as a child) and its proxy workerd. */
    const wranglerCpuMs = () => [...groupMembers(worker.wranglerPid).keys()].filter((pid) => pid !== worker.workerdPid).reduce((sum, pid) => sum + cpuMsOf(pid), 0);
    const proxyCpuMs = () => (worker.proxyPid === undefined ? NaN : cpuMsOf(worker.proxyPid));
    const measured = async (spec: LoadSpec) => {
      const workerd = cpuMsOf(worker.workerdPid);
      const wrangler = wranglerCpuMs();
      const proxy = proxyCpuMs();
      const portalCpu = cpuMsOf(portal.pid);
      const result = await runLoad(spec);
      const per = (before: number, after: number) => ((after - before) * 1000) / Math.max(1, result.requests);
      return {
        result,
        cpu: { workerd: per(workerd, cpuMsOf(worker.workerdPid)), wrangler: per(wrangler, wranglerCpuMs()), proxy: per(proxy, proxyCpuMs()), portal: per(portalCpu, cpuMsOf(portal.pid)) },
      };
    };

    // 1. Votes. World ID requests asked for first (each is a D1 write too), proofs made here.
    t = performance.now();
    const count = VOTES + WARMUP_VOTES + VOTE_CONNECTIONS * 2;
    const bodies = new Array<string>(count);
    await forEachLimit(count, 16, async (i) => {
      const human = `bench-workers-${i}`;
      const optionId = votePoll.optionIds[i % votePoll.optionIds.length]!;
      const payoutAddress = payoutAddressFor(human);
      const request = await requestWorldId(worker.url, votePoll.id, optionId, payoutAddress);
      if (request.status !== 200) throw new Error(`world-id-request ${i} answered ${request.status}: ${JSON.stringify(request.body)}`);
      const view = request.body as WorldIdRequestView;
      const proof = simulateWorldIdProof({ network, rpContext: view.idkit.rp_context, action: view.idkit.action, signal: view.signal, human });
      // Most voters state demographics, some do not, as in the Node bench: every counter is written.
      const demographics = i % 5 === 4 ? undefined : { country: COUNTRIES[i % COUNTRIES.length]!, ageBand: AGE_BANDS[i % AGE_BANDS.length]! };
      bodies[i] = JSON.stringify({ optionId, payoutAddress, proof, ...(demographics ? { demographics } : {}) });
    });
    const prepareSeconds = (performance.now() - t) / 1000;
    log(`  ${count} World ID requests + proofs prepared in ${prepareSeconds.toFixed(1)} s (${fmt(count / prepareSeconds, 0)} requests/s with 16 in flight)`);
    let next = 0;
    const voteSpec: LoadSpec = {
      url: worker.url,
      connections: VOTE_CONNECTIONS,
      method: "POST",
      path: `/api/v1/polls/${votePoll.id}/votes`,
      headers: { "content-type": "application/json" },
      nextBody: () => {
        const body = bodies[next++];
        if (body === undefined) throw new Error("the vote pool ran out");
        return body;
      },
      expectStatus: 201,
    };
    const warmed = await runLoad({ ...voteSpec, amount: WARMUP_VOTES });
    const votes = await measured({ ...voteSpec, amount: VOTES });
    const accepted = (warmed.statuses["201"] ?? 0) + (votes.result.statuses["201"] ?? 0);
    const counters = voteCounters(d1, votePoll.id, accepted);
    figures.votes = figuresOf(votes.result, votes.cpu.workerd);
    if (votes.result.errors > 0) log(`  the Worker's warnings and errors (last lines):\n${worker.output().split("\n").slice(-15).join("\n")}`);
    log(
      `  votes: ${fmt(votes.result.rps, 0)} votes/s, p50 ${fmt(votes.result.p50Ms, 1)} ms, p99 ${fmt(votes.result.p99Ms, 1)} ms, statuses ${JSON.stringify(votes.result.statuses)}; ` +
        `CPU per vote: workerd ${fmt(votes.cpu.workerd, 0)} µs, the rest of wrangler dev ${fmt(votes.cpu.wrangler, 0)} µs (its proxy workerd ${fmt(votes.cpu.proxy, 0)} µs), portal stand-in ${fmt(votes.cpu.portal, 0)} µs; ` +
        `counters ${counters.consistent ? "consistent" : "INCONSISTENT"} (${counters.pollVoteCount} counted, ${counters.voteRows} rows, ${accepted} 201s); load ${loadString()}`,
    );

    // The same runtime without D1: an API path no route serves (hono, the edge middleware, the 404
    // envelope). What a request costs in workerd before any query, to tell the runtime from local D1.
    const edgeSpec: LoadSpec = { url: worker.url, connections: LATENCY_CONNECTIONS, durationSeconds: WARMUP_SECONDS * 2, path: "/api/v1/no-such-route", expectStatus: 404 };
    await runLoad({ ...edgeSpec, durationSeconds: WARMUP_SECONDS });
    const edge = await measured(edgeSpec);
    log(`  no D1 (GET /api/v1/no-such-route → 404): ${fmt(edge.result.rps, 0)} req/s, p50 ${fmt(edge.result.p50Ms, 2)} ms, p99 ${fmt(edge.result.p99Ms, 2)} ms, ${fmt(edge.cpu.workerd, 0)} µs workerd CPU/req (the rest of wrangler dev ${fmt(edge.cpu.wrangler, 0)} µs, its proxy workerd ${fmt(edge.cpu.proxy, 0)} µs), statuses ${JSON.stringify(edge.result.statuses)}`);

    // 2. Results.
    const headers = { "x-read-token": createReadTokens(readTokenSecret).tokenFor(resultsPollId) };
    const check = (await (await fetch(`${worker.url}/api/v1/polls/${resultsPollId}/results`, { headers })).json()) as { voteCount: number };
    if (check.voteCount !== RESULT_VOTES) throw new Error(`results answered voteCount ${check.voteCount}, expected ${RESULT_VOTES}`);
    const resultsSpec: LoadSpec = { url: worker.url, connections: LATENCY_CONNECTIONS, durationSeconds: DURATION, path: `/api/v1/polls/${resultsPollId}/results`, headers, expectStatus: 200 };
    await runLoad({ ...resultsSpec, durationSeconds: WARMUP_SECONDS });
    const results = await measured(resultsSpec);
    figures.results = figuresOf(results.result, results.cpu.workerd);
    log(`  results (${RESULT_VOTES.toLocaleString("en-US")} votes): ${fmt(results.result.rps, 0)} req/s, p50 ${fmt(results.result.p50Ms, 2)} ms, p99 ${fmt(results.result.p99Ms, 2)} ms, ${fmt(results.cpu.workerd, 0)} µs workerd CPU/req, statuses ${JSON.stringify(results.result.statuses)}`);

    // 3. Voter feed.
    const page = (await (await fetch(`${worker.url}/api/v1/voter/polls`)).json()) as { polls: unknown[] };
    if (page.polls.length !== 20) throw new Error(`the feed answered ${page.polls.length} polls`);
    const feedSpec: LoadSpec = { url: worker.url, connections: LATENCY_CONNECTIONS, durationSeconds: DURATION, path: "/api/v1/voter/polls", expectStatus: 200 };
    await runLoad({ ...feedSpec, durationSeconds: WARMUP_SECONDS });
    const feed = await measured(feedSpec);
    figures.feed = figuresOf(feed.result, feed.cpu.workerd);
    log(`  feed (${FEED_POLLS.toLocaleString("en-US")} active polls): ${fmt(feed.result.rps, 0)} req/s, p50 ${fmt(feed.result.p50Ms, 2)} ms, p99 ${fmt(feed.result.p99Ms, 2)} ms, ${fmt(feed.cpu.workerd, 0)} µs workerd CPU/req, statuses ${JSON.stringify(feed.result.statuses)}`);

    return {
      figures,
      votes: { accepted, consistent: counters.consistent, portalCpuUsPerVote: votes.cpu.portal, wranglerCpuUsPerVote: votes.cpu.wrangler, proxyCpuUsPerVote: votes.cpu.proxy, prepareSeconds, worldIdRequestsPerSecond: count / prepareSeconds },
      noD1: figuresOf(edge.result, edge.cpu.workerd),
      loadAvg: { start: loadStart, end: loadString() },
    };
  } finally {
    await worker.stop();
    await portal.stop();
  }
}

// ---- the table ----

const SCENARIOS: { key: Key; label: string }[] = [
  { key: "votes", label: `votes (${VOTE_CONNECTIONS} concurrent voters)` },
  { key: "results", label: `results (Node: 1,000,000 votes; Workers: ${RESULT_VOTES.toLocaleString("en-US")})` },
  { key: "feed", label: `voter feed (${FEED_POLLS.toLocaleString("en-US")} active polls)` },
];

export function comparisonTable(node: Partial<Record<Key, Figures>>, workers: Partial<Record<Key, Figures>>): string {
  const cells = (f: Figures | undefined) =>
    f ? [fmt(f.rps, 0), fmt(f.meanMs, 2), fmt(f.p50Ms, 2), fmt(f.p99Ms, 2), String(f.errors), fmt(f.cpuUsPerRequest, 0)] : ["—", "—", "—", "—", "—", "—"];
  const header = ["scenario", "conns", "runtime", "req/s", "mean ms", "p50 ms", "p99 ms", "errors", "server CPU µs/req"];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const { key, label } of SCENARIOS) {
    const connections = String(workers[key]?.connections ?? node[key]?.connections ?? "—");
    lines.push(`| ${label} | ${connections} | Node (\`npm start\`, SQLite) | ${cells(node[key]).join(" | ")} |`);
    lines.push(`| | | Workers (workerd, local D1) | ${cells(workers[key]).join(" | ")} |`);
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  installCleanup();
  const startedAt = new Date();
  const work = mkdtempSync(join(tmpdir(), "quali-bench-workers-"));
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version };
  log(`quali bench:workers — ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, Node ${machine.node}; logs in ${work}`);
  log(`load average at start (1/5/15 min): ${loadString()}${loadavg()[0]! > 1 ? "  ← the machine is busy: numbers will be low and noisy" : ""}`);
  const loadAtStart = loadString();
  let keep = false;
  try {
    const node = await nodeSide(work);
    const workers = await workersSide(work);
    const table = comparisonTable(node.figures, workers.figures);
    const notes = [
      `Node figures: ${node.source}.`,
      `Mean latency = connections ÷ req/s (closed loop). Server CPU: the service process on Node; workerd on Workers (the rest of wrangler dev — its proxy workerd and Node processes — adds ${fmt(workers.votes.wranglerCpuUsPerVote, 0)} µs a vote, the World ID portal stand-in ${fmt(workers.votes.portalCpuUsPerVote, 0)} µs a vote in its own process — Node's local mode verifies in process).`,
      `Workers without D1 (GET /api/v1/no-such-route → 404, ${workers.noD1.connections} connections): ${fmt(workers.noD1.rps, 0)} req/s, p99 ${fmt(workers.noD1.p99Ms, 2)} ms, ${fmt(workers.noD1.cpuUsPerRequest, 0)} µs workerd CPU/req. World ID requests before the vote window: ${fmt(workers.votes.worldIdRequestsPerSecond, 0)}/s with 16 in flight.`,
      `Workers votes: ${workers.votes.accepted} accepted, counters ${workers.votes.consistent ? "consistent" : "INCONSISTENT"}; load average ${workers.loadAvg.start} before the Workers part, ${workers.loadAvg.end} after.`,
    ];
    log("");
    log(table);
    log("");
    for (const note of notes) log(note);
    log(`load average at start ${loadAtStart}, at end ${loadString()}`);
    const out = join(here, "workers-results.json");
    writeFileSync(
      out,
      `${JSON.stringify(
        {
          startedAt: startedAt.toISOString(),
          finishedAt: new Date().toISOString(),
          machine: { ...machine, loadAvgAtStart: loadAtStart, loadAvgAtEnd: loadString() },
          setup: { durationSeconds: DURATION, votes: VOTES, resultVotes: RESULT_VOTES, feedPolls: FEED_POLLS, connections: { votes: VOTE_CONNECTIONS, latency: LATENCY_CONNECTIONS } },
          node: { source: node.source, figures: node.figures },
          workers,
          table,
        },
        null,
        2,
      )}\n`,
    );
    log(`wrote ${out}`);
  } catch (error) {
    keep = true;
    throw error;
  } finally {
    await Promise.all([...groups].map(stopGroup));
    if (keep) log(`logs kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
