// The rolling 24-hour spend of this payer, in a file under QUALI_MCP_HOME so it survives restarts and is
// shared by every quali-mcp process using the same home.
//
// A payment is reserved (written and fsynced) BEFORE its authorization is signed, confirmed once the
// service answers that the poll exists (its money moved), and released only when the service refused it
// definitively, before any settlement. If the process dies between signing and recording the outcome,
// the reservation stays and keeps counting until it leaves the window: the ledger may overstate the
// spend, never understate it.
import { randomUUID } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ensurePrivateDir, PRIVATE_FILE_MODE, writePrivateFile } from "./private-files";

export const SPEND_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Entries older than this are dropped when the file is rewritten. */
const KEEP_MS = 7 * SPEND_WINDOW_MS;
const LEDGER_FILE = "spend-ledger.json";
const LOCK_FILE = "spend-ledger.lock";
/** A lock older than this whose holder cannot be checked is taken over. */
const STALE_LOCK_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

const LedgerEntry = z.object({
  id: z.string(),
  amountAtomic: z.string().regex(/^\d+$/),
  network: z.string(),
  /** When the reservation was made (ISO). The window counts from here. */
  at: z.iso.datetime(),
  /** reserved: signed or about to be, outcome unknown; paid: the service confirmed the poll. */
  state: z.enum(["reserved", "paid"]),
  pollId: z.string().optional(),
  txHash: z.string().optional(),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;

const LedgerFile = z.object({ version: z.literal(1), entries: z.array(LedgerEntry) });
type LedgerFile = z.infer<typeof LedgerFile>;

/** The daily limit would be exceeded: nothing was reserved, nothing may be signed. */
export class DailyLimitExceeded extends Error {
  override name = "DailyLimitExceeded";
  constructor(
    readonly amountAtomic: bigint,
    readonly spentAtomic: bigint,
    readonly limitAtomic: bigint,
  ) {
    super("daily spend limit exceeded");
  }
  get leftAtomic(): bigint {
    return this.limitAtomic > this.spentAtomic ? this.limitAtomic - this.spentAtomic : 0n;
  }
}

export class LedgerUnreadable extends Error {
  override name = "LedgerUnreadable";
}

export interface SpendLedgerOptions {
  home: string;
  maxAtomicPerDay: bigint;
  now?: () => Date;
}

export class SpendLedger {
  readonly path: string;
  private readonly lockPath: string;
  private readonly now: () => Date;

  constructor(private readonly options: SpendLedgerOptions) {
    this.path = join(options.home, LEDGER_FILE);
    this.lockPath = join(options.home, LOCK_FILE);
    this.now = options.now ?? (() => new Date());
  }

  get limitAtomic(): bigint {
    return this.options.maxAtomicPerDay;
  }

  /** What reservations and payments of the last 24 hours add up to. */
  async spentAtomic(): Promise<bigint> {
    return this.locked(() => this.sumInWindow(this.read().entries));
  }

  /**
   * Reserves `amountAtomic` if the rolling total stays within the daily limit; throws DailyLimitExceeded
   * (reserving nothing) otherwise. Returns the reservation's id and the total including it.
   */
  async reserve(amountAtomic: bigint, network: string): Promise<{ id: string; spentAtomic: bigint }> {
    return this.locked(() => {
      const ledger = this.read();
      const spent = this.sumInWindow(ledger.entries);
      if (spent + amountAtomic > this.options.maxAtomicPerDay) throw new DailyLimitExceeded(amountAtomic, spent, this.options.maxAtomicPerDay);
      const entry: LedgerEntry = { id: randomUUID(), amountAtomic: amountAtomic.toString(), network, at: this.now().toISOString(), state: "reserved" };
      this.write({ ...ledger, entries: [...ledger.entries, entry] });
      return { id: entry.id, spentAtomic: spent + amountAtomic };
    });
  }

  /** The service confirmed the poll: the reservation is a payment. */
  async confirm(id: string, details: { pollId: string; txHash?: string }): Promise<void> {
    await this.locked(() => {
      const ledger = this.read();
      const entries = ledger.entries.map((entry) =>
        entry.id === id ? { ...entry, state: "paid" as const, pollId: details.pollId, ...(details.txHash ? { txHash: details.txHash } : {}) } : entry,
      );
      this.write({ ...ledger, entries });
    });
  }

  /** The service refused before any settlement: no money moved, the reservation goes. */
  async release(id: string): Promise<void> {
    await this.locked(() => {
      const ledger = this.read();
      this.write({ ...ledger, entries: ledger.entries.filter((entry) => entry.id !== id) });
    });
  }

  private sumInWindow(entries: readonly LedgerEntry[]): bigint {
    const since = this.now().getTime() - SPEND_WINDOW_MS;
    return entries.filter((entry) => Date.parse(entry.at) > since).reduce((sum, entry) => sum + BigInt(entry.amountAtomic), 0n);
  }

  private read(): LedgerFile {
    if (!existsSync(this.path)) return { version: 1, entries: [] };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, "utf8"));
    } catch (error) {
      throw new LedgerUnreadable(`the spend ledger ${this.path} cannot be read (${error instanceof Error ? error.message : String(error)})`);
    }
    const ledger = LedgerFile.safeParse(parsed);
    if (!ledger.success) throw new LedgerUnreadable(`the spend ledger ${this.path} is not in the expected format`);
    return ledger.data;
  }

  private write(ledger: LedgerFile): void {
    const keepSince = this.now().getTime() - KEEP_MS;
    // Reservations never age out of the file early: only entries far outside the window are dropped.
    const entries = ledger.entries.filter((entry) => Date.parse(entry.at) > keepSince);
    writePrivateFile(this.path, `${JSON.stringify({ version: 1, entries }, null, 2)}\n`);
  }

  /** Runs `work` (synchronous, so nothing in this process interleaves) holding the cross-process lock. */
  private async locked<T>(work: () => T): Promise<T> {
    ensurePrivateDir(this.options.home);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      const fd = this.tryLock();
      if (fd !== undefined) {
        try {
          return work();
        } finally {
          closeSync(fd);
          unlinkSync(this.lockPath);
        }
      }
      if (Date.now() > deadline) throw new LedgerUnreadable(`the spend ledger is locked by another process (${this.lockPath})`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private tryLock(): number | undefined {
    try {
      const fd = openSync(this.lockPath, "wx", PRIVATE_FILE_MODE);
      writeSync(fd, String(process.pid));
      return fd;
    } catch (error) {
      if (!isErrno(error, "EEXIST")) throw error;
    }
    if (this.lockIsStale()) {
      try {
        unlinkSync(this.lockPath);
      } catch (error) {
        if (!isErrno(error, "ENOENT")) throw error;
      }
    }
    return undefined;
  }

  /** The holder is gone (its pid no longer runs) or the lock is far older than any critical section. */
  private lockIsStale(): boolean {
    try {
      const holder = Number(readFileSync(this.lockPath, "utf8"));
      if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid) {
        try {
          process.kill(holder, 0);
        } catch (error) {
          if (isErrno(error, "ESRCH")) return true;
        }
      }
      return Date.now() - statSync(this.lockPath).mtimeMs > STALE_LOCK_MS;
    } catch (error) {
      if (isErrno(error, "ENOENT")) return false;
      throw error;
    }
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && "code" in error && error.code === code;
}
