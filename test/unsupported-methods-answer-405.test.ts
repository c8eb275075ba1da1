// A method a known path does not support answers 405 method_not_allowed in the error envelope, with an
// `Allow` header listing what the path does support (its declared methods, HEAD with GET); a path nobody
// serves stays a 404. Checked in process against every path openapi.json declares.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inProcessApp, type InProcessApp } from "./support/in-process";

let app: InProcessApp;
beforeAll(() => {
  app = inProcessApp();
});
afterAll(async () => {
  await app?.close();
});

const ID = "00000000-0000-4000-8000-000000000000";
const openapi = JSON.parse(readFileSync(new URL("../openapi.json", import.meta.url), "utf8")) as { paths: Record<string, Record<string, unknown>> };
const declared = Object.entries(openapi.paths).map(([path, operations]) => {
  const methods = Object.keys(operations).map((method) => method.toUpperCase());
  return { path: path.replace("{id}", ID), allowed: methods.includes("GET") ? [...methods, "HEAD"] : methods };
});
const UNSUPPORTED = ["PUT", "DELETE", "PATCH"];

describe("unsupported methods on a known path", () => {
  it("PUT, DELETE and PATCH on /api/v1/polls answer 405 with Allow: GET, POST, HEAD", async () => {
    for (const method of UNSUPPORTED) {
      const response = await app.request("/api/v1/polls", { method, headers: { "content-type": "application/json" }, body: "{}" });
      expect(response.status, method).toBe(405);
      expect(response.headers.get("allow")?.split(", ").sort()).toEqual(["GET", "HEAD", "POST"]);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      const { error } = await response.json();
      expect(error).toMatchObject({ code: "method_not_allowed", details: { allow: expect.arrayContaining(["GET", "POST", "HEAD"]) } });
      expect(error.message).toContain(method);
    }
  });

  it.each(declared)("$path: every method it does not declare answers 405 naming the ones it does", async ({ path, allowed }) => {
    for (const method of [...UNSUPPORTED, "GET", "POST"].filter((m) => !allowed.includes(m))) {
      const response = await app.request(path, { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get("allow")?.split(", ").sort(), `${method} ${path}`).toEqual([...allowed].sort());
      expect((await response.json()).error.code).toBe("method_not_allowed");
    }
  });

  it("the health endpoints say so too", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const response = await app.request(path, { method: "DELETE" });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD");
    }
  });
});

describe("a path nobody serves", () => {
  it("answers 404 not_found without an Allow header, whatever the method", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const response = await app.request("/api/v1/nothing-here", { method });
      expect(response.status, method).toBe(404);
      expect(response.headers.get("allow")).toBeNull();
      expect((await response.json()).error.code).toBe("not_found");
    }
  });
});
