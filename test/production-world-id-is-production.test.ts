// Production World ID is production. WORLD_ID_ENVIRONMENT=staging (the World ID simulator, whose proofs
// have no human behind them and would earn real USDC) is a configuration problem in production: voting
// answers 503 world_id_not_configured and startup says why. A proof must state the environment this
// deployment verifies (IDKit always does), must be for the credential the vote asked for (proof of human),
// and the portal's own answer must not name another environment. Each refusal is the error envelope with
// a stable code and writes nothing. Local mode's simulator keeps working.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { errorCode, prepareVote, submitPrepared, type PreparedVote } from "../scripts/lib/voter";
import { loadConfig } from "../src/config";
import { localNetworkKey, startWorldIdStandin, type WorldIdStandin } from "../src/devnet/world-id";
import { startLocalService, type LocalService, startProductionService, type ProductionService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

const WORLD_ID = { WORLD_ID_APP_ID: "app_0123456789abcdef", WORLD_ID_RP_ID: "rp_0123456789abcdef", WORLD_ID_SIGNING_KEY: "11".repeat(32) };
const post = (url: string, body: unknown) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("WORLD_ID_ENVIRONMENT=staging in production", () => {
  let running: ProductionService | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  it("is a world_id configuration problem in production only", () => {
    const problems = loadConfig({ MODE: "production", ...WORLD_ID, WORLD_ID_ENVIRONMENT: "staging" }).problems.filter((p) => p.area === "world_id");
    expect(problems).toEqual([expect.objectContaining({ variable: "WORLD_ID_ENVIRONMENT", code: "world_id_not_configured", kind: "refused" })]);
    expect(loadConfig({ MODE: "production", ...WORLD_ID }).problems.filter((p) => p.area === "world_id")).toEqual([]);
    expect(loadConfig({ MODE: "local", WORLD_ID_ENVIRONMENT: "staging" }).problems).toEqual([]);
  });

  it("turns voting off with 503 world_id_not_configured, says why at startup, and writes nothing", async () => {
    running = await startProductionService({ ...WORLD_ID, WORLD_ID_ENVIRONMENT: "staging" });
    const { logs } = running;
    expect(logs.some((line) => line.includes("WORLD_ID_ENVIRONMENT is refused") && line.includes("staging"))).toBe(true);
    expect(logs.some((line) => /world id: not configured/.test(line))).toBe(true);

    const { url } = running;
    const pollId = "7d0c1f3e-0000-4000-8000-000000000000";
    const request = await post(`${url}/api/v1/polls/${pollId}/world-id-request`, { optionId: "x", payoutAddress: `0x${"1".repeat(40)}` });
    expect(request.status).toBe(503);
    const body = (await request.json()) as { error: { code: string; message: string; details: Record<string, unknown> } };
    expect(body.error.code).toBe("world_id_not_configured");
    expect(body.error.message).toContain("WORLD_ID_ENVIRONMENT=staging is refused in production");
    expect(body.error.details).toEqual({ missing: [], refused: ["WORLD_ID_ENVIRONMENT"] });
    const vote = await post(`${url}/api/v1/polls/${pollId}/votes`, {
      optionId: "x",
      payoutAddress: `0x${"1".repeat(40)}`,
      proof: { protocol_version: "4.0", nonce: "0x01", action: "a", environment: "staging", responses: [] },
    });
    expect(vote.status).toBe(503);
    expect(((await vote.json()) as { error: { code: string } }).error.code).toBe("world_id_not_configured");
    expect(await running.server.store.db.selectFrom("world_id_requests").select("nonce").execute()).toEqual([]);
  });
});

describe("what a proof says about itself (local mode, the simulator)", () => {
  let service: LocalService;
  let poll: CreatedPoll;
  beforeAll(async () => {
    service = await startLocalService();
    poll = await createPaidPoll(service);
  });
  afterAll(async () => {
    await service?.stop();
  });

  async function prepared(human: string): Promise<PreparedVote> {
    const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human });
    if ("failed" in step) throw new Error(`prepare failed: ${step.failed.status}`);
    return step.prepared;
  }
  const written = async () => ({
    votes: (await service.store.db.selectFrom("votes").select("id").where("poll_id", "=", poll.id).execute()).length,
    spent: (await service.store.db.selectFrom("world_id_requests").select("nonce").where("poll_id", "=", poll.id).where("used_at", "is not", null).execute()).length,
  });

  it("refuses a proof without an environment, or for another one, or for another credential — before the portal, writing nothing", async () => {
    const vote = await prepared("careful");
    const { environment: _dropped, ...withoutEnvironment } = vote.proof;
    const responses = vote.proof.responses as Record<string, unknown>[];
    const cases: [Record<string, unknown>, string, string][] = [
      [withoutEnvironment, "environment_missing", "proof.environment"],
      [{ ...vote.proof, environment: "" }, "environment_missing", "proof.environment"],
      [{ ...vote.proof, environment: "staging" }, "environment_mismatch", "proof.environment"],
      [{ ...vote.proof, environment: "sandbox" }, "environment_mismatch", "proof.environment"],
      [{ ...vote.proof, responses: [{ ...responses[0], identifier: "passport", issuer_schema_id: 9303 }] }, "credential_mismatch", "proof.responses.0.identifier"],
      [{ ...vote.proof, responses: [{ ...responses[0], issuer_schema_id: 11 }] }, "credential_mismatch", "proof.responses.0.identifier"],
      [{ ...vote.proof, responses: [responses[0], { ...responses[0], identifier: "selfie" }] }, "credential_mismatch", "proof.responses.1.identifier"],
    ];
    const before = service.worldIdStandin!.requests.length;
    for (const [proof, reason, param] of cases) {
      const answer = await submitPrepared(service.url, { ...vote, proof });
      expect(answer.status, reason).toBe(400);
      expect(answer.body, reason).toEqual({ error: { code: "invalid_proof", message: expect.any(String), param, details: { reason } } });
    }
    expect(service.worldIdStandin!.requests.length).toBe(before);
    expect(await written()).toEqual({ votes: 0, spent: 0 });
    // The untouched proof still votes: the simulator states the environment and the credential.
    expect(vote.proof.environment).toBe("production");
    expect(responses[0]).toMatchObject({ identifier: "proof_of_human", issuer_schema_id: 1 });
    expect((await submitPrepared(service.url, vote)).status).toBe(201);
  });
});

