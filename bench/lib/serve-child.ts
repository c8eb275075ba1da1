// How every bench child server (baseline and anchors) listens and stops: on loopback at a free port,
// telling the bench its URL, and stopping on SIGTERM/SIGINT, a "stop" message, or the bench going away.
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";

export function serveBenchChild(fetch: (request: Request) => Response | Promise<Response>, onStopped: () => void = () => undefined): void {
  const server = serve({ fetch, port: 0, hostname: "127.0.0.1" }, () => {
    const { port } = server.address() as AddressInfo;
    process.send?.({ type: "ready", url: `http://127.0.0.1:${port}`, pid: process.pid });
  });
  const stop = () =>
    server.close(() => {
      onStopped();
      process.exit(0);
    });
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("message", (message: { type?: string }) => {
    if (message.type === "stop") stop();
  });
  // The bench (our parent) is gone: never outlive it.
  process.on("disconnect", stop);
}
