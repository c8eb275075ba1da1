// The baseline of `npm run bench`: a bare @hono/node-server app answering "hello JSON", in its own
// process like the service under test, so every scenario's ratio compares like with like.
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";

const app = new Hono();
app.get("/", (c) => c.json({ hello: "world" }));

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: "ready", url: `http://127.0.0.1:${port}`, pid: process.pid });
});

const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The bench (our parent) is gone: never outlive it.
process.on("disconnect", stop);
