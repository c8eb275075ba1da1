// Production never simulates World ID: without WORLD_ID_* the voting endpoints answer 503 naming the
// missing variable (and startup logs it); with them, the real portal is used and no stand-in starts.
// The simulated-proof endpoint is 404 in production either way.
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { startProductionService, type ProductionService } from "./support/harness";

let running: ProductionService | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function start(env: Record<string, string>) {
  running = await startProductionService(env);
  return running;
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const pollId = "7d0c1f3e-0000-4000-8000-000000000000";
const voteBody = {
  optionId: "x",
  payoutAddress: `0x${"1".repeat(40)}`,
  proof: { protocol_version: "4.0", nonce: "0x01", action: "a", responses: [] },
};

describe("World ID configuration in production", () => {
  it("lists the missing WORLD_ID_* variables as problems of the world_id area", () => {
    const { problems } = loadConfig({ MODE: "production" });
    expect(problems.filter((p) => p.area === "world_id").map((p) => [p.variable, p.code])).toEqual([
      ["WORLD_ID_APP_ID", "world_id_not_configured"],
      ["WORLD_ID_RP_ID", "world_id_not_configured"],
      ["WORLD_ID_SIGNING_KEY", "world_id_not_configured"],
    ]);
    expect(loadConfig({ MODE: "local" }).problems).toEqual([]);
    expect(() => loadConfig({ WORLD_ID_SIGNING_KEY: "not-hex" })).toThrow(/WORLD_ID_SIGNING_KEY/);
  });

  it("answers 503 world_id_not_configured on voting, logs the variables, and serves no simulated World ID", async () => {
    const { logs, url } = await start({});
    for (const variable of ["WORLD_ID_APP_ID", "WORLD_ID_RP_ID", "WORLD_ID_SIGNING_KEY"]) {
      expect(logs.some((line) => line.includes(variable))).toBe(true);
    }
    expect(running!.server.worldIdStandin).toBeUndefined();
    const request = await post(`${url}/api/v1/polls/${pollId}/world-id-request`, { optionId: "x", payoutAddress: `0x${"1".repeat(40)}` });
    expect(request.status).toBe(503);
    const body = (await request.json()) as { error: { code: string; message: string; details: { missing: string[] } } };
    expect(body.error.code).toBe("world_id_not_configured");
    expect(body.error.details.missing).toEqual(["WORLD_ID_APP_ID", "WORLD_ID_RP_ID", "WORLD_ID_SIGNING_KEY"]);
    const vote = await post(`${url}/api/v1/polls/${pollId}/votes`, voteBody);
    expect(vote.status).toBe(503);
    const simulated = await post(`${url}/api/v1/voter/simulated-proof`, {
      action: "a",
      signal: "s",
      rpContext: { rp_id: "rp_x", nonce: "0x01", created_at: 1, expires_at: 2, signature: "0x" },
    });
    expect(simulated.status).toBe(404);
    const feed = await fetch(`${url}/api/v1/voter/polls`);
    expect(feed.status).toBe(200);
  });

  it("uses the real portal and never starts the stand-in when configured", async () => {
    const { logs, url } = await start({
      WORLD_ID_APP_ID: "app_staging_123",
      WORLD_ID_RP_ID: "rp_0123456789abcdef",
      WORLD_ID_SIGNING_KEY: "11".repeat(32),
    });
    expect(running!.server.worldIdStandin).toBeUndefined();
    expect(logs.some((line) => line.includes("verifying at https://developer.world.org"))).toBe(true);
    expect(logs.some((line) => /SIMULATED/.test(line))).toBe(false);
    const request = await post(`${url}/api/v1/polls/${pollId}/world-id-request`, { optionId: "x", payoutAddress: `0x${"1".repeat(40)}` });
    expect(request.status).toBe(404);
    const simulated = await post(`${url}/api/v1/voter/simulated-proof`, {
      action: "a",
      signal: "s",
      rpContext: { rp_id: "rp_x", nonce: "0x01", created_at: 1, expires_at: 2, signature: "0x" },
    });
    expect(simulated.status).toBe(404);
  });
});
