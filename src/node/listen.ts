// Listening and graceful shutdown for the Node server. The port is bound before the app exists: with
// PORT=0 the public URL (and so the paid resource URL) is known only once the socket listens.
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { serve, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import type { Config } from "../config";
import { errorBody } from "../http/errors";
import { applyServerLimits, serverOptionsOf } from "../http/server-limits";

type Handler = (request: Request, bindings: HttpBindings | Http2Bindings) => Response | Promise<Response>;

export interface Listening {
  port: number;
  /** Starts answering with `handler` (until then: 503 "starting"). */
  serve(handler: Handler): void;
  /** Stops accepting connections and lets in-flight requests finish, within `graceMs`. */
  close(graceMs: number, log: (line: string) => void): Promise<void>;
}

export async function listen(config: Config): Promise<Listening> {
  let handler: Handler | undefined;
  const server = await new Promise<HttpServer>((resolve) => {
    const s = serve(
      {
        // The node-server bindings ({ incoming, outgoing }) are passed through: getConnInfo reads the socket from them.
        fetch: (request: Request, bindings: HttpBindings | Http2Bindings) =>
          handler ? handler(request, bindings) : Response.json(errorBody("internal_error", "The service is starting."), { status: 503 }),
        port: config.port,
        hostname: config.host,
        serverOptions: serverOptionsOf(config.http),
      },
      () => resolve(s as HttpServer),
    );
  });
  applyServerLimits(server, config.http);
  return {
    port: (server.address() as AddressInfo).port,
    serve(next) {
      handler = next;
    },
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