describe("a portal that verified the proof in another environment", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "quali-worldid-env-"));
  let standin: WorldIdStandin;
  let service: LocalService;
  beforeAll(async () => {
    const rpKey = `0x${"5a".repeat(32)}`;
    standin = await startWorldIdStandin({ relyingParties: [{ rpId: "rp_env_test", appId: "app_env_test" }], networkKey: localNetworkKey(dataDir), environment: "staging" });
    service = await startLocalService({
      DATA_DIR: dataDir,
      WORLD_ID_VERIFY_BASE_URL: standin.url,
      WORLD_ID_RP_ID: "rp_env_test",
      WORLD_ID_APP_ID: "app_env_test",
      WORLD_ID_SIGNING_KEY: rpKey,
    });
  });
  afterAll(async () => {
    await service?.stop();
    await standin?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("is a rejection: 401 proof_rejected, nothing counted", async () => {
    const poll = await createPaidPoll(service);
    const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: "elsewhere" });
    if ("failed" in step) throw new Error("prepare failed");
    const answer = await submitPrepared(service.url, step.prepared);
    expect(standin.requests.at(-1)!.status).toBe(200);
    expect(answer.status).toBe(401);
    expect(errorCode(answer)).toBe("proof_rejected");
    expect(answer.body).toMatchObject({ error: { details: { portalCode: "environment_mismatch" } } });
    expect(await service.store.db.selectFrom("votes").select("id").where("poll_id", "=", poll.id).execute()).toEqual([]);
  });
});
