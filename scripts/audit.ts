// npm run audit: proves every unit of USDC is accounted for, per network — payments recorded as settled
// against transfers to payTo on chain, rewards and refunds paid against transfers out of the payout
// wallet, refunds against what ended polls owe — and lists every discrepancy with its poll / payment /
// payout / refund id. Reads the database read-only and never
// runs migrations. Exit code: 0 clean, 1 discrepancies, 2 the audit could not run (usage, configuration,
// or a chain that cannot be read).
// Usage: npm run audit -- [--json] [--from-block N] [--network ID]
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { ConfigError, loadConfig } from "../src/config";
import type { Database } from "../src/db/schema";
import { auditMoney } from "../src/audit/money-audit";
import { reportToJson, reportToText } from "../src/audit/report";
import { AuditConfigError, planAudit } from "../src/audit/targets";
import { AuditSetupError } from "../src/audit/types";

const USAGE = `usage: npm run audit -- [--json] [--from-block N] [--network ID]

  --json          print the report as JSON (amounts as decimal strings of atomic USDC units)
  --from-block N  first block to scan for transfers on every audited network
                  (default: 0 in local mode; in production the earliest block of any recorded settlement or payout)
  --network ID    audit one network only (eip155:8453, base, worldchain, local …)

Reads DATA_DIR/quali.sqlite and, in local mode, DATA_DIR/devnet.json (the service must be running: the local
chain runs inside it). Production: X402_PAY_TO_ADDRESS_BASE / _WORLDCHAIN, RPC_URL_BASE / _WORLDCHAIN, and the
payout wallet from PAYOUT_PRIVATE_KEY[_BASE|_WORLDCHAIN].
Exit code: 0 clean, 1 discrepancies found, 2 the audit could not run.`;

class UsageError extends Error {}

interface Args {
  json: boolean;
  fromBlock?: bigint;
  network?: string;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { json: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const next = inline ?? argv[++i];
      if (next === undefined || next === "") throw new UsageError(`${name} needs a value`);
      return next;
    };
    if (name === "--json") args.json = true;
    else if (name === "--help" || name === "-h") args.help = true;
    else if (name === "--from-block") {
      const text = value();
      if (!/^\d{1,20}$/.test(text)) throw new UsageError(`--from-block must be a block number, not ${JSON.stringify(text)}`);
      args.fromBlock = BigInt(text);
    } else if (name === "--network") args.network = value();
    else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  return args;
}

/** Opens the service's database read-only: the audit never writes, and never migrates. */
function openDatabase(dataDir: string): { db: Kysely<Database>; sqlite: BetterSqlite3.Database } {
  const path = join(dataDir, "quali.sqlite");
  if (!existsSync(path)) throw new AuditConfigError(`${path} not found: set DATA_DIR to the service's data directory.`);
  const sqlite = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  sqlite.pragma("busy_timeout = 5000");
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }), sqlite };
}

async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  let opened: ReturnType<typeof openDatabase> | undefined;
  let mode: string | undefined;
  try {
    const config = loadConfig(process.env);
    mode = config.mode;
    const dataDir = resolve(config.dataDir);
    opened = openDatabase(dataDir);
    const plan = planAudit({ ...config, dataDir }, {
      ...(args.fromBlock !== undefined ? { fromBlock: args.fromBlock } : {}),
      ...(args.network !== undefined ? { network: args.network } : {}),
    });
    // One read transaction: every table is read from the same snapshot while the service keeps writing.
    opened.sqlite.exec("BEGIN");
    const audit = await auditMoney(opened.db, plan.targets, { skipped: plan.skipped });
    process.stdout.write(args.json ? `${reportToJson(audit)}\n` : `DATA_DIR ${dataDir} (${config.mode} mode)\n${reportToText(audit)}`);
    return audit.clean ? 0 : 1;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof AuditConfigError || error instanceof AuditSetupError) {
      const hint = error instanceof AuditSetupError && mode === "local" ? "\nIn local mode the chain runs inside the service: start it (npm start) and run the audit again." : "";
      console.error(`audit: ${error.message}${hint}`);
    } else {
      console.error(`audit: could not finish: ${error instanceof Error ? error.message : String(error)}`);
    }
    return 2;
  } finally {
    if (opened?.sqlite.inTransaction) opened.sqlite.exec("COMMIT");
    await opened?.db.destroy();
  }
}

process.exitCode = await main(process.argv.slice(2));
