// Listening and graceful shutdown for the Node server. The port is bound before the app exists: with
// PORT=0 the public URL (and so the paid resource URL) is known only once the socket listens.
import { createServer, IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import type { Config } from "../config";
import { errorBody } from "../http/errors";
import type { AccessLog } from "../http/hardening";
import { createReplayEdge, type ReplayEdge, type ReplayStats } from "../http/replay-edge";
import { applyServerLimits, serverOptionsOf } from "../http/server-limits";

type Handler = (request: Request, bindings: HttpBindings | Http2Bindings) => Response | Promise<Response>;

export interface ServeOptions {
  /** The access line of a replayed answer, as the app writes it for the others. */
  accessLog?: AccessLog;
  /** The app's clock: a replayed answer holds until the time the app said (src/http/replay.ts). */
  now?: () => number;
}

export interface Listening {
  port: number;
  /** Starts answering with `handler` (until then: 503 "starting"), answers it offered replayed by the edge. */
  serve(handler: Handler, options?: ServeOptions): void;
  /** How many answers the edge replayed and keeps. */
  replayStats(): ReplayStats;
  /** Stops accepting connections and lets in-flight requests finish, within `graceMs`. */
  close(graceMs: number, log: (line: string) => void): Promise<void>;
}

export async function listen(config: Config): Promise<Listening> {
  let handler: Handler | undefined;
  let served: ServeOptions = {};
  const edge: ReplayEdge = createReplayEdge({ accessLog: (entry) => served.accessLog?.(entry), now: () => (served.now ?? Date.now)() });
  // node-server's listener behind the replay edge (src/http/replay-edge.ts), on our own node:http server.
  const appListener = getRequestListener(
    // The node-server bindings ({ incoming, outgoing }) are passed through: getConnInfo reads the socket from them.
    async (request: Request, bindings: HttpBindings | Http2Bindings) => {
      if (!handler) return Response.json(errorBody("internal_error", "The service is starting."), { status: 503 });
      const response = await handler(request, bindings);
      if (bindings.incoming instanceof IncomingMessage) edge.keep(bindings.incoming, response);
      return response;
    },
    { hostname: config.host },
  );
  const server = createServer(serverOptionsOf(config.http), edge.listener(appListener));
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  applyServerLimits(server, config.http);
  return {
    port: (server.address() as AddressInfo).port,
    serve(next, options = {}) {
      served = options;
      handler = next;
    },
    replayStats: () => edge.stats(),
    async close(graceMs, log) {
      const closed = new Promise<void>((done) => server.close(() => done()));
      // Keep-alive sockets go idle as their last response is written: close them as they do.
      const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
      const forced = setTimeout(() => {
        log("shutdown: in-flight requests did not finish in time; closing their connections");
        server.closeAllConnections();
      }, graceMs);
      await closed;
      clearInterval(idleSweep);
      clearTimeout(forced);
    },
  };
}
