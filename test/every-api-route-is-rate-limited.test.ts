// Every operation of the API counts against a limit of the right kind, whichever router declares it:
// agent operations per client IP, voter writes per client IP under their own (carrier-NAT) ceiling. The
// list of operations is read off /openapi.json, so a new route that forgets its guard fails here.
// Each operation is called from its own client address (behind one trusted proxy hop), so the budgets
// of the operations do not mix.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalService, type LocalService } from "./support/harness";

let service: LocalService;
beforeAll(async () => {
  service = await startLocalService({ RATE_LIMIT_PER_MINUTE: "2", RATE_LIMIT_VOTER_WRITES_PER_IP_PER_MINUTE: "2", TRUST_PROXY_HOPS: "1" });
});
afterAll(async () => {
  await service?.stop();
});

const POLL_ID = "3f0c2a8e-6a4b-4c1d-9f7e-2b5d8c1a9e40";
const isVoterWrite = (method: string, path: string) =>
  method === "POST" && (/\/(votes|world-id-request)$/.test(path) || path.startsWith("/api/v1/voter/"));

describe("every API operation in /openapi.json", () => {
  it("is refused with 429 once its client's budget is spent, under the rule of its kind", async () => {
    const document = (await (await fetch(`${service.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => ["get", "post", "put", "patch", "delete"].includes(method))
        .map((method) => ({ method: method.toUpperCase(), path: path.replaceAll("{id}", POLL_ID) })),
    );
    expect(operations.length).toBeGreaterThan(10);
    const rules: Record<string, string | undefined> = {};
    let client = 0;
    for (const { method, path } of operations) {
      client += 1;
      const headers: Record<string, string> = { "x-forwarded-for": `198.51.100.${client}`, "content-type": "application/json" };
      // The unpaid POST of the paid resource is the crawlers' probe (never limited); a paid attempt counts.
      if (method === "POST" && path === "/api/v1/polls") headers["payment-signature"] = "not-a-real-payment";
      let last: Response | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        last = await fetch(`${service.url}${path}`, { method, headers, ...(method === "GET" ? {} : { body: "{}" }) });
        if (attempt < 2) await last.arrayBuffer();
      }
      expect(last!.status, `${method} ${path}`).toBe(429);
      const body = (await last!.json()) as { error: { details: { rule: string } } };
      rules[`${method} ${path}`] = body.error.details.rule;
    }
    for (const [operation, rule] of Object.entries(rules)) {
      const [method, path] = operation.split(" ") as [string, string];
      expect(rule, operation).toBe(isVoterWrite(method, path) ? "voter-writes-per-ip" : "per-ip");
    }
  });
});
