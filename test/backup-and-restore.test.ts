// A backup taken while the service runs restores into a working service: polls, read tokens and
// (local mode) the chain with its balances come back as they were.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { backupDataDir } from "../scripts/backup";
import { usdcBalanceOf } from "../src/devnet/chain";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll } from "./support/polls";

const dirs: string[] = [];
const services: LocalService[] = [];
afterAll(async () => {
  for (const service of services) await service.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("backup and restore", () => {
  it("restores polls, read tokens and chain balances from a live backup", async () => {
    const original = await startLocalService();
    services.push(original);
    const poll = await createPaidPoll(original);
    await original.devnet!.saveState();
    const payer = original.devnet!.payers[0]!.address;
    const balance = await usdcBalanceOf(original.devnet!.rpcUrl, original.devnet!.asset, payer);

    const backup = mkdtempSync(join(tmpdir(), "quali-backup-"));
    dirs.push(backup);
    rmSync(backup, { recursive: true, force: true });
    const files = backupDataDir(original.dataDir, backup).map((file) => file.slice(backup.length + 1));
    expect(files).toEqual(expect.arrayContaining(["quali.sqlite", "chain-state.json", "read-token-secret"]));

    const restored = await startLocalService({ DATA_DIR: backup });
    services.push(restored);
    const results = await fetch(`${restored.url}/api/v1/polls/${poll.id}/results`, { headers: { "X-Read-Token": poll.readToken } });
    expect(results.status).toBe(200);
    expect((await results.json()).pollId).toBe(poll.id);
    expect(await usdcBalanceOf(restored.devnet!.rpcUrl, restored.devnet!.asset, payer)).toBe(balance);
  });
});
