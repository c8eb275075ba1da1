// npm run bench: the service in local mode against a bare @hono/node-server "hello JSON" baseline and
// against anchors for the very job each scenario does, in the same run on the same machine:
//   - 402 and quote: the same-bytes ceiling (same-bytes-server.ts: a bare @hono/node-server app answering
//     exactly the service's bytes, captured from it at bench time) and the stock middleware
//     (stock-x402-server.ts: @x402/hono's paymentMiddleware configured for this job, what anyone would build);
//   - votes: the vote ceiling (vote-ceiling-server.ts: a bare Hono app doing local mode's verification and
//     the same durable write, on a copy of the service's database, answering the very same votes).
// Each server runs in a child process; autocannon runs here, in the parent (on a 2-core machine: one core
// for the server under test, one for the load generator). Prints a table and writes bench/results.json.
// Only 127.0.0.1 is ever targeted.
//
//   npm run bench                       the whole run (about 5 minutes)
//   BENCH_DURATION=10                   seconds per throughput/latency scenario (default 10)
//   BENCH_VOTES=10000                   votes sent in the vote scenario (default 10,000, about as long as
//                                       the other scenarios at ~1,000 votes/s; prepared beforehand)
//   BENCH_PAID=40                       sequential paid polls (default 40)
//   BENCH_WAIT_QUIET=120                wait up to this many seconds for the 1-min load average to fall
//                                       below 1.0 before measuring (default 0: do not wait)
//   BENCH_ONLY=votes,results            run only these scenarios (keys below: paid, votes, challenge402,
//                                       quote, results, feed), for iterating; a scenario's anchors run with it
//   BENCH_NODE_OPTIONS="--expose-gc"   extra node flags for the service process (experiments)
//   BENCH_PROFILE=1                     CPU-profile the service during each measured window; the
//                                       profiles (<scenario>.cpuprofile) are kept in the work folder
//   BENCH_ANCHOR_ROUNDS=8               rounds of ours interleaved with its same-bytes ceiling (402, quote)
//   BENCH_ANCHOR_SLICE=2                seconds of each interleaved slice (default 2)
//
// Phases: (0) baseline; (A) the service with default rate limits, except the two that exist for many
// clients and would throttle one load generator sending every vote from one IP (the per-IP ceiling on voter
// writes and the World ID portal call budget: VOTE_INGESTION_ENV): paid creation, vote ingestion;
// (seed) 10,000 feed polls and 1,000,000 votes written into its SQLite file; (B) the service again on
// the same data with RATE_LIMIT_PER_MINUTE=0, because the other scenarios send far more than 600
// requests a minute from one IP: 402 challenge, quote, voter feed, results; (0') baseline again.
// Anchors run beside the scenario they anchor: the vote ceiling in (A), just before the service takes the
// same votes; the same-bytes server and the stock middleware in (B), one right before and one right after
// the service's run of each scenario. Throughput ratios are ours / anchor (higher is better for us); the CPU
// ratios beside them (anchor's CPU per request / ours) say the same with less noise on a busy machine.
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleLikeNpmBuild } from "../scripts/lib/bundle";
import { NETWORK_KEY_FILE } from "../src/devnet/world-id";
import { PROJECT_ROOT } from "../src/project-paths";
import { runLoad, percentile, type LoadResult, type LoadSpec } from "./lib/load";
import { startPaymentAnchors, type PaymentAnchors } from "./lib/payment-anchors";
import { copyDatabase, voteCounters } from "./lib/vote-check";
import { createPaidPoll, pollBody, sequentialPaidPolls, type DevnetInfo } from "./lib/paid";
import { cpuMsOf, memoryOf, sampleRss, startChild, stopAll, trackPid, type Child } from "./lib/processes";
import { seedFeedPolls, seedVotes } from "./lib/seed";
import { prepareVoteBodies } from "./lib/voters";
import type { StockServerInput } from "./stock-x402-server";
import type { VoteCeilingInput } from "./vote-ceiling-server";

const here = dirname(fileURLToPath(import.meta.url));
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
/** Slices of ours against its same-bytes ceiling, interleaved with the ceiling's (BENCH_ANCHOR_ROUNDS). */
const ANCHOR_ROUNDS = Math.max(1, Math.round(Number(process.env.BENCH_ANCHOR_ROUNDS ?? 8)));
/** Short slices: the machine's speed drifts within seconds, and what drifts between neighbours cancels. */
const SLICE_SECONDS = Math.max(1, Math.round(Number(process.env.BENCH_ANCHOR_SLICE ?? 2)));
const WARMUP = Math.max(1, Math.min(3, Math.round(DURATION / 4)));
const VOTES = Number(process.env.BENCH_VOTES ?? 10_000);
const PAID = Number(process.env.BENCH_PAID ?? 40);
const WAIT_QUIET = Number(process.env.BENCH_WAIT_QUIET ?? 0);
const PROFILE = process.env.BENCH_PROFILE === "1";
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",").map((s) => s.trim())) : undefined;
const THROUGHPUT_CONNECTIONS = 50;
const LATENCY_CONNECTIONS = 10;
const FEED_POLLS = 10_000;
const RESULT_VOTES = 1_000_000;
const DEFAULT_PER_IP = 600;
const DEFAULT_PER_VOTER = 60;
/** Phase A: 10,000+ votes (a World ID request, a simulated proof and a vote each) come from 127.0.0.1 alone. */
const VOTE_INGESTION_ENV = { RATE_LIMIT_VOTER_WRITES_PER_IP_PER_MINUTE: "0", WORLD_ID_PORTAL_CALLS_PER_MINUTE: "0" };

type Key = "challenge402" | "quote" | "votes" | "results" | "feed" | "paid";
const wanted = (key: Key) => !ONLY || ONLY.has(key);

