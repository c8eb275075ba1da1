// The MCP server as a host runs it: `bin/quali-mcp` spawned over stdio by the SDK's own client. Also a
// stand-in "service" that only counts the requests it gets, to prove a refused input never reached it.
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { PROJECT_ROOT } from "../../src/project-paths";
import type { ServerProcess } from "./server-process";

export interface McpSession {
  client: Client;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

/** Spawns quali-mcp with exactly these QUALI_* settings (nothing inherited from the test's environment). */
export async function startMcp(env: Record<string, string>, command: { command: string; args: string[] } = binCommand()): Promise<McpSession> {
  const transport = new StdioClientTransport({ ...command, env, stderr: "pipe", cwd: PROJECT_ROOT });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: "quali-test-host", version: "1.0.0" });
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`quali-mcp did not start: ${String(error)}\n${stderr}`);
  }
  return { client, stderr: () => stderr, close: () => client.close() };
}

export function binCommand(): { command: string; args: string[] } {
  return { command: process.execPath, args: [join(PROJECT_ROOT, "bin", "quali-mcp")] };
}

export function freshHome(): string {
  return join(mkdtempSync(join(tmpdir(), "quali-mcp-test-")), "home");
}

/** What the service's local mode wrote to DATA_DIR/devnet.json: the chain and its funded payers. */
export interface DevnetFile {
  network: string;
  rpcUrl: string;
  asset: `0x${string}`;
  payTo: `0x${string}`;
  payers: { address: `0x${string}`; privateKey: `0x${string}` }[];
}

export function readDevnet(dataDir: string): DevnetFile {
  return JSON.parse(readFileSync(join(dataDir, "devnet.json"), "utf8")) as DevnetFile;
}

/** The structured result of a tool call (every tool answers with structuredContent). */
export function data(result: Awaited<ReturnType<Client["callTool"]>>): Record<string, unknown> {
  return ((result as CallToolResult).structuredContent ?? {}) as Record<string, unknown>;
}

export function text(result: Awaited<ReturnType<Client["callTool"]>>): string {
  return (result as CallToolResult).content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

export interface CountingService {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/** Answers every request 503 and records it. */
export async function startCountingService(): Promise<CountingService> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(503, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: "payment_not_configured", message: "stand-in" } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type { ServerProcess };
