// x402scan finds and understands the service: the validator it uses, @agentcash/discovery (pinned dev
// dependency), run as its CLI against the live local server, lists POST /api/v1/polls as paid with a
// price hint and reports no error-severity warning; its `check` on the poll endpoint probes the real
// 402 and validates it. The CLI's exit code says little: its JSON is what we judge.
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { checkEndpointSchema, getWarningsForL3, validatePaymentRequiredDetailed } from "@agentcash/discovery";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalService, type LocalService } from "./support/harness";

const run = promisify(execFile);
const require = createRequire(import.meta.url);
// The package exports no ./package.json: locate its bin next to the resolved dist entry.
const CLI = join(dirname(require.resolve("@agentcash/discovery")), "..", "bin", "discovery.js");

interface Warning {
  code: string;
  severity: "error" | "warn" | "info";
  message: string;
}

async function discovery(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [CLI, ...args, "--json"], { timeout: 30_000 }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }),
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

const errorsIn = (warnings: unknown) => (warnings as Warning[]).filter((w) => w.severity === "error");

let service: LocalService;
beforeAll(async () => {
  service = await startLocalService();
});
afterAll(async () => {
  await service?.stop();
});

describe("@agentcash/discovery against the live server", () => {
  it("discover: lists POST /api/v1/polls as paid over x402 with a price hint, and no error warnings", async () => {
    const result = await discovery("discover", service.url);
    expect(result.ok).toBe(true);
    expect(result.selectedStage).toBe("openapi");
    const resources = result.resources as Record<string, unknown>[];
    const paid = resources.find((r) => r.method === "POST" && r.path === "/api/v1/polls");
    expect(paid).toMatchObject({
      authHint: "paid",
      priceHint: "0.500000-5000.000000 USD",
      protocols: ["x402"],
    });
    // Every other resource is explicitly public or read-token protected, never "unknown".
    for (const resource of resources) expect(resource.authHint, String(resource.resourceKey)).toBeDefined();
    expect(errorsIn(result.warnings)).toEqual([]);
    // Nothing missing that x402scan asks for: guidance, contact, favicon, auth modes, price bounds.
    const codes = (result.warnings as Warning[]).map((w) => w.code);
    for (const code of [
      "L4_GUIDANCE_MISSING",
      "L4_GUIDANCE_TOO_LONG",
      "OPENAPI_CONTACT_MISSING",
      "FAVICON_MISSING",
      "L2_AUTH_MODE_MISSING",
      "L2_DYNAMIC_PRICE_INCOMPLETE",
      "L3_AUTH_MODE_MISSING",
      "L3_INPUT_SCHEMA_MISSING",
    ]) {
      expect(codes).not.toContain(code);
    }
    expect((result.meta as { guidanceTokens?: number }).guidanceTokens).toBeGreaterThan(0);
  });

  it("check: the poll endpoint is paid, has input and output schemas, and its 402 passes validation", async () => {
    const result = await discovery("check", `${service.url}/api/v1/polls`);
    expect(result.found).toBe(true);
    const post = (result.advisories as Record<string, unknown>[]).find((a) => a.method === "POST");
    expect(post).toMatchObject({ authMode: "paid", estimatedPrice: "0.500000-5000.000000 USD", protocols: ["x402"] });
    expect(post?.inputSchema).toMatchObject({ type: "object", required: expect.arrayContaining(["question", "options"]) });
    expect(post?.outputSchema).toMatchObject({ type: "object" });
    expect(errorsIn(result.warnings)).toEqual([]);
  });

  it("probe: the live 402 is read from PAYMENT-REQUIRED and validates with no issue", async () => {
    const result = await checkEndpointSchema({ url: `${service.url}/api/v1/polls`, probe: true });
    expect(result.found).toBe(true);
    if (!result.found) return;
    const post = result.advisories.find((a) => a.method === "POST");
    expect(post?.source).toBe("probe");
    expect(post?.authMode).toBe("paid");
    expect(post?.paymentOptions?.[0]).toMatchObject({ protocol: "x402", version: 2, amount: "500000", scheme: "exact" });
    expect(post?.inputSchema).toBeDefined();
    expect(post?.outputSchema).toBeDefined();
    expect(getWarningsForL3(post ?? null)).toEqual([]);

    // The same validator, directly on the header the crawler decodes.
    const response = await fetch(`${service.url}/api/v1/polls`, { method: "POST" });
    expect(response.status).toBe(402);
    const decoded = decodePaymentRequiredHeader(response.headers.get("PAYMENT-REQUIRED")!);
    const validation = validatePaymentRequiredDetailed(decoded);
    expect(validation.issues).toEqual([]);
    expect(validation.valid).toBe(true);
  });
});
