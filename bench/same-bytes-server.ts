// An anchor of `npm run bench`: a bare @hono/node-server app that answers with exactly the bytes the
// service answered (status, every header, body), captured from the running service at bench time — for
// POST /api/v1/polls its 402 challenge, for GET /api/v1/quote its quote. Nothing is computed per request:
// this is the fastest answer these bytes allow on this machine, the ceiling for ours. In its own process,
// like the service under test.
//
// argv[2] (JSON): { answers: CapturedAnswer[] }. Headers node sets itself (date, connection, keep-alive,
// content-length, transfer-encoding) are left to node, as they are for the service; the rest, request id
// included, are sent as captured.
import { Hono } from "hono";
import type { CapturedAnswer } from "./lib/anchors";
import { serveBenchChild } from "./lib/serve-child";

const { answers } = JSON.parse(process.argv[2] ?? "{}") as { answers: CapturedAnswer[] };

const app = new Hono();
for (const answer of answers) {
  const { status, headers, body } = answer;
  // A Response built from a plain header record is written straight to the socket by @hono/node-server,
  // as the service's hot routes answer (src/http/response-headers.ts respond()); node-server copies the
  // record before it adds to it, so one record serves every response.
  app.on(answer.method, answer.path, () => new Response(body, { status, headers }));
}

serveBenchChild(app.fetch);
