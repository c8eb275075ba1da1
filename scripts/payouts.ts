// Parked payouts, for the operator of a Node deployment (DATA_DIR from the environment, default .data);
// safe while the service runs. See src/payouts/operator.ts for what each command guarantees.
//
//   npm run payouts -- list                 every parked payout: id, network, address, amount, reason
//   npm run payouts -- retry <payoutId>     try it again in the job's next round
//   npm run payouts -- release <payoutId>   give its votes back to the address's unpaid balance
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadConfig } from "../src/config";
import { openSqliteStore } from "../src/db/sqlite";
import type { PayoutRow } from "../src/db/schema";
import { formatUsdc } from "../src/payment/pricing";
import { listParked, releaseParked, retryParked } from "../src/payouts";

const USAGE = "usage: npm run payouts -- list | retry <payoutId> | release <payoutId>";

/** What a parked transfer owes: a voter's votes, or a poll's refund. */
const owes = (row: PayoutRow) => (row.kind === "refund" ? `refund of poll ${row.poll_id}` : `${row.entries} votes`);

function describe(row: PayoutRow): string {
  return (
    `${row.id}  ${row.network}  ${row.address}  ${formatUsdc(BigInt(row.amount_atomic))} USDC (${owes(row)})  ` +
    `parked ${row.parked_at}: ${row.parked_reason}`
  );
}

/** Runs one command; returns the exit code (0 done, 1 refused, 2 usage). */
export async function runPayoutsCommand(dataDir: string, args: readonly string[], out: (line: string) => void): Promise<number> {
  const [command, id] = args;
  if (command === undefined || !["list", "retry", "release"].includes(command) || (command !== "list" && !id)) {
    out(USAGE);
    return 2;
  }
  const database = join(dataDir, "quali.sqlite");
  if (!existsSync(database)) {
    out(`no database at ${database} (set DATA_DIR)`);
    return 1;
  }
  const store = openSqliteStore(database, { groupCommit: false });
  try {
    if (command === "list") {
      const parked = await listParked(store);
      if (parked.length === 0) out("no parked payouts");
      for (const row of parked) out(describe(row));
      return 0;
    }
    const result = command === "retry" ? await retryParked(store, id!, new Date()) : await releaseParked(store, id!, new Date());
    if (!result.ok) {
      out(result.why);
      return 1;
    }
    const { payout } = result;
    out(
      command === "retry"
        ? `payout ${payout.id} (${formatUsdc(BigInt(payout.amount_atomic))} USDC to ${payout.address} on ${payout.network}) is claimed again: the payout job tries it in its next round`
        : payout.kind === "refund"
          ? `refund ${payout.id} released: the next payout round queues poll ${payout.poll_id}'s refund (${formatUsdc(BigInt(payout.amount_atomic))} USDC to ${payout.address}) again`
          : `payout ${payout.id} released: its ${payout.entries} votes (${formatUsdc(BigInt(payout.amount_atomic))} USDC) are unpaid again and go into ${payout.address}'s next payout`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

if (process.argv[1]?.endsWith("payouts.ts")) {
  const config = loadConfig();
  runPayoutsCommand(resolve(config.dataDir), process.argv.slice(2), (line) => console.log(line)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
