// The Node server's own limits (src/server.ts): how long a client may take to send a request, how long
// an idle keep-alive connection stays, and how many connections are open at once. Node's defaults (a
// request may take 300 s, headers 60 s, no connection cap) let slow or idle clients hold sockets and
// memory for minutes.
import type { Server, ServerOptions } from "node:http";
import type { Config } from "../config";

export type ServerLimits = Pick<Config["http"], "headersTimeoutMs" | "requestTimeoutMs" | "keepAliveTimeoutMs" | "maxConnections">;

/** Options for http.createServer (through @hono/node-server's serve({ serverOptions })). */
export function serverOptionsOf(limits: ServerLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node looks for overdue requests only this often (30 s by default), which would let a slow client
    // keep its socket up to 30 s past the deadline: look at least once a second (a walk over the open
    // connections), and four times per header deadline when that is shorter.
    connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** What only the created server can take: the connection cap (further connections are closed at once). */
export function applyServerLimits(server: Server, limits: ServerLimits): void {
  server.maxConnections = limits.maxConnections;
  // Set again on the instance: the documented knobs, whatever the constructor made of the options.
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
}
