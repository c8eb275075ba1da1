// Each poll's read token (and webhook secret, when the poll has a callbackUrl) in its own file under
// QUALI_MCP_HOME/polls, mode 0600 in a 0700 directory. The tools read them here; the agent never sees them.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ensurePrivateDir, writePrivateFile } from "./private-files";

const StoredPoll = z.object({
  pollId: z.string(),
  readToken: z.string().min(1),
  /** The poll's webhook signing secret (whsec_…), when it was created with a callbackUrl. */
  callbackSecret: z.string().optional(),
  baseUrl: z.string(),
  network: z.string().optional(),
  txHash: z.string().optional(),
  savedAt: z.string(),
});
export type StoredPoll = z.infer<typeof StoredPoll>;

/** Poll ids are UUIDs; anything else never becomes part of a path. */
const POLL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class TokenStore {
  readonly dir: string;

  constructor(home: string) {
    this.dir = join(home, "polls");
  }

  /** Creates the directory (0700); called at start so a home that cannot be written fails early. */
  init(): void {
    ensurePrivateDir(this.dir);
  }

  pathOf(pollId: string): string {
    const id = pollId.toLowerCase();
    if (!POLL_ID.test(id)) throw new Error(`not a poll id: ${JSON.stringify(pollId)}`);
    return join(this.dir, `${id}.json`);
  }

  save(poll: Omit<StoredPoll, "savedAt">): void {
    this.init();
    writePrivateFile(this.pathOf(poll.pollId), `${JSON.stringify({ ...poll, pollId: poll.pollId.toLowerCase(), savedAt: new Date().toISOString() }, null, 2)}\n`);
  }

  get(pollId: string): StoredPoll | undefined {
    const path = this.pathOf(pollId);
    if (!existsSync(path)) return undefined;
    const stored = StoredPoll.safeParse(JSON.parse(readFileSync(path, "utf8")));
    if (!stored.success) throw new Error(`the read-token file ${path} is not in the expected format`);
    return stored.data;
  }

  has(pollId: string): boolean {
    return existsSync(this.pathOf(pollId));
  }
}
