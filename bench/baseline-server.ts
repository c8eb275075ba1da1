// The baseline of `npm run bench`: a bare @hono/node-server app answering "hello JSON", in its own
// process like the service under test, so every scenario's ratio compares like with like.
import { Hono } from "hono";
import { serveBenchChild } from "./lib/serve-child";

const app = new Hono();
app.get("/", (c) => c.json({ hello: "world" }));

serveBenchChild(app.fetch);
