// The World ID portal stand-in (./standin.ts) as a process of its own:
//   npx tsx src/devnet/world-id/standin-cli.ts --rp-id rp_x --network-key HEX(32 bytes) [--app-id app_x]
//       [--port N] [--host H] [--environment production|staging]
// A file of its own so that bundling the service (`npm run build`) never bundles a second entry point.
import { parseArgs } from "node:util";
import { parseNetworkKey } from "./simulator";
import { startWorldIdStandin } from "./standin";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "rp-id": { type: "string" },
      "app-id": { type: "string" },
      "network-key": { type: "string" },
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      environment: { type: "string", default: "production" },
    },
  });
  const rpId = values["rp-id"];
  const keyHex = values["network-key"];
  let networkKey: Uint8Array | undefined;
  try {
    networkKey = keyHex ? parseNetworkKey(keyHex) : undefined;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
  }
  if (!rpId || !networkKey) {
    console.error("usage: world-id-standin --rp-id rp_x --network-key HEX(32 bytes) [--app-id app_x] [--port N] [--host H] [--environment production|staging]");
    process.exit(2);
  }
  const standin = await startWorldIdStandin({
    relyingParties: [{ rpId, ...(values["app-id"] ? { appId: values["app-id"] } : {}) }],
    networkKey,
    host: values.host!,
    port: Number(values.port),
    environment: values.environment === "staging" ? "staging" : "production",
  });
  console.log(`World ID portal stand-in listening on ${standin.url}`);
  const stop = () => void standin.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