/** What a scenario is measured against besides the "hello JSON" baseline. */
type AnchorKind = "same-bytes" | "stock-middleware" | "vote-ceiling";
const ANCHOR_NAME: Record<AnchorKind, string> = { "same-bytes": "same bytes", "stock-middleware": "stock", "vote-ceiling": "ceiling" };
/** ours / anchor throughput the targets ask for (402 and quote: ≥ 0.95× their same bytes, ≥ 3× the stock middleware). */
const ANCHOR_TARGETS: Partial<Record<Key, Partial<Record<AnchorKind, number>>>> = {
  challenge402: { "same-bytes": 0.95, "stock-middleware": 3 },
  quote: { "same-bytes": 0.95, "stock-middleware": 3 },
  votes: { "vote-ceiling": 0.5 },
};

interface ServiceReady {
  type: "ready";
  url: string;
  pid: number;
  anvilPid: number | undefined;
  dataDir: string;
  limits: { perIpPerMinute: number; votesPerVoterPerMinute: number; voterWritesPerIpPerMinute: number; worldIdPortalCallsPerMinute: number };
  devnet: DevnetInfo;
  /** The devnet's facilitator over HTTP (the stock middleware's facilitator). */
  facilitatorUrl: string;
  /** The service metadata the 402 declares (ServiceMetadata); the stock middleware declares the same bazaar parts. */
  paymentMetadata: { bazaar: StockServerInput["bazaar"] } | undefined;
}

/** ours / one anchor: throughput, and CPU per request the other way round (anchor's / ours). */
interface VsAnchor {
  kind: AnchorKind;
  /** ours ÷ anchor throughput; against the same-bytes ceiling, the median of the interleaved rounds. */
  rps: number;
  cpu: number | null;
  target: number;
  /** Each round's throughput ratio, when ours ran in interleaved slices. */
  rounds?: number[];
}

interface Row {
  key: Key;
  /** An anchor's row (the scenario's own row has none). */
  anchor?: AnchorKind;
  scenario: string;
  connections: number;
  rps: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  errors: number;
  peakRssMb: number;
  /** CPU time of the server process per request (all its threads): robust to a busy machine. */
  cpuUsPerRequest: number | null;
  ratio: number | null;
  /** The scenario's own row: ours / each of its anchors. */
  vsAnchors?: VsAnchor[];
  target: string;
  met: boolean;
  rateLimit: string;
  env: string;
  details?: Record<string, unknown>;
}

/** An anchor server, as a scenario runs it: what it claims to answer, and whether it was checked to. */
interface AnchorServer {
  kind: AnchorKind;
  scenario: string;
  server: { url: string; pid: number };
  claim: string;
  claimHolds: boolean;
  details?: Record<string, unknown>;
}

const rows: Row[] = [];
const log = (line: string) => console.log(line);
const fmt = (value: number | null | undefined, digits = 1) => (value === null || value === undefined || Number.isNaN(value) ? "—" : value.toFixed(digits));
const load1 = () => loadavg()[0]!;

function vsAnchor(key: Key, kind: AnchorKind, ours: { rps: number; cpuUsPerRequest: number }, anchor: { rps: number; cpuUsPerRequest: number }): VsAnchor {
  const cpu = ours.cpuUsPerRequest > 0 && Number.isFinite(anchor.cpuUsPerRequest) ? anchor.cpuUsPerRequest / ours.cpuUsPerRequest : null;
  return { kind, rps: anchor.rps > 0 ? ours.rps / anchor.rps : NaN, cpu, target: ANCHOR_TARGETS[key]?.[kind] ?? NaN };
}

const vsAnchorsText = (vs: readonly VsAnchor[]) =>
  vs
    .map((v) => `${fmt(v.rps, 2)}× ${ANCHOR_NAME[v.kind]}${v.rounds ? ` (median of ${v.rounds.map((r) => fmt(r, 2)).join(", ")})` : ""} (CPU ${fmt(v.cpu, 2)}×)`)
    .join(", ");
const anchorTargetText = (vs: readonly VsAnchor[]) => vs.map((v) => `≥ ${v.target}× ${ANCHOR_NAME[v.kind]}`).join(", ");
const loadString = () => loadavg().map((l) => l.toFixed(2)).join(" ");

async function waitForQuiet(): Promise<void> {
  if (WAIT_QUIET <= 0) return;
  const deadline = Date.now() + WAIT_QUIET * 1000;
  while (load1() >= 1.0 && Date.now() < deadline) {
    log(`  waiting for a quiet machine: load average ${loadString()}`);
    await new Promise((r) => setTimeout(r, 10_000));
  }
}

let profileDir: string | undefined;
async function measured(pid: number, spec: LoadSpec, profile?: { child: Child<{ pid: number }>; name: string }): Promise<LoadResult & { peakRssMb: number; cpuUsPerRequest: number }> {
  if (profile && profileDir) await profile.child.ask({ type: "profile-start" }, "profile-started");
  const rss = sampleRss(pid);
  const cpuBefore = cpuMsOf(pid);
  const result = await runLoad(spec);
  const cpuUsPerRequest = ((cpuMsOf(pid) - cpuBefore) * 1000) / Math.max(1, result.requests);
  const peakRssMb = rss.stop();
  if (profile && profileDir) {
    await profile.child.ask({ type: "profile-stop", file: join(profileDir, `${profile.name}.cpuprofile`) } as { type: string }, "profile-stopped", 60_000);
  }
  return { ...result, peakRssMb, cpuUsPerRequest };
}

async function warm(spec: LoadSpec): Promise<void> {
  await runLoad({ ...spec, durationSeconds: WARMUP });
}

