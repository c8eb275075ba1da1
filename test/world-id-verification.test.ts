// Votes are verified with World ID through the same verifier code production uses, here against the
// portal stand-in (its own instance, over real HTTP, sharing the simulated network key with the service's
// simulator through DATA_DIR/world-id-network-key): a good proof is accepted and forwarded unchanged; a
// rejected, re-used, mis-bound, altered or foreign proof is refused; a request the relying party never
// signed gets no proof at all; a portal outage records nothing.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "@worldcoin/idkit-core/signing";
import { prepareVote, submitPrepared, errorCode, type PreparedVote } from "../scripts/lib/voter";
import { hashSignal, pollAction } from "../src/voting/world-id";
import {
  localNetworkKey,
  NETWORK_KEY_FILE,
  signerAddressOf,
  simulateWorldIdProof,
  SimulationError,
  startWorldIdStandin,
  type SimulatedWorldIdNetwork,
  type WorldIdStandin,
} from "../src/devnet/world-id";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

const RP_ID = "rp_test_quali";
const APP_ID = "app_test_quali";
const RP_KEY = `0x${"5a".repeat(32)}`;
const ATTACKER_KEY = `0x${"7b".repeat(32)}`;

let standin: WorldIdStandin;
let service: LocalService;
let standinPort: number;
// The service's data directory holds the simulated network key (created here, loaded by the service).
const dataDir = mkdtempSync(join(tmpdir(), "quali-world-id-"));
const network: SimulatedWorldIdNetwork = { key: localNetworkKey(dataDir), relyingParties: [{ rpId: RP_ID, signerAddress: signerAddressOf(RP_KEY) }] };

const startStandin = (port = 0) => startWorldIdStandin({ relyingParties: [{ rpId: RP_ID, appId: APP_ID }], networkKey: network.key, port });

beforeAll(async () => {
  standin = await startStandin();
  standinPort = standin.port;
  service = await startLocalService({
    DATA_DIR: dataDir,
    WORLD_ID_VERIFY_BASE_URL: standin.url,
    WORLD_ID_RP_ID: RP_ID,
    WORLD_ID_APP_ID: APP_ID,
    WORLD_ID_SIGNING_KEY: RP_KEY,
    WORLD_ID_TIMEOUT_MS: "1000",
  });
});
afterAll(async () => {
  await service?.stop();
  await standin?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function prepared(poll: CreatedPoll, human: string, optionIndex = 0): Promise<PreparedVote> {
  const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[optionIndex]!.id, human });
  if ("failed" in step) throw new Error(`prepare failed: ${step.failed.status} ${JSON.stringify(step.failed.body)}`);
  return step.prepared;
}

/** Everything a vote writes, for "nothing recorded" checks. */
async function recorded(pollId: string, nonce: string) {
  const db = service.store.db;
  const votes = await db.selectFrom("votes").select("id").where("poll_id", "=", pollId).execute();
  const poll = await db.selectFrom("polls").select(["vote_count"]).where("id", "=", pollId).executeTakeFirstOrThrow();
  const options = await db.selectFrom("poll_options").select(["vote_count"]).where("poll_id", "=", pollId).execute();
  const ledger = await db
    .selectFrom("reward_ledger")
    .innerJoin("votes", "votes.id", "reward_ledger.vote_id")
    .select("reward_ledger.vote_id")
    .where("votes.poll_id", "=", pollId)
    .execute();
  const request = await db.selectFrom("world_id_requests").select("used_at").where("nonce", "=", nonce).executeTakeFirst();
  return {
    votes: votes.length,
    pollCount: poll.vote_count,
    optionCounts: options.reduce((sum, o) => sum + o.vote_count, 0),
    ledger: ledger.length,
    nonceUsed: request?.used_at !== null && request?.used_at !== undefined,
  };
}

const nothing = { votes: 0, pollCount: 0, optionCounts: 0, ledger: 0, nonceUsed: false };

