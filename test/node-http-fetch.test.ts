// The lean fetch the Node server hands the World ID verifier for plain-http calls (local mode: the
// portal stand-in on loopback) behaves as fetch does for what it covers — status, headers, the body read
// once, the caller's AbortSignal, unreachable hosts — and leaves everything else to the platform fetch.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeHttpFetch } from "../src/voting/node-http-fetch";

let server: Server;
let base: string;
const seen: { method: string; url: string; headers: IncomingMessage["headers"]; body: string }[] = [];
const lean = createNodeHttpFetch();

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      if (req.url === "/stall") return; // never answers
      if (req.url === "/empty") {
        res.writeHead(204);
        return res.end();
      }
      if (req.url === "/redirect") {
        res.writeHead(302, { location: "/elsewhere" });
        return res.end();
      }
      res.writeHead(req.url === "/teapot" ? 418 : 200, "Custom Reason", { "content-type": "application/json", "x-answer": "42" });
      res.end(JSON.stringify({ echoed: Buffer.concat(chunks).toString("utf8"), ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  lean.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("the Node server's lean fetch", () => {
  it("sends method, headers and a string body, and answers a Response with status, headers and the body", async () => {
    const response = await lean.fetch(`${base}/verify?x=1`, { method: "POST", headers: { "content-type": "application/json", "x-hello": "there" }, body: '{"a":1}' });
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(response.ok).toBe(true);
    expect(response.statusText).toBe("Custom Reason");
    expect(response.headers.get("x-answer")).toBe("42");
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toEqual({ echoed: '{"a":1}', ok: true });
    const request = seen.at(-1)!;
    expect(request).toMatchObject({ method: "POST", url: "/verify?x=1", body: '{"a":1}' });
    expect(request.headers).toMatchObject({ "content-type": "application/json", "x-hello": "there", "content-length": "7" });
  });

  it("reads the body once, like any Response; clone, text, arrayBuffer, blob and body serve the same bytes", async () => {
    const response = await lean.fetch(`${base}/teapot`, { method: "POST", body: "hi" });
    expect(response.status).toBe(418);
    const copy = response.clone();
    expect(await response.text()).toBe('{"echoed":"hi","ok":true}');
    expect(response.bodyUsed).toBe(true);
    await expect(response.json()).rejects.toThrow(TypeError);
    expect(new TextDecoder().decode(await copy.clone().arrayBuffer())).toBe('{"echoed":"hi","ok":true}');
    expect(await (await copy.clone().blob()).text()).toBe('{"echoed":"hi","ok":true}');
    expect(await new Response(copy.body).text()).toBe('{"echoed":"hi","ok":true}');
    expect(copy.bodyUsed).toBe(true);
  });

  it("answers a body-less status with a null body, and does not follow redirects", async () => {
    const empty = await lean.fetch(`${base}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    expect(await empty.text()).toBe("");
    const redirect = await lean.fetch(`${base}/redirect`, { method: "POST", body: "x" });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("/elsewhere");
  });

  it("aborts with the caller's signal, rejecting with its reason", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const pending = lean.fetch(`${base}/stall`, { method: "POST", body: "{}", signal: controller.signal });
    setTimeout(() => controller.abort(new DOMException("too slow", "TimeoutError")), 100);
    await expect(pending).rejects.toMatchObject({ name: "TimeoutError" });
    expect(performance.now() - started).toBeLessThan(2_000);
    const already = new AbortController();
    already.abort();
    await expect(lean.fetch(`${base}/verify`, { signal: already.signal })).rejects.toMatchObject({ name: "AbortError" });
    // The connection pool still works afterwards.
    expect((await lean.fetch(`${base}/verify`, { method: "POST", body: "again" })).status).toBe(200);
  });

  it("rejects with a TypeError when nobody listens, as fetch does", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(lean.fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}" })).rejects.toThrow(TypeError);
  });

  it("leaves other calls to the platform fetch (here: a Request object, a Headers instance)", async () => {
    const viaRequest = await lean.fetch(new Request(`${base}/verify`, { method: "POST", body: "req" }));
    expect(await viaRequest.json()).toEqual({ echoed: "req", ok: true });
    const viaHeaders = await lean.fetch(`${base}/verify`, { method: "POST", headers: new Headers({ "x-h": "1" }), body: "hdr" });
    expect(await viaHeaders.json()).toEqual({ echoed: "hdr", ok: true });
    expect(seen.at(-1)!.headers["x-h"]).toBe("1");
  });
});
