// The service under test, as `npm start` runs it in local mode (anvil, test USDC, the official
// facilitator in-process, the World ID portal stand-in, SQLite), in a process of its own so the load
// generator in the parent never competes with it on the same event loop. Started by bench/run.ts with
// the variables to use as argv[2] (JSON); nothing else from the environment reaches the config, so no
// key in the operator's shell can make the bench talk to anything but 127.0.0.1.
//
// It also serves the devnet's facilitator over HTTP on a loopback port (`facilitatorUrl`), and reports the
// service metadata its 402 declares (`paymentMetadata`): the stock-middleware anchor (stock-x402-server.ts)
// is configured from them as anyone would configure it.
//
// Messages (IPC):  → { type: "ready", url, pid, anvilPid, devnet, limits, facilitatorUrl, paymentMetadata }
//                  ← { type: "paid-timings" }  → { type: "paid-timings", entries } (and resets them)
//                  ← { type: "profile-start" } / { type: "profile-stop", file } → CPU profile of a window
//                  ← { type: "memory" }       → { type: "memory", rss, heapUsed, heapTotal, external, arrayBuffers } (MB)
//                  ← { type: "stop" }          → closes the server and anvil, exits
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { loadConfig } from "../src/config";
import { serveFacilitatorOverHttp, type FacilitatorHttpServer } from "../src/devnet/facilitator";
import { jsonLogger, type AccessEntry, type Logger } from "../src/http/logger";
import { startServer, type RunningServer } from "../src/server";

const env = JSON.parse(process.argv[2] ?? "{}") as Record<string, string>;

/** One paid POST /api/v1/polls as the server saw it: total time and the facilitator's part of it. */
interface PaidTiming {
  status: number;
  serverMs: number;
  verifyMs: number;
  settleMs: number;
}

const paid: PaidTiming[] = [];
let facilitatorVerifyMs = 0;
let facilitatorSettleMs = 0;

// The production JSON logger (one access line per request), written to our stdout: the bench points it
// at a file, as an operator's `npm start > log` would.
const base = jsonLogger();
const timePaid = (fields: Record<string, unknown>) => {
  if (fields.method === "POST" && fields.path === "/api/v1/polls" && (facilitatorVerifyMs > 0 || facilitatorSettleMs > 0)) {
    paid.push({ status: Number(fields.status), serverMs: Number(fields.ms), verifyMs: facilitatorVerifyMs, settleMs: facilitatorSettleMs });
    facilitatorVerifyMs = 0;
    facilitatorSettleMs = 0;
  }
};
// Access lines through the logger's own lane, as `npm start` writes them (src/main.ts logs with jsonLogger()).
const log: Logger = Object.assign(
  (message: string, fields?: Record<string, unknown>) => {
    if (message === "request" && fields) timePaid(fields);
    base(message, fields);
  },
  {
    access: (entry: AccessEntry) => {
      timePaid(entry);
      base.access(entry);
    },
  },
);

let running: RunningServer | undefined;
let facilitatorHttp: FacilitatorHttpServer | undefined;
let stopping: Promise<void> | undefined;
const stop = () =>
  (stopping ??= (async () => {
    await facilitatorHttp?.close();
    await running?.close();
    process.exit(0);
  })().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  }));
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
// The bench is gone (crashed or killed): stop anvil with us rather than leave it behind.
process.on("disconnect", () => void stop());

async function main(): Promise<void> {
  const config = loadConfig({ MODE: "local", HOST: "127.0.0.1", PORT: "0", ...env });
  running = await startServer(config, { log });
  if (stopping) return;
  const devnet = running.devnet!;
  // Time the facilitator's share of a paid request: the in-process official facilitator is a plain
  // object the x402 resource server calls through, so wrapping its two methods sees every call.
  const facilitator = devnet.facilitator as unknown as Record<"verify" | "settle", (...args: unknown[]) => Promise<unknown>>;
  for (const method of ["verify", "settle"] as const) {
    const original = facilitator[method].bind(facilitator);
    facilitator[method] = async (...args: unknown[]) => {
      const started = performance.now();
      try {
        return await original(...args);
      } finally {
        const ms = performance.now() - started;
        if (method === "verify") facilitatorVerifyMs += ms;
        else facilitatorSettleMs += ms;
      }
    };
  }
  facilitatorHttp = await serveFacilitatorOverHttp(devnet.facilitator);
  let profiler: Session | undefined;
  process.on("message", (message: { type?: string; file?: string }) => {
    if (message.type === "paid-timings") process.send?.({ type: "paid-timings", entries: paid.splice(0) });
    if (message.type === "memory") {
      const mb = (n: number) => Math.round(n / 2 ** 20);
      // With --expose-gc (BENCH_NODE_OPTIONS), after a full collection: what is live, not what is garbage.
      (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      process.send?.({ type: "memory", rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) });
    }
    if (message.type === "profile-start") {
      profiler = new Session();
      profiler.connect();
      profiler.post("Profiler.enable", () => profiler!.post("Profiler.start", () => process.send?.({ type: "profile-started" })));
    }
    if (message.type === "profile-stop") {
      profiler?.post("Profiler.stop", (error, result) => {
        if (!error && message.file) writeFileSync(message.file, JSON.stringify(result.profile));
        profiler?.disconnect();
        profiler = undefined;
        process.send?.({ type: "profile-stopped" });
      });
    }
    if (message.type === "stop") void stop();
  });
  process.send?.({
    type: "ready",
    url: running.url.replace("localhost", "127.0.0.1"),
    pid: process.pid,
    anvilPid: devnet.anvilPid,
    dataDir: config.dataDir,
    limits: {
      perIpPerMinute: config.http.rateLimitPerMinute,
      votesPerVoterPerMinute: config.http.rateLimitVotesPerMinute,
      voterWritesPerIpPerMinute: config.http.rateLimitVoterWritesPerIpPerMinute,
      worldIdPortalCallsPerMinute: config.worldId.portalCallsPerMinute,
    },
    facilitatorUrl: facilitatorHttp.url,
    paymentMetadata: running.payments?.metadata,
    devnet: {
      network: devnet.network,
      asset: devnet.asset,
      payers: devnet.payers.map((p) => ({ address: p.address, privateKey: p.privateKey })),
    },
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
