// The Node process: `npm start` runs this file's bundle (dist/server.mjs, built by `npm run build`).
// Reads the configuration, starts the service (src/server.ts) and stops it on SIGINT/SIGTERM. The only
// entry point of the bundle: nothing else in src/ runs code when imported.
import { join, resolve } from "node:path";
import { ConfigError, loadConfig, type Config } from "./config";
import { flushLogs, jsonLogger } from "./http/logger";
import { startServer, type RunningServer } from "./server";

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  // Signal handlers first: a Ctrl-C during start-up must still stop the chain we are starting.
  let running: RunningServer | undefined;
  let stopping: string | undefined;
  const stop = () => {
    running!.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = signal;
    // The lines logged so far first, whole: a full pipe may have taken part of one.
    flushLogs();
    console.log(`${signal}: shutting down`);
    if (running) stop();
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));

  running = await startServer(config, { log: jsonLogger() });
  if (stopping) return stop();
  // The start-up log lines first, then the banner: in the order they happened.
  flushLogs();
  console.log(`Quali polls (${config.mode} mode) listening on ${running.url}`);
  if (running.devnet) {
    console.log(`Local devnet ${running.devnet.network} at ${running.devnet.rpcUrl}, USDC ${running.devnet.asset}`);
    console.log("Demo payer accounts (devnet only, never use on a real chain):");
    for (const payer of running.devnet.payers) console.log(`  ${payer.address}  ${payer.privateKey}`);
    console.log(`Wrote ${join(resolve(config.dataDir), "devnet.json")}. Try: npm run demo`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