const portalCall = (body: unknown, id = RP_ID) =>
  fetch(`${standin.url}/api/v4/verify/${id}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** The stand-in's answer to `proof`: status and the first result's code. */
async function portalVerdict(proof: unknown): Promise<{ status: number; code: string | undefined; resultCode: string | undefined }> {
  const response = await portalCall(proof);
  const body = (await response.json()) as { code?: string; results?: { code?: string }[] };
  return { status: response.status, code: body.code, resultCode: body.results?.[0]?.code };
}

describe("votes verified with the World ID portal stand-in", () => {
  it("accepts a valid proof, forwarding the IDKit result to /api/v4/verify/{rp_id} unchanged", async () => {
    const poll = await createPaidPoll(service);
    const vote = await prepared(poll, "alice");
    expect(vote.request.idkit).toMatchObject({ app_id: APP_ID, action: pollAction(poll.id), allow_legacy_proofs: false });
    expect(vote.request.idkit.rp_context.rp_id).toBe(RP_ID);
    expect(vote.request.signalHash).toBe(hashSignal(vote.request.signal));
    const before = standin.requests.length;

    const answer = await submitPrepared(service.url, vote);
    expect(answer.status).toBe(201);
    expect(standin.requests.length).toBe(before + 1);
    const call = standin.requests.at(-1)!;
    expect(call.path).toBe(`/api/v4/verify/${RP_ID}`);
    expect(call.body).toEqual(vote.proof);
    expect(call.status).toBe(200);

    const row = await service.store.db.selectFrom("votes").selectAll().where("poll_id", "=", poll.id).executeTakeFirstOrThrow();
    expect(row.nullifier).toMatch(/^0x[0-9a-f]{64}$/);
    expect(row.nullifier).toBe((vote.proof.responses as { nullifier: string }[])[0]!.nullifier);
    expect(await recorded(poll.id, vote.request.nonce)).toEqual({ votes: 1, pollCount: 1, optionCounts: 1, ledger: 1, nonceUsed: true });
  });

  it("answers 401 proof_rejected when the portal rejects the proof, records nothing, and spends the request: a new one votes", async () => {
    const poll = await createPaidPoll(service);
    const vote = await prepared(poll, "bob");
    const tampered = structuredClone(vote.proof) as { responses: { proof: string[] }[] };
    tampered.responses[0]!.proof[3] = `0x${"12".repeat(32)}`;

    const answer = await submitPrepared(service.url, { ...vote, proof: tampered as never });
    expect(answer.status).toBe(401);
    expect(errorCode(answer)).toBe("proof_rejected");
    expect((answer.body as { error: { details: { portalCode: string } } }).error.details.portalCode).toBe("all_verifications_failed");
    expect(standin.requests.at(-1)!.status).toBe(400);
    // The request reached the portal once: it is spent (src/voting/world-id-nonce.ts), nothing else was written.
    expect(await recorded(poll.id, vote.request.nonce)).toEqual({ ...nothing, nonceUsed: true });

    const before = standin.requests.length;
    const replay = await submitPrepared(service.url, vote);
    expect(replay.status).toBe(409);
    expect(errorCode(replay)).toBe("nonce_used");
    expect(standin.requests.length).toBe(before);
    expect((await submitPrepared(service.url, await prepared(poll, "bob"))).status).toBe(201);
  });

  it("refuses a re-used nullifier that the portal answers 200", async () => {
    const poll = await createPaidPoll(service);
    expect((await submitPrepared(service.url, await prepared(poll, "carol", 0))).status).toBe(201);
    const again = await prepared(poll, "carol", 1);
    const answer = await submitPrepared(service.url, again);
    expect(standin.requests.at(-1)!.status).toBe(200); // the portal said yes …
    expect(answer.status).toBe(409); // … and our UNIQUE(poll, nullifier) said no
    expect(errorCode(answer)).toBe("already_voted");
    const counts = await recorded(poll.id, again.request.nonce);
    // The second request reached the portal, so it is spent; its vote was not counted.
    expect(counts).toEqual({ votes: 1, pollCount: 1, optionCounts: 1, ledger: 1, nonceUsed: true });
  });

  it("refuses a proof bound to another option or payout address (signal mismatch) before asking the portal", async () => {
    const poll = await createPaidPoll(service);
    const vote = await prepared(poll, "dave", 0);
    const before = standin.requests.length;

    const otherOption = await submitPrepared(service.url, { ...vote, optionId: poll.options[1]!.id });
    expect(otherOption.status).toBe(400);
    expect(errorCode(otherOption)).toBe("signal_mismatch");

    // A proof whose signal_hash commits to a different payout address than the request names.
    const wrongSignal = simulateWorldIdProof({
      network,
      rpContext: vote.request.idkit.rp_context,
      action: vote.request.idkit.action,
      signal: vote.request.signal.replace(/0x[0-9a-f]{40}$/, `0x${"9".repeat(40)}`),
      human: "dave",
    });
    const mismatched = await submitPrepared(service.url, { ...vote, proof: wrongSignal as never });
    expect(mismatched.status).toBe(400);
    expect(errorCode(mismatched)).toBe("signal_mismatch");
    expect(standin.requests.length).toBe(before);
    expect(await recorded(poll.id, vote.request.nonce)).toEqual(nothing);

    // The stand-in itself rejects a signal_hash that differs from the one the proof was made for.
    const swapped = structuredClone(vote.proof) as { responses: { signal_hash: string }[] };
    swapped.responses[0]!.signal_hash = hashSignal("something else");
    const portal = await portalCall(swapped);
    expect(portal.status).toBe(400);
    const body = (await portal.json()) as { code: string; results: { success: boolean; code: string }[] };
    expect(body.code).toBe("all_verifications_failed");
    expect(body.results[0]).toMatchObject({ success: false, code: "verification_error" });
  });

  it("refuses a nonce we never issued: the simulated network proves nothing for it, a forged proof fails here and at the portal", async () => {
    const poll = await createPaidPoll(service);
    const action = pollAction(poll.id);
    const forged = signRequest({ signingKeyHex: ATTACKER_KEY, action });
    const rpContext = { rp_id: RP_ID, nonce: forged.nonce, created_at: forged.createdAt, expires_at: forged.expiresAt, signature: forged.sig };
    const signal = `quali-vote:v1:${poll.id}:${poll.options[0]!.id}:${"0x" + "1".repeat(40)}`;

    // World ID 4 checks the relying party's signature when the proof is made: not signed by the
    // registered RP → no proof (IDKit's invalid_rp_signature), in the simulator and at the local endpoint.
    let refusal: unknown;
    try {
      simulateWorldIdProof({ network, rpContext, action, signal, human: "mallory" });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(SimulationError);
    expect((refusal as SimulationError).code).toBe("invalid_rp_signature");
    const endpoint = await fetch(`${service.url}/api/v1/voter/simulated-proof`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action, signal, rpContext, human: "mallory" }),
    });
    expect(endpoint.status).toBe(400);
    expect(await endpoint.json()).toMatchObject({ error: { code: "invalid_proof", param: "rpContext.signature", details: { code: "invalid_rp_signature" } } });
    // Another rp_id than the registered one is not a relying party at all.
    expect(() => simulateWorldIdProof({ network, rpContext: { ...rpContext, rp_id: "rp_nobody" }, action, signal, human: "mallory" })).toThrow(
      expect.objectContaining({ code: "unknown_rp" }),
    );

    // An attacker's own "network" (another key, the attacker registered as the RP) makes a proof anyway:
    // we refuse it before asking the portal, and the portal refuses it as not made by the network.
    const proof = simulateWorldIdProof({
      network: { key: new Uint8Array(randomBytes(32)), relyingParties: [{ rpId: RP_ID, signerAddress: signerAddressOf(ATTACKER_KEY) }] },
      rpContext,
      action,
      signal,
      human: "mallory",
    });
    const before = standin.requests.length;
    const answer = await submitPrepared(service.url, {
      human: "mallory",
      optionId: poll.options[0]!.id,
      payoutAddress: `0x${"1".repeat(40)}`,
      proof: proof as never,
      request: { pollId: poll.id } as never,
    });
    expect(answer.status).toBe(400);
    expect(errorCode(answer)).toBe("nonce_unknown");
    expect(standin.requests.length).toBe(before);
    expect(await portalVerdict(proof)).toEqual({ status: 400, code: "all_verifications_failed", resultCode: "verification_error" });
  });

  it("the stand-in refuses a proof whose public inputs or elements were changed after proving", async () => {
    const poll = await createPaidPoll(service);
    const vote = await prepared(poll, "grace");
    const other = await prepared(poll, "heidi");
    type Item = { signal_hash: string; nullifier: string; proof: string[]; expires_at_min: number; issuer_schema_id: number };
    const alter = (change: (result: { nonce: string; action: string; responses: Item[] }) => void) => {
      const copy = structuredClone(vote.proof) as { nonce: string; action: string; responses: Item[] };
      change(copy);
      return copy;
    };
    const refused = { status: 400, code: "all_verifications_failed", resultCode: "verification_error" };
    expect(await portalVerdict(alter((r) => (r.responses[0]!.nullifier = (other.proof.responses as Item[])[0]!.nullifier)))).toEqual(refused);
    expect(await portalVerdict(alter((r) => (r.nonce = other.request.nonce)))).toEqual(refused);
    expect(await portalVerdict(alter((r) => (r.action = pollAction("another-poll"))))).toEqual(refused);
    expect(await portalVerdict(alter((r) => (r.responses[0]!.signal_hash = (other.proof.responses as Item[])[0]!.signal_hash)))).toEqual(refused);
    expect(await portalVerdict(alter((r) => (r.responses[0]!.expires_at_min += 1)))).toEqual(refused);
    expect(await portalVerdict(alter((r) => (r.responses[0]!.issuer_schema_id = 2)))).toEqual(refused);
    for (let element = 0; element < 5; element++) {
      const flipped = alter((r) => {
        const hex = r.responses[0]!.proof[element]!;
        r.responses[0]!.proof[element] = `${hex.slice(0, -1)}${hex.endsWith("0") ? "1" : "0"}`;
      });
      expect(await portalVerdict(flipped), `proof[${element}]`).toEqual(refused);
    }
    // Every element is a BN254 field element (below the modulus), as on the wire of a real proof.
    const BN254 = 21888242871839275222246405745257275098372068763056546258222914184155353041921n;
    for (const element of (vote.proof.responses as Item[])[0]!.proof) expect(BigInt(element) < BN254).toBe(true);
    // The untouched proof still verifies: only the changes were refused.
    expect(await portalVerdict(vote.proof)).toMatchObject({ status: 200 });
  });

  it("keeps the simulated network key in DATA_DIR, readable by its owner only, the same across restarts", () => {
    const path = join(dataDir, NETWORK_KEY_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(localNetworkKey(dataDir)).equals(Buffer.from(network.key))).toBe(true);
  });

  it("binds the proof to the signal hash stored with the request, and hashes the signal of older requests", async () => {
    const poll = await createPaidPoll(service);
    const vote = await prepared(poll, "ivan");
    const row = await service.store.db.selectFrom("world_id_requests").selectAll().where("nonce", "=", vote.request.nonce).executeTakeFirstOrThrow();
    expect(row.signal_hash).toBe(hashSignal(row.signal));
    expect(row.signal_hash).toBe(vote.request.signalHash);
    // A request stored before migration 0007 has no signal_hash: the vote hashes its signal instead.
    const older = await prepared(poll, "judy");
    await service.store.db.updateTable("world_id_requests").set({ signal_hash: null }).where("nonce", "=", older.request.nonce).execute();
    const wrongSignal = simulateWorldIdProof({ network, rpContext: older.request.idkit.rp_context, action: older.request.idkit.action, signal: "another signal", human: "judy" });
    const mismatched = await submitPrepared(service.url, { ...older, proof: wrongSignal as never });
    expect(errorCode(mismatched)).toBe("signal_mismatch");
    expect((await submitPrepared(service.url, older)).status).toBe(201);
    expect((await submitPrepared(service.url, vote)).status).toBe(201);
  });

  it("refuses malformed proofs with 400 invalid_proof", async () => {
    const poll = await createPaidPoll(service);
    const vote = await prepared(poll, "erin");
    const legacy = await submitPrepared(service.url, { ...vote, proof: { ...vote.proof, protocol_version: "3.0" } });
    expect(errorCode(legacy)).toBe("invalid_proof");
    const otherAction = await submitPrepared(service.url, { ...vote, proof: { ...vote.proof, action: pollAction("another") } });
    expect(errorCode(otherAction)).toBe("invalid_proof");
    const noResponses = await submitPrepared(service.url, { ...vote, proof: { ...vote.proof, responses: [] } });
    expect(errorCode(noResponses)).toBe("invalid_proof");
    expect(await recorded(poll.id, vote.request.nonce)).toEqual(nothing);
  });

  it("answers 503 and records nothing while the portal is down, then accepts the same proof", async () => {
    const poll = await createPaidPoll(service);
    const vote = await prepared(poll, "frank");

    standin.setMode("error-503", { times: 1 });
    const overloaded = await submitPrepared(service.url, vote);
    expect(overloaded.status).toBe(503);
    expect(errorCode(overloaded)).toBe("world_id_unavailable");

    standin.setMode("stall", { times: 1 });
    const started = performance.now();
    const stalled = await submitPrepared(service.url, vote);
    expect(stalled.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(5_000);

    await standin.close();
    const unreachable = await submitPrepared(service.url, vote);
    expect(unreachable.status).toBe(503);
    expect(errorCode(unreachable)).toBe("world_id_unavailable");
    expect(await recorded(poll.id, vote.request.nonce)).toEqual(nothing);

    standin = await startStandin(standinPort);
    const accepted = await submitPrepared(service.url, vote);
    expect(accepted.status).toBe(201);
    expect(await recorded(poll.id, vote.request.nonce)).toEqual({ votes: 1, pollCount: 1, optionCounts: 1, ledger: 1, nonceUsed: true });
  });

  it("speaks the portal's shapes: 404 for an unknown relying party, 400 invalid_request for a malformed body", async () => {
    const unknown = await portalCall({ protocol_version: "4.0", nonce: "0x1", action: "a", responses: [{}] }, "rp_nobody");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ success: false, code: "not_found" });
    const malformed = await portalCall({ protocol_version: "4.0", action: "a", responses: [] });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ success: false, code: "invalid_request" });
  });

  it("runs as its own process", async () => {
    const key = randomBytes(32);
    const child = spawn(process.execPath, ["--import", "tsx", "src/devnet/world-id/standin-cli.ts", "--rp-id", "rp_cli", "--network-key", key.toString("hex")], {
      cwd: process.cwd(),
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout! });
        lines.on("line", (line) => {
          const match = /listening on (http:\/\/\S+)/.exec(line);
          if (match) resolve(match[1]!);
        });
        child.once("exit", (code) => reject(new Error(`stand-in exited with ${code}`)));
      });
      const signed = signRequest({ signingKeyHex: RP_KEY, action: "cli-action" });
      const proof = simulateWorldIdProof({
        network: { key: new Uint8Array(key), relyingParties: [{ rpId: "rp_cli", signerAddress: signerAddressOf(RP_KEY) }] },
        rpContext: { rp_id: "rp_cli", nonce: signed.nonce, created_at: signed.createdAt, expires_at: signed.expiresAt, signature: signed.sig },
        action: "cli-action",
        signal: "hello",
        human: "cli-human",
      });
      const response = await fetch(`${url}/api/v4/verify/rp_cli`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(proof) });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ success: true, action: "cli-action", nullifier: proof.responses[0]!.nullifier });
    } finally {
      child.kill("SIGTERM");
    }
  });
});
