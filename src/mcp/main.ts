// quali-mcp: the MCP server for agents, over stdio. Run with `npm run mcp` or the `quali-mcp` bin.
// stdout carries the protocol only: every log line goes to stderr.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { clientPort } from "./client-port";
import { formatUsdc, loadMcpConfig, McpConfigError, type McpConfig } from "./config";
import { ensurePrivateDir } from "./private-files";
import { SpendLedger } from "./spend-ledger";
import { TokenStore } from "./token-store";
import { registerTools } from "./tools";

export const SERVER_NAME = "quali";
export const SERVER_VERSION = "0.1.0";

/** A library that logs with console.log must not corrupt the protocol on stdout. */
function keepStdoutForTheProtocol(): void {
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;
}

function configure(): McpConfig {
  try {
    return loadMcpConfig(process.env);
  } catch (error) {
    if (error instanceof McpConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  keepStdoutForTheProtocol();
  const config = configure();
  const tokens = new TokenStore(config.home);
  try {
    ensurePrivateDir(config.home);
    tokens.init();
  } catch (error) {
    process.stderr.write(
      `quali-mcp: cannot use QUALI_MCP_HOME ${config.home} (${error instanceof Error ? error.message : String(error)}); ` +
        "set QUALI_MCP_HOME to a directory this user can create and write.\n",
    );
    process.exit(2);
  }
  const ledger = new SpendLedger({ home: config.home, maxAtomicPerDay: config.maxAtomicPerDay });
  const server = new McpServer({ name: SERVER_NAME, version: SERVER_VERSION }, { capabilities: { tools: {} } });
  registerTools(server, {
    port: clientPort(config),
    ledger,
    tokens,
    account: config.account,
    baseUrl: config.baseUrl,
    maxAtomicPerPoll: config.maxAtomicPerPoll,
    maxAtomicPerDay: config.maxAtomicPerDay,
    network: config.network,
  });
  await server.connect(new StdioServerTransport());
  process.stderr.write(
    `quali-mcp: serving ${config.baseUrl} over stdio; payer ${config.account?.address ?? "none (QUALI_PAYER_PRIVATE_KEY unset: create_poll and list_my_polls refuse)"}; ` +
      `limits ${formatUsdc(config.maxAtomicPerPoll)} USDC per poll, ${formatUsdc(config.maxAtomicPerDay)} USDC per 24 h; ` +
      `network ${config.network ?? "the service's first"}; home ${config.home}\n`,
  );
  const stop = () => {
    void server.close().finally(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  // The host closing our stdin ends the session.
  process.stdin.on("end", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`quali-mcp: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
