// The committed openapi.json is the document the service serves (its `servers` entry aside), so
// reviewers and offline tools see the real API. When a route changes, this fails until
// `npm run openapi` regenerates the file. Also: every /api route is in the document, every operation
// declares its security, and the paid one its x-payment-info and 402.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedOpenApiText } from "../src/discovery/openapi";
import { startLocalService, type LocalService } from "./support/harness";

const OPENAPI_FILE = fileURLToPath(new URL("../openapi.json", import.meta.url));
const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

let service: LocalService;
let served: Record<string, unknown>;
beforeAll(async () => {
  service = await startLocalService();
  const response = await fetch(`${service.url}/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  served = (await response.json()) as Record<string, unknown>;
});
afterAll(async () => {
  await service?.stop();
});

type Operation = Record<string, unknown> & { responses: Record<string, unknown> };
function operations(document: Record<string, unknown>): [string, Operation][] {
  const paths = document.paths as Record<string, Record<string, Operation>>;
  return Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]): [string, Operation] => [`${method.toUpperCase()} ${path}`, operation]),
  );
}

describe("openapi.json", () => {
  it("is committed and equals the served document without its servers (run `npm run openapi` when this fails)", () => {
    const committed = JSON.parse(readFileSync(OPENAPI_FILE, "utf8")) as Record<string, unknown>;
    const { servers, ...neutral } = served;
    expect(servers).toEqual([{ url: service.url }]);
    expect(committed).toEqual(neutral);
    // Byte for byte too: 2-space JSON, stable key order, trailing newline.
    expect(readFileSync(OPENAPI_FILE, "utf8")).toBe(committedOpenApiText(served));
  });

  it("is OpenAPI 3.1 with contact and agent guidance under 4,000 characters", () => {
    expect(served.openapi).toBe("3.1.0");
    const info = served.info as Record<string, unknown>;
    expect(info.contact).toMatchObject({ url: expect.stringMatching(/^https:\/\//) });
    const guidance = info["x-guidance"] as string;
    expect(guidance.length).toBeGreaterThan(500);
    expect(guidance.length).toBeLessThan(4000);
  });

  it("documents every /api route the app serves", async () => {
    expect(service.logs.filter((line) => line.includes("missing from /openapi.json"))).toEqual([]);
  });

  it("declares security on every operation: [] for public ones, the read token for results and votes", () => {
    for (const [key, operation] of operations(served)) {
      expect(Array.isArray(operation.security), `${key} declares security`).toBe(true);
      expect(operation.summary ?? operation.description, `${key} has a summary`).toBeTruthy();
      expect(Object.keys(operation.responses).length, `${key} has responses`).toBeGreaterThan(0);
    }
    const byKey = new Map(operations(served));
    expect(byKey.get("GET /api/v1/quote")?.security).toEqual([]);
    expect(byKey.get("GET /api/v1/polls/{id}")?.security).toEqual([]);
    for (const key of ["GET /api/v1/polls/{id}/results", "GET /api/v1/polls/{id}/votes"]) {
      if (byKey.has(key)) expect(byKey.get(key)?.security, key).toEqual([{ ReadToken: [] }, { ReadTokenBearer: [] }, { SignInWithX: [] }]);
    }
  });

  it("marks POST /api/v1/polls as paid: x-payment-info, a 402 with PAYMENT-REQUIRED, request and response schemas", () => {
    const create = new Map(operations(served)).get("POST /api/v1/polls")!;
    expect(create["x-payment-info"]).toEqual({
      price: { mode: "dynamic", currency: "USD", min: "0.500000", max: "5000.000000" },
      protocols: [{ x402: {} }],
    });
    expect(create.security).toEqual([]);
    expect(create.responses["402"]).toMatchObject({
      headers: { "PAYMENT-REQUIRED": expect.any(Object) },
      content: { "application/json": { schema: expect.any(Object) } },
    });
    expect(create.responses["201"]).toMatchObject({ content: { "application/json": { schema: expect.any(Object) } } });
    expect(create.responses["400"]).toBeDefined();
    expect(create.requestBody).toMatchObject({ required: true, content: { "application/json": { schema: expect.any(Object) } } });
  });
});
