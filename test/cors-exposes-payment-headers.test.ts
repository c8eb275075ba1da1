// Browser-based agents on any origin can quote, pay and read, and their scripts can read the x402
// headers (PAYMENT-REQUIRED on the 402, PAYMENT-RESPONSE on the 201). Voter writes stay same-origin:
// another origin gets no Access-Control-Allow-Origin, so the browser refuses.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { payingFetch } from "../scripts/lib/agent";
import { pollBody, startLocalService, type LocalService } from "./support/harness";

const AGENT_ORIGIN = "https://agent.example";
const POLL_ID = "3f0c2a8e-6a4b-4c1d-9f7e-2b5d8c1a9e40";

let service: LocalService;
beforeAll(async () => {
  service = await startLocalService();
});
afterAll(async () => {
  await service?.stop();
});

const exposed = (response: Response) =>
  (response.headers.get("access-control-expose-headers") ?? "").split(",").map((h) => h.trim().toLowerCase());

function preflight(path: string, method: string, headers = "content-type"): Promise<Response> {
  return fetch(`${service.url}${path}`, {
    method: "OPTIONS",
    headers: { origin: AGENT_ORIGIN, "access-control-request-method": method, "access-control-request-headers": headers },
  });
}

describe("agents on another origin", () => {
  it("read PAYMENT-REQUIRED on the 402 of POST /api/v1/polls", async () => {
    const response = await fetch(`${service.url}/api/v1/polls`, {
      method: "POST",
      headers: { origin: AGENT_ORIGIN, "content-type": "application/json" },
      body: JSON.stringify(pollBody()),
    });
    expect(response.status).toBe(402);
    expect(response.headers.get("PAYMENT-REQUIRED")).toBeTruthy();
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(exposed(response)).toEqual(expect.arrayContaining(["payment-required", "payment-response", "retry-after"]));
  });

  it("may send PAYMENT-SIGNATURE / X-PAYMENT with a JSON body (preflight)", async () => {
    const response = await preflight("/api/v1/polls", "POST", "content-type,payment-signature");
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    const allowed = (response.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(",");
    expect(allowed).toEqual(expect.arrayContaining(["content-type", "payment-signature", "x-payment", "x-read-token", "authorization"]));
  });

  it("may send the Access-Control-Expose-Headers request header stock @x402/fetch adds to its paid retry", async () => {
    const response = await preflight("/api/v1/polls", "POST", "content-type,payment-signature,access-control-expose-headers");
    expect(response.status).toBe(204);
    const allowed = (response.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(",");
    expect(allowed).toEqual(expect.arrayContaining(["access-control-expose-headers", "sign-in-with-x", "last-event-id"]));
  });

  it("read PAYMENT-RESPONSE on the 201 of a paid poll", async () => {
    const devnet = service.devnet!;
    const pay = payingFetch({ privateKey: devnet.payers[0]!.privateKey, network: devnet.network, asset: devnet.asset });
    const response = await pay(`${service.url}/api/v1/polls`, {
      method: "POST",
      headers: { origin: AGENT_ORIGIN, "content-type": "application/json" },
      body: JSON.stringify(pollBody()),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("PAYMENT-RESPONSE")).toBeTruthy();
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(exposed(response)).toEqual(expect.arrayContaining(["payment-required", "payment-response"]));
  });

  it("can quote, read polls, results and votes (with X-Read-Token), and fetch the discovery documents", async () => {
    for (const path of ["/api/v1/quote?maxResponses=100", `/api/v1/polls/${POLL_ID}`, "/openapi.json", "/agents.md", "/llms.txt"]) {
      const response = await fetch(`${service.url}${path}`, { headers: { origin: AGENT_ORIGIN } });
      expect(response.headers.get("access-control-allow-origin"), path).toBe("*");
    }
    for (const path of [`/api/v1/polls/${POLL_ID}/results`, `/api/v1/polls/${POLL_ID}/votes`]) {
      const response = await preflight(path, "GET", "x-read-token");
      expect(response.status, path).toBe(204);
      expect(response.headers.get("access-control-allow-origin"), path).toBe("*");
    }
  });
});

describe("voter writes stay same-origin", () => {
  const closed: [string, string][] = [
    ["POST", `/api/v1/polls/${POLL_ID}/votes`],
    ["POST", `/api/v1/polls/${POLL_ID}/world-id-request`],
    ["POST", "/api/v1/voter/simulated-proof"],
    ["POST", "/api/v1/voter/anything"],
    // A write nobody opened on purpose stays closed.
    ["PUT", `/api/v1/polls/${POLL_ID}`],
    ["POST", "/api/v1/some-future-endpoint"],
  ];

  it.each(closed)("%s %s: no Access-Control-Allow-Origin on the preflight or the request", async (method, path) => {
    const pre = await preflight(path, method);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: { origin: AGENT_ORIGIN, "content-type": "application/json" },
      ...(method === "POST" ? { body: "{}" } : {}),
    });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});
