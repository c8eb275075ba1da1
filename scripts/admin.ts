// The operator's admin commands, through the service's admin API (docs/admin.md) with ADMIN_TOKEN: the API
// is the one path that writes a takedown together with its webhook, its log line and its admin_actions row.
//
//   npm run admin -- list-reports [--poll <pollId>] [--limit <n>]     reported polls, most recently reported first
//   npm run admin -- takedown <pollId> --reason "<why>" --actor "<who>"   status removed (refund and webhook follow)
//   npm run admin -- list-actions [--poll <pollId>] [--limit <n>]     every admin action, newest first
//
// The service is PUBLIC_BASE_URL (or http://localhost:PORT), or --url <base URL>. ADMIN_TOKEN comes from
// the environment, as the server's does; it is sent as a bearer token and never printed.
import { loadConfig } from "../src/config";

const USAGE = [
  "usage: npm run admin -- list-reports [--poll <pollId>] [--limit <n>] [--url <base>]",
  '       npm run admin -- takedown <pollId> --reason "<why>" --actor "<who>" [--url <base>]',
  "       npm run admin -- list-actions [--poll <pollId>] [--limit <n>] [--url <base>]",
].join("\n");

interface ReportedPoll {
  pollId: string;
  status: string;
  question: string;
  reports: number;
  reasons: Record<string, number>;
  latestReportAt: string;
  recent: { reason: string; note: string | null; createdAt: string }[];
}
interface AdminAction {
  id: string;
  action: string;
  pollId: string | null;
  actor: string;
  reason: string;
  outcome: string;
  createdAt: string;
}

function parse(args: readonly string[]): { positional: string[]; flags: Map<string, string> } | undefined {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith("--")) {
      const value = args[i + 1];
      if (value === undefined || value.startsWith("--")) return undefined;
      flags.set(arg.slice(2), value);
      i++;
    } else positional.push(arg);
  }
  return { positional, flags };
}

/** Runs one command against the admin API; returns the exit code (0 done, 1 refused or unreachable, 2 usage). */
export async function runAdminCommand(
  args: readonly string[],
  options: { baseUrl: string; token: string | undefined; fetch?: typeof fetch },
  out: (line: string) => void,
): Promise<number> {
  const parsed = parse(args);
  const command = parsed?.positional[0];
  if (!parsed || !command || !["list-reports", "takedown", "list-actions"].includes(command)) {
    out(USAGE);
    return 2;
  }
  const { positional, flags } = parsed;
  const baseUrl = (flags.get("url") ?? options.baseUrl).replace(/\/+$/, "");
  if (!options.token) {
    out("ADMIN_TOKEN is not set: export the server's ADMIN_TOKEN to use the admin commands.");
    return 1;
  }
  const call = async <T>(path: string, init: RequestInit = {}): Promise<T | undefined> => {
    let response: Response;
    try {
      response = await (options.fetch ?? fetch)(`${baseUrl}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${options.token}`, "content-type": "application/json", ...init.headers },
      });
    } catch (error) {
      out(`cannot reach ${baseUrl}: ${error instanceof Error ? error.message : String(error)} (is the service running? --url)`);
      return undefined;
    }
    const body = (await response.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
    if (!response.ok) {
      out(`refused (${response.status}${body?.error ? ` ${body.error.code}` : ""}): ${body?.error?.message ?? "no answer body"}`);
      return undefined;
    }
    return body as T;
  };
  const query = new URLSearchParams();
  if (flags.has("poll")) query.set("pollId", flags.get("poll")!);
  if (flags.has("limit")) query.set("limit", flags.get("limit")!);
  const suffix = query.size > 0 ? `?${query}` : "";

  if (command === "list-reports") {
    const body = await call<{ polls: ReportedPoll[] }>(`/admin/api/v1/reports${suffix}`);
    if (!body) return 1;
    if (body.polls.length === 0) out("no reports");
    for (const poll of body.polls) {
      const reasons = Object.entries(poll.reasons)
        .map(([reason, n]) => `${reason} ${n}`)
        .join(", ");
      out(`${poll.pollId}  ${poll.status}  ${poll.reports} report(s) (${reasons}), latest ${poll.latestReportAt}  "${poll.question}"`);
      for (const report of poll.recent.filter((r) => r.note)) out(`    ${report.createdAt} ${report.reason}: ${report.note}`);
    }
    return 0;
  }
  if (command === "list-actions") {
    const body = await call<{ actions: AdminAction[] }>(`/admin/api/v1/actions${suffix}`);
    if (!body) return 1;
    if (body.actions.length === 0) out("no admin actions");
    for (const a of body.actions) out(`${a.createdAt}  ${a.action} ${a.pollId ?? "-"}  by ${a.actor} (${a.outcome}): ${a.reason}`);
    return 0;
  }
  const pollId = positional[1];
  const reason = flags.get("reason");
  const actor = flags.get("actor");
  if (!pollId || !reason || !actor || positional.length > 2) {
    out(USAGE);
    return 2;
  }
  const body = await call<{ pollId: string; previousStatus: string; outcome: string; webhook: boolean }>(
    `/admin/api/v1/polls/${encodeURIComponent(pollId)}/takedown`,
    { method: "POST", body: JSON.stringify({ reason, actor }) },
  );
  if (!body) return 1;
  out(
    body.outcome === "applied"
      ? `poll ${body.pollId} taken down (was ${body.previousStatus})${body.webhook ? ": its webhook is sent and the unfilled responses are refunded per its policy" : ""}`
      : `poll ${body.pollId} was already removed: nothing changed (the request is logged)`,
  );
  return 0;
}

if (process.argv[1]?.endsWith("admin.ts")) {
  const config = loadConfig();
  runAdminCommand(process.argv.slice(2), { baseUrl: config.publicBaseUrl, token: config.admin.token }, (line) => console.log(line)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