/** How the default limits apply to a scenario that sent `rps` from one IP (per-IP scope). */
function perIpVerdict(rps: number): string {
  const perMinute = rps * 60;
  return perMinute > DEFAULT_PER_IP
    ? `exceeds per-IP ${DEFAULT_PER_IP}/min (${Math.round(perMinute).toLocaleString("en-US")}/min from one IP, ${Math.round(perMinute / DEFAULT_PER_IP)}×): run with it off`
    : `under per-IP ${DEFAULT_PER_IP}/min`;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const work = mkdtempSync(join(tmpdir(), "quali-bench-"));
  const dataDir = join(work, "data");
  mkdirSync(dataDir);
  if (PROFILE) {
    profileDir = join(work, "profiles");
    mkdirSync(profileDir);
  }
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAvgAtStart: loadavg(),
  };
  log(`quali bench — ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, Node ${machine.node}`);
  log(`load average at start (1/5/15 min): ${loadString()}${load1() > 1 ? "  ← the machine is busy: numbers will be low and noisy" : ""}`);
  log(`servers in child processes, autocannon in this process; logs and data in ${work}`);
  // Both servers run as `npm start` runs the service: bundled like `npm run build`, started by plain node
  // (no tsx: its loader thread and transformed sources cost the service ~80 MB of RSS).
  const bundles = join(PROJECT_ROOT, "dist", "bench");
  const bundleOf = (name: string) => {
    const bundle = join(bundles, `${name}.mjs`);
    bundleLikeNpmBuild(bundle, join(here, `${name}.ts`));
    return bundle;
  };
  const baselineBundle = bundleOf("baseline-server");
  const serviceBundle = bundleOf("service-child");
  const sameBytesBundle = bundleOf("same-bytes-server");
  const stockBundle = bundleOf("stock-x402-server");
  const voteCeilingBundle = bundleOf("vote-ceiling-server");
  await waitForQuiet();

  // (0) Baseline.
  const baselineRuns: { c50: number[]; c10: number[]; p99c10: number[]; cpuUs: number[] } = { c50: [], c10: [], p99c10: [], cpuUs: [] };
  const runBaseline = async (label: string) => {
    const baseline = await startChild<{ type: "ready"; url: string; pid: number }>(baselineBundle, [], join(work, "baseline.log"));
    const spec = (connections: number): LoadSpec => ({ url: baseline.ready.url, connections, durationSeconds: DURATION, path: "/", expectStatus: 200 });
    await warm(spec(THROUGHPUT_CONNECTIONS));
    const b50 = await measured(baseline.pid, spec(THROUGHPUT_CONNECTIONS));
    const b10 = await measured(baseline.pid, spec(LATENCY_CONNECTIONS));
    baselineRuns.c50.push(b50.rps);
    baselineRuns.c10.push(b10.rps);
    baselineRuns.p99c10.push(b10.p99Ms);
    baselineRuns.cpuUs.push(b50.cpuUsPerRequest);
    log(`baseline (${label}): ${fmt(b50.rps, 0)} req/s at 50 connections (p99 ${fmt(b50.p99Ms, 2)} ms), ${fmt(b10.rps, 0)} req/s at 10 (p99 ${fmt(b10.p99Ms, 2)} ms), RSS ${fmt(Math.max(b50.peakRssMb, b10.peakRssMb), 0)} MB, ${fmt(b50.cpuUsPerRequest, 0)} µs CPU/req; load ${loadString()}`);
    await baseline.stop();
  };
  await runBaseline("before");
  const baselineRps = (connections: number) => {
    const runs = connections === THROUGHPUT_CONNECTIONS ? baselineRuns.c50 : baselineRuns.c10;
    return runs.reduce((a, b) => a + b, 0) / runs.length;
  };

  const startService = async (label: string, env: Record<string, string>) => {
    const service = await startChild<ServiceReady>(serviceBundle, [JSON.stringify({ DATA_DIR: dataDir, ...env })], join(work, `service-${label}.log`), {
      execArgv: (process.env.BENCH_NODE_OPTIONS ?? "").split(" ").filter(Boolean),
    });
    trackPid(service.ready.anvilPid);
    const limits = service.ready.limits;
    log(
      `service (${label}) at ${service.ready.url}, pid ${service.pid}; limits per IP ${limits.perIpPerMinute || "off"}/min, per voter ${limits.votesPerVoterPerMinute || "off"}/min, ` +
        `voter writes per IP ${limits.voterWritesPerIpPerMinute || "off"}/min, World ID portal calls ${limits.worldIdPortalCallsPerMinute || "off"}/min`,
    );
    return service;
  };

  // (A) Default rate limits, but for the two a single load generator would hit (VOTE_INGESTION_ENV).
  let service: Child<ServiceReady> = await startService("A", VOTE_INGESTION_ENV);
  if (service.ready.limits.perIpPerMinute !== DEFAULT_PER_IP || service.ready.limits.votesPerVoterPerMinute !== DEFAULT_PER_VOTER) {
    throw new Error(`phase A must run at the default limits, got ${JSON.stringify(service.ready.limits)}`);
  }
  const devnet = service.ready.devnet;
  const url = service.ready.url;
  const votePoll = await createPaidPoll(url, devnet, 0, { maxResponses: 1_000_000, question: "Vote ingestion benchmark" });
  const resultsPoll = await createPaidPoll(url, devnet, 1, { maxResponses: RESULT_VOTES, question: "Results benchmark", options: [{ text: "A" }, { text: "B" }, { text: "C" }, { text: "D" }] });
  log(`paid polls for the vote (${votePoll.id}) and results (${resultsPoll.id}) scenarios created`);

  if (wanted("paid")) {
    await sequentialPaidPolls(url, devnet, 2, 3); // warm-up
    await service.ask({ type: "paid-timings" }, "paid-timings");
    const rss = sampleRss(service.pid);
    const cpuBefore = cpuMsOf(service.pid);
    const started = performance.now();
    if (profileDir) await service.ask({ type: "profile-start" }, "profile-started");
    const samples = await sequentialPaidPolls(url, devnet, 2, PAID);
    if (profileDir) await service.ask({ type: "profile-stop", file: join(profileDir, "paid.cpuprofile") } as { type: string }, "profile-stopped", 60_000);
    const seconds = (performance.now() - started) / 1000;
    const cpuUsPerRequest = ((cpuMsOf(service.pid) - cpuBefore) * 1000) / PAID;
    const peakRssMb = rss.stop();
    const { entries } = await service.ask<{ entries: { status: number; serverMs: number; verifyMs: number; settleMs: number }[] }>({ type: "paid-timings" }, "paid-timings");
    const ok = entries.filter((e) => e.status === 201);
    const ours = ok.map((e) => e.serverMs - e.verifyMs - e.settleMs).sort((a, b) => a - b);
    const facilitator = ok.map((e) => e.verifyMs + e.settleMs).sort((a, b) => a - b);
    const server = ok.map((e) => e.serverMs).sort((a, b) => a - b);
    const client = samples.map((s) => s.clientMs).sort((a, b) => a - b);
    const mean = (list: number[]) => list.reduce((a, b) => a + b, 0) / Math.max(1, list.length);
    const errors = samples.filter((s) => s.status !== 201).length;
    const requestsPerMinute = ((PAID * 1) / seconds) * 60;
    const oursMean = mean(ours);
    rows.push({
      key: "paid",
      scenario: "6. paid creation (sequential)",
      connections: 1,
      rps: PAID / seconds,
      p50Ms: percentile(client, 50),
      p99Ms: percentile(client, 99),
      errors,
      peakRssMb,
      cpuUsPerRequest,
      ratio: null,
      target: "ours < 10 ms",
      met: errors === 0 && oursMean < 10,
      rateLimit:
        `${PAID} paid POSTs in ${seconds.toFixed(1)} s: under per-IP ${DEFAULT_PER_IP}/min in this run` +
        (requestsPerMinute > DEFAULT_PER_IP ? ` (sustained, ${Math.round(requestsPerMinute)}/min would exceed it after ${Math.floor((DEFAULT_PER_IP / requestsPerMinute) * 60)} s)` : ""),
      env: "defaults",
      details: {
        polls: PAID,
        oursMeanMs: oursMean,
        oursP50Ms: percentile(ours, 50),
        oursP99Ms: percentile(ours, 99),
        facilitatorMeanMs: mean(facilitator),
        verifyMeanMs: mean(ok.map((e) => e.verifyMs)),
        settleMeanMs: mean(ok.map((e) => e.settleMs)),
        serverMeanMs: mean(server),
        clientMeanMs: mean(client),
      },
    });
    log(`paid creation: ${PAID} polls, client p50 ${fmt(percentile(client, 50), 1)} ms; server ${fmt(mean(server), 1)} ms = ours ${fmt(oursMean, 2)} + facilitator ${fmt(mean(facilitator), 1)} (verify ${fmt(mean(ok.map((e) => e.verifyMs)), 1)}, settle ${fmt(mean(ok.map((e) => e.settleMs)), 1)}) ms`);
  }

  if (wanted("votes")) {
    const warmupVotes = 500;
    const prepStarted = performance.now();
    const prepared = await prepareVoteBodies(url, { id: votePoll.id, optionIds: votePoll.optionIds }, VOTES + warmupVotes + THROUGHPUT_CONNECTIONS * 2, {
      prefix: `bench-${startedAt.getTime()}`,
      onProgress: (done) => process.stdout.write(`\r  preparing votes: ${done}`),
    });
    process.stdout.write("\n");
    const { bodies } = prepared;
    log(`  ${bodies.length} votes prepared (world-id-request + simulated proof each) in ${((performance.now() - prepStarted) / 1000).toFixed(1)} s`);
    /** The same votes, in the same order, for each server that takes them. */
    const votesInOrder = () => {
      let next = 0;
      return () => {
        const body = bodies[next++];
        if (body === undefined) throw new Error("the vote pool ran out: raise BENCH_VOTES");
        return body;
      };
    };
    const votePath = `/api/v1/polls/${votePoll.id}/votes`;
    const voteSpec = (target: string): LoadSpec => ({
      url: target,
      connections: THROUGHPUT_CONNECTIONS,
      method: "POST",
      path: votePath,
      headers: { "content-type": "application/json" },
      nextBody: votesInOrder(),
      expectStatus: 201,
    });
    const sqliteFile = join(dataDir, "quali.sqlite");

    // The vote ceiling first, on a copy of the database as it is now: the votes it takes are the ones the
    // service takes next, each against the same untouched World ID request.
    const ceilingFile = join(work, "vote-ceiling.sqlite");
    await copyDatabase(sqliteFile, ceilingFile);
    // The simulated World ID network key local mode keeps in DATA_DIR: the ceiling verifies with it.
    const networkKeyFile = join(dataDir, NETWORK_KEY_FILE);
    if (!existsSync(networkKeyFile)) throw new Error(`${networkKeyFile} is missing: the vote ceiling needs the simulated World ID network key`);
    const ceilingInput: VoteCeilingInput = { sqliteFile: ceilingFile, networkKeyHex: readFileSync(networkKeyFile, "utf8"), ...prepared.worldId };
    const ceiling = await startChild<{ type: "ready"; url: string; pid: number }>(voteCeilingBundle, [JSON.stringify(ceilingInput)], join(work, "vote-ceiling.log"));
    const ceilingSpec = voteSpec(ceiling.ready.url);
    const ceilingWarmed = await runLoad({ ...ceilingSpec, amount: warmupVotes });
    const ceilingResult = await measured(ceiling.pid, { ...ceilingSpec, amount: VOTES });
    await ceiling.stop();
    const ceilingAccepted = (ceilingWarmed.statuses["201"] ?? 0) + (ceilingResult.statuses["201"] ?? 0);
    const ceilingCounters = voteCounters(ceilingFile, votePoll.id, ceilingAccepted);
    const ceilingErrors = ceilingResult.errors + ceilingWarmed.errors;
    rows.push({
      key: "votes",
      anchor: "vote-ceiling",
      scenario: "3a. anchor — vote ceiling: bare Hono, local mode's verification + the same write in one transaction",
      connections: THROUGHPUT_CONNECTIONS,
      rps: ceilingResult.rps,
      p50Ms: ceilingResult.p50Ms,
      p99Ms: ceilingResult.p99Ms,
      errors: ceilingErrors,
      peakRssMb: ceilingResult.peakRssMb,
      cpuUsPerRequest: ceilingResult.cpuUsPerRequest,
      ratio: ceilingResult.rps / baselineRps(THROUGHPUT_CONNECTIONS),
      target: "0 errors, counters consistent",
      met: ceilingErrors === 0 && ceilingCounters.consistent,
      rateLimit: "none (anchor)",
      env: "copy of the service's database",
      details: { votes: ceilingResult.requests, statuses: ceilingResult.statuses, accepted201: ceilingAccepted, ...ceilingCounters },
    });
    log(
      `vote ceiling: ${fmt(ceilingResult.rps, 0)} votes/s, ${fmt(ceilingResult.cpuUsPerRequest, 0)} µs CPU/vote, p50 ${fmt(ceilingResult.p50Ms, 2)} ms, p99 ${fmt(ceilingResult.p99Ms, 2)} ms, ` +
        `statuses ${JSON.stringify(ceilingResult.statuses)}; counters ${ceilingCounters.consistent ? "consistent" : "INCONSISTENT"}`,
    );

    const spec = voteSpec(url);
    const warmed = await runLoad({ ...spec, amount: warmupVotes });
    const result = await measured(service.pid, { ...spec, amount: VOTES }, { child: service, name: "votes" });
    const sent201 = (warmed.statuses["201"] ?? 0) + (result.statuses["201"] ?? 0);
    const counters = voteCounters(sqliteFile, votePoll.id, sent201);
    rows.push({
      key: "votes",
      scenario: "3. vote ingestion",
      connections: THROUGHPUT_CONNECTIONS,
      rps: result.rps,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      errors: result.errors + warmed.errors,
      peakRssMb: result.peakRssMb,
      cpuUsPerRequest: result.cpuUsPerRequest,
      ratio: result.rps / baselineRps(THROUGHPUT_CONNECTIONS),
      vsAnchors: [vsAnchor("votes", "vote-ceiling", result, ceilingResult)],
      target: "",
      met: false,
      rateLimit:
        `2 requests per distinct voter, under per-voter ${DEFAULT_PER_VOTER}/min (no 429); the per-IP voter-write ceiling and the ` +
        "World ID portal budget are off: every vote comes from one IP here, from many in production",
      env: Object.entries(VOTE_INGESTION_ENV).map(([k, v]) => `${k}=${v}`).join(" "),
      details: { votes: result.requests, statuses: result.statuses, accepted201: sent201, ...counters },
    });
    log(
      `votes: ${fmt(result.rps, 0)} votes/s (${fmt(result.rps / ceilingResult.rps, 2)}× the ceiling), ${fmt(result.cpuUsPerRequest, 0)} µs CPU/vote, p50 ${fmt(result.p50Ms, 2)} ms, p99 ${fmt(result.p99Ms, 2)} ms, ` +
        `statuses ${JSON.stringify(result.statuses)}; counters ${counters.consistent ? "consistent" : "INCONSISTENT"} (${counters.pollVoteCount} counted, ${counters.voteRows} rows, ${sent201} 201s)`,
    );
  }

  const hwmA = memoryOf(service.pid)?.hwmMb ?? NaN;
  log(`service (A) memory now: ${JSON.stringify(await service.ask({ type: "memory" }, "memory"))}; peak RSS ${fmt(hwmA, 0)} MB`);
  await service.stop();

  // Seed the read scenarios' data straight into the SQLite file.
  const sqliteFile = join(dataDir, "quali.sqlite");
  if (wanted("feed")) {
    const t = performance.now();
    seedFeedPolls(sqliteFile, { count: FEED_POLLS, network: devnet.network, payer: devnet.payers[2]!.address.toLowerCase() });
    log(`seeded ${FEED_POLLS.toLocaleString("en-US")} active polls in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  if (wanted("results")) {
    const t = performance.now();
    seedVotes(sqliteFile, { pollId: resultsPoll.id, count: RESULT_VOTES });
    log(`seeded ${RESULT_VOTES.toLocaleString("en-US")} votes with their counters in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  // (B) The same data, with the per-IP limit off: one IP sends far more than 600 requests a minute here.
  service = await startService("B", { RATE_LIMIT_PER_MINUTE: "0" });
  const urlB = service.ready.url;
  type Measured = Awaited<ReturnType<typeof measured>> & { runs?: number[] };
  /** Several runs of one server as one: mean throughput and CPU, the worse latency, every status. */
  const combined = (runs: readonly Measured[]): Measured => {
    const statuses: Record<string, number> = {};
    for (const run of runs) for (const [status, count] of Object.entries(run.statuses)) statuses[status] = (statuses[status] ?? 0) + count;
    const mean = (pick: (run: Measured) => number) => runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
    const worst = (pick: (run: Measured) => number) => Math.max(...runs.map(pick));
    return {
      ...runs[0]!,
      seconds: runs.reduce((sum, run) => sum + run.seconds, 0),
      requests: runs.reduce((sum, run) => sum + run.requests, 0),
      rps: mean((run) => run.rps),
      cpuUsPerRequest: mean((run) => run.cpuUsPerRequest),
      p50Ms: worst((run) => run.p50Ms),
      p99Ms: worst((run) => run.p99Ms),
      maxMs: worst((run) => run.maxMs),
      errors: runs.reduce((sum, run) => sum + run.errors, 0),
      statuses,
      peakRssMb: worst((run) => run.peakRssMb),
      runs: runs.map((run) => run.rps),
    };
  };
  const median = (values: readonly number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  };
  const throughput = async (
    key: Key,
    scenario: string,
    spec: Omit<LoadSpec, "url" | "connections" | "durationSeconds">,
    connections: number,
    target: { p99Ms?: number },
    details?: Record<string, unknown>,
    anchors: { before?: AnchorServer; after?: AnchorServer } = {},
  ) => {
    const runOn = async (server: { url: string; pid: number }, profile?: { child: Child<{ pid: number }>; name: string }): Promise<Measured> => {
      const full: LoadSpec = { ...spec, url: server.url, connections, durationSeconds: DURATION };
      await warm(full);
      return measured(server.pid, full, profile);
    };
    const anchorRow = (anchor: AnchorServer, result: Measured) => {
      rows.push({
        key,
        anchor: anchor.kind,
        scenario: anchor.scenario,
        connections,
        rps: result.rps,
        p50Ms: result.p50Ms,
        p99Ms: result.p99Ms,
        errors: result.errors,
        peakRssMb: result.peakRssMb,
        cpuUsPerRequest: result.cpuUsPerRequest,
        ratio: result.rps / baselineRps(connections),
        target: `0 errors, ${anchor.claim}`,
        met: result.errors === 0 && anchor.claimHolds,
        rateLimit: "none (anchor)",
        env: "",
        details: { statuses: result.statuses, maxMs: result.maxMs, ...(result.runs ? { runs: result.runs } : {}), ...anchor.details },
      });
      log(`${anchor.scenario}: ${fmt(result.rps, 0)} req/s${result.runs ? ` (mean of slices ${result.runs.map((rps) => fmt(rps, 0)).join(", ")})` : ""}, ${fmt(result.cpuUsPerRequest, 0)} µs CPU/req, p50 ${fmt(result.p50Ms, 2)} ms, p99 ${fmt(result.p99Ms, 2)} ms, statuses ${JSON.stringify(result.statuses)}, RSS ${fmt(result.peakRssMb, 0)} MB`);
      return result;
    };
    // Against its ceiling (same bytes) ours runs in ANCHOR_ROUNDS slices interleaved with the ceiling's
    // (C O C O … C, SLICE_SECONDS each): on a shared machine the speed drifts within seconds, and each slice
    // of ours is compared with the ceiling's slices on both sides of it. The ratio is the median over the
    // rounds; the rows show the slices combined.
    let result: Measured;
    let before: Measured | undefined;
    let roundRatios: { rps: number[]; cpu: number[] } | undefined;
    if (anchors.before) {
      const ceiling = anchors.before.server;
      const ours = { url: urlB, pid: service.pid };
      const slice = async (server: { url: string; pid: number }, profile?: { child: Child<{ pid: number }>; name: string }) =>
        measured(server.pid, { ...spec, url: server.url, connections, durationSeconds: SLICE_SECONDS }, profile);
      await warm({ ...spec, url: ceiling.url, connections, durationSeconds: DURATION });
      await warm({ ...spec, url: ours.url, connections, durationSeconds: DURATION });
      const ceilingRuns = [await slice(ceiling)];
      const ourRuns: Measured[] = [];
      for (let round = 0; round < ANCHOR_ROUNDS; round++) {
        ourRuns.push(await slice(ours, round === 0 ? { child: service, name: key } : undefined));
        ceilingRuns.push(await slice(ceiling));
      }
      roundRatios = { rps: [], cpu: [] };
      for (const [round, run] of ourRuns.entries()) {
        const around = [ceilingRuns[round]!, ceilingRuns[round + 1]!];
        roundRatios.rps.push(run.rps / ((around[0]!.rps + around[1]!.rps) / 2));
        roundRatios.cpu.push((around[0]!.cpuUsPerRequest + around[1]!.cpuUsPerRequest) / 2 / run.cpuUsPerRequest);
      }
      result = combined(ourRuns);
      before = anchorRow(anchors.before, combined(ceilingRuns));
    } else {
      result = await runOn({ url: urlB, pid: service.pid }, { child: service, name: key });
    }
    const ratio = result.rps / baselineRps(connections);
    rows.push({
      key,
      scenario,
      connections,
      rps: result.rps,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      errors: result.errors,
      peakRssMb: result.peakRssMb,
      cpuUsPerRequest: result.cpuUsPerRequest,
      ratio,
      target: target.p99Ms !== undefined ? `p99 < ${target.p99Ms} ms` : "",
      met: result.errors === 0 && (target.p99Ms === undefined || result.p99Ms < target.p99Ms),
      // The unpaid POST of the paid resource is a discovery probe, never rate-limited.
      rateLimit: key === "challenge402" ? "never rate-limited (discovery probe)" : perIpVerdict(result.rps),
      env: "RATE_LIMIT_PER_MINUTE=0",
      details: { statuses: result.statuses, maxMs: result.maxMs, ...details },
    });
    const row = rows.at(-1)!;
    log(`${scenario}: ${fmt(result.rps, 0)} req/s (${fmt(ratio, 2)}× baseline), ${fmt(result.cpuUsPerRequest, 0)} µs CPU/req, p50 ${fmt(result.p50Ms, 2)} ms, p99 ${fmt(result.p99Ms, 2)} ms, statuses ${JSON.stringify(result.statuses)}, RSS ${fmt(result.peakRssMb, 0)} MB`);
    const after = anchors.after ? anchorRow(anchors.after, await runOn(anchors.after.server)) : undefined;
    const vs: VsAnchor[] = [];
    if (anchors.before && before && roundRatios) {
      vs.push({ ...vsAnchor(key, anchors.before.kind, result, before), rps: median(roundRatios.rps), cpu: median(roundRatios.cpu), rounds: roundRatios.rps });
    }
    if (anchors.after && after) vs.push(vsAnchor(key, anchors.after.kind, result, after));
    if (vs.length > 0) {
      row.vsAnchors = vs;
      log(`  ours / anchors: ${vsAnchorsText(vs)}`);
    }
  };

  // The 402 and quote anchors: started once for both scenarios, each checked to answer what it claims.
  let paymentAnchors: PaymentAnchors | undefined;
  const challengeRequest = { method: "POST" as const, path: "/api/v1/polls", headers: { "content-type": "application/json" }, body: JSON.stringify(pollBody()) };
  const quoteRequest = { method: "GET" as const, path: "/api/v1/quote?maxResponses=1000" };
  if (wanted("challenge402") || wanted("quote")) {
    const bazaar = service.ready.paymentMetadata?.bazaar;
    if (!bazaar) throw new Error("the service reported no payment metadata: payments are not configured");
    paymentAnchors = await startPaymentAnchors({
      serviceUrl: urlB,
      facilitatorUrl: service.ready.facilitatorUrl,
      bazaar,
      requests: { challenge: challengeRequest, quote: quoteRequest },
      bundles: { sameBytes: sameBytesBundle, stock: stockBundle },
      logFiles: { sameBytes: join(work, "same-bytes.log"), stock: join(work, "stock-x402.log") },
    });
    const { checks } = paymentAnchors;
    const kb = (b: { headerBytes: number; bodyBytes: number }) => `${b.headerBytes.toLocaleString("en-US")} B headers + ${b.bodyBytes.toLocaleString("en-US")} B body`;
    log(
      `anchors: same-bytes server at ${paymentAnchors.sameBytes.ready.url} (402: ${checks.sameBytes.challenge.length === 0 ? "same bytes" : `DIFFERS: ${checks.sameBytes.challenge.join("; ")}`}; ` +
        `quote: ${checks.sameBytes.quote.length === 0 ? "same bytes" : `DIFFERS: ${checks.sameBytes.quote.join("; ")}`}), ` +
        `stock @x402/hono at ${paymentAnchors.stock.ready.url} (challenge ${checks.stock.sameChallenge ? "the same as ours" : "DIFFERS from ours"}, quote ${checks.stock.sameQuote ? "the same as ours" : "DIFFERS from ours"})`,
    );
    log(`  402: ours ${kb(checks.bytes.service402)}, stock ${kb(checks.bytes.stock402)}; quote: ours ${kb(checks.bytes.serviceQuote)}, stock ${kb(checks.bytes.stockQuote)}`);
  }
  const paymentAnchorServers = (anchors: PaymentAnchors, which: "challenge" | "quote"): { before: AnchorServer; after: AnchorServer } => {
    const { checks } = anchors;
    const label = which === "challenge" ? "402" : "quote";
    return {
      before: {
        kind: "same-bytes",
        scenario: `${which === "challenge" ? "1a" : "2a"}. anchor — same bytes: bare @hono/node-server answering the service's ${label} bytes`,
        server: anchors.sameBytes.ready,
        claim: "the service's bytes",
        claimHolds: checks.sameBytes[which].length === 0,
        details: { differences: checks.sameBytes[which], bytes: which === "challenge" ? checks.bytes.service402 : checks.bytes.serviceQuote },
      },
      after: {
        kind: "stock-middleware",
        scenario: `${which === "challenge" ? "1b" : "2b"}. anchor — stock @x402/hono paymentMiddleware, configured for this job`,
        server: anchors.stock.ready,
        claim: which === "challenge" ? "the service's challenge" : "the service's quote",
        claimHolds: which === "challenge" ? checks.stock.sameChallenge : checks.stock.sameQuote,
        details: { bytes: which === "challenge" ? checks.bytes.stock402 : checks.bytes.stockQuote },
      },
    };
  };

  if (wanted("challenge402") && paymentAnchors) {
    await throughput(
      "challenge402",
      "1. 402 challenge (POST /api/v1/polls, no payment)",
      { ...challengeRequest, expectStatus: 402 },
      THROUGHPUT_CONNECTIONS,
      {},
      undefined,
      paymentAnchorServers(paymentAnchors, "challenge"),
    );
  }
  if (wanted("quote") && paymentAnchors) {
    await throughput(
      "quote",
      "2. quote (GET /api/v1/quote?maxResponses=1000)",
      { path: quoteRequest.path, expectStatus: 200 },
      THROUGHPUT_CONNECTIONS,
      {},
      undefined,
      paymentAnchorServers(paymentAnchors, "quote"),
    );
  }
  await paymentAnchors?.stop();
  if (wanted("feed")) {
    const page = (await (await fetch(`${urlB}/api/v1/voter/polls`)).json()) as { polls: unknown[]; nextCursor: string | null };
    if (page.polls.length !== 20 || !page.nextCursor) throw new Error(`the feed answered ${page.polls.length} polls`);
    await throughput("feed", `5. voter feed (GET /api/v1/voter/polls, ${FEED_POLLS.toLocaleString("en-US")} active polls)`, { path: "/api/v1/voter/polls", expectStatus: 200 }, LATENCY_CONNECTIONS, { p99Ms: 20 });
  }
  if (wanted("results")) {
    const headers = { "x-read-token": resultsPoll.readToken };
    const check = (await (await fetch(`${urlB}/api/v1/polls/${resultsPoll.id}/results`, { headers })).json()) as { voteCount: number; status: string };
    if (check.voteCount !== RESULT_VOTES) throw new Error(`results answered voteCount ${check.voteCount}`);
    await throughput("results", `4. results (GET …/results, ${RESULT_VOTES.toLocaleString("en-US")} votes)`, { path: `/api/v1/polls/${resultsPoll.id}/results`, headers, expectStatus: 200 }, LATENCY_CONNECTIONS, { p99Ms: 5 }, { voteCount: check.voteCount, status: check.status });
  }
  const hwmB = memoryOf(service.pid)?.hwmMb ?? NaN;
  log(`service (B) memory now: ${JSON.stringify(await service.ask({ type: "memory" }, "memory"))}; peak RSS ${fmt(hwmB, 0)} MB`);
  await service.stop();

  await runBaseline("after");

  // Ratios to the baseline use the mean of its runs before and after (the machine drifts); ratios to the
  // anchors were taken beside each run. A scenario with anchors meets its target only when every anchor
  // ran without errors and answered what it claims.
  for (const row of rows) {
    if (row.rps !== null && row.ratio !== null) row.ratio = row.rps / baselineRps(row.connections);
    if (row.anchor || !row.vsAnchors) continue;
    const anchorRows = rows.filter((r) => r.key === row.key && r.anchor);
    const anchorsHold = anchorRows.length === row.vsAnchors.length && anchorRows.every((r) => r.met);
    row.target = `${anchorTargetText(row.vsAnchors)}, 0 errors${row.key === "votes" ? ", no overshoot" : ""}`;
    row.met = row.errors === 0 && anchorsHold && row.vsAnchors.every((v) => v.rps >= v.target) && (row.key !== "votes" || row.details?.consistent === true);
  }
  const peakRssMb = Math.max(hwmA, hwmB);
  const order: Key[] = ["challenge402", "quote", "votes", "results", "feed", "paid"];
  const anchorOrder: AnchorKind[] = ["same-bytes", "stock-middleware", "vote-ceiling"];
  const rank = (row: Row) => (row.anchor ? 1 + anchorOrder.indexOf(row.anchor) : 0);
  rows.sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key) || rank(a) - rank(b));

  const header = [
    "scenario",
    "conns",
    "req/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "peak RSS MB",
    "CPU µs/req",
    "× baseline",
    "ours / anchors (CPU/req ratio)",
    "target",
    "met",
    "rate limit (defaults: 600/min per IP, 60/min per voter, 120/min voter writes per IP)",
  ];
  const table = [
    header,
    ...[THROUGHPUT_CONNECTIONS, LATENCY_CONNECTIONS].map((c) => [
      `0. baseline: bare @hono/node-server hello JSON`,
      String(c),
      fmt(baselineRps(c), 0),
      "—",
      "—",
      "0",
      "—",
      fmt(baselineRuns.cpuUs.reduce((a, b) => a + b, 0) / baselineRuns.cpuUs.length, 0),
      "1.00",
      "—",
      "—",
      "—",
      `runs: ${(c === THROUGHPUT_CONNECTIONS ? baselineRuns.c50 : baselineRuns.c10).map((r) => r.toFixed(0)).join(", ")} req/s`,
    ]),
    ...rows.map((r) => [
      r.scenario,
      String(r.connections),
      fmt(r.rps, 0),
      fmt(r.p50Ms, 2),
      fmt(r.p99Ms, 2),
      String(r.errors),
      fmt(r.peakRssMb, 0),
      fmt(r.cpuUsPerRequest, 0),
      r.ratio === null ? "—" : fmt(r.ratio, 2),
      r.anchor ? "(anchor)" : r.vsAnchors ? vsAnchorsText(r.vsAnchors) : "—",
      r.target,
      r.met ? "yes" : "NO",
      r.env ? `${r.rateLimit} [${r.env}]` : r.rateLimit,
    ]),
  ];
  const markdown = [
    `| ${table[0]!.join(" | ")} |`,
    `|${table[0]!.map(() => "---").join("|")}|`,
    ...table.slice(1).map((cells) => `| ${cells.join(" | ")} |`),
  ].join("\n");
  const paid = rows.find((r) => r.key === "paid")?.details;
  const summary = [
    `load average at start ${machine.loadAvgAtStart.map((l) => l.toFixed(2)).join(" ")}, at end ${loadString()}`,
    `peak RSS of the service process (VmHWM): ${fmt(peakRssMb, 0)} MB (target < 250 MB: ${peakRssMb < 250 ? "met" : "MISSED"})`,
    ...rows
      .filter((r) => !r.anchor && r.vsAnchors)
      .map((r) => `${r.scenario}: ours ${vsAnchorsText(r.vsAnchors!)}, ${r.errors} errors; target ${r.target}: ${r.met ? "met" : "MISSED"}`),
    ...(paid
      ? [
          `paid creation: ours ${fmt(paid.oursMeanMs as number, 2)} ms mean (p50 ${fmt(paid.oursP50Ms as number, 2)}, p99 ${fmt(paid.oursP99Ms as number, 2)}), ` +
            `facilitator ${fmt(paid.facilitatorMeanMs as number, 1)} ms (verify ${fmt(paid.verifyMeanMs as number, 1)}, settle ${fmt(paid.settleMeanMs as number, 1)}), agent sees ${fmt(paid.clientMeanMs as number, 1)} ms`,
        ]
      : []),
  ];
  log("");
  log(markdown);
  log("");
  for (const line of summary) log(line);

  const out = resolve(here, "results.json");
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        machine: { ...machine, loadAvgAtEnd: loadavg() },
        setup: {
          durationSeconds: DURATION,
          warmupSeconds: WARMUP,
          connections: { throughput: THROUGHPUT_CONNECTIONS, latency: LATENCY_CONNECTIONS },
          loadGenerator: "autocannon (parent process), servers in child processes, 127.0.0.1",
          feedPolls: FEED_POLLS,
          resultVotes: RESULT_VOTES,
        },
        baseline: { rps50: baselineRps(THROUGHPUT_CONNECTIONS), rps10: baselineRps(LATENCY_CONNECTIONS), runs: baselineRuns },
        peakRssMb: { service: peakRssMb, phaseA: hwmA, phaseB: hwmB },
        anchors: { targets: ANCHOR_TARGETS, paymentChecks: paymentAnchors?.checks },
        scenarios: rows,
        markdown,
      },
      null,
      2,
    )}\n`,
  );
  log(`wrote ${out}`);
  if (PROFILE) {
    rmSync(dataDir, { recursive: true, force: true });
    log(`CPU profiles of the service: ${profileDir}`);
  } else {
    rmSync(work, { recursive: true, force: true });
  }
}

main()
  .catch(async (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
  });
