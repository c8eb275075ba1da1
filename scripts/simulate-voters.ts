// Casts votes on a poll as distinct simulated humans through the public HTTP API (local mode: the
// simulated World ID). Choices are spread across the options (earlier options a little more popular),
// about two thirds of the voters state demographics, and the shuffled order each voter saw is sent.
// Stops cleanly (exit 0) when the poll fills or expires.
//
// Usage: npm run simulate-voters -- --poll <id> --votes <n> [--base-url <url>] [--concurrency <k>]
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config";
import { errorCode, getVoterPoll, voteAsSimulatedHuman, type ApiAnswer, type VoterPollView } from "./lib/voter";

const COUNTRIES = ["US", "DE", "BR", "IN", "NG", "JP", "FR", "MX", "KE", "GB"];
const AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"];
const CLOSED = new Set(["poll_full", "poll_expired", "poll_not_active"]);

function usage(message?: string): never {
  if (message) console.error(message);
  console.error("usage: npm run simulate-voters -- --poll <id> --votes <n> [--base-url <url>] [--concurrency <k>]");
  process.exit(2);
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

/** Option i has weight 1/(i+1): every option gets votes, the distribution is not flat. */
function chooseOption(options: readonly { id: string }[]): string {
  const weights = options.map((_, i) => 1 / (i + 1));
  let r = Math.random() * weights.reduce((a, b) => a + b, 0);
  for (const [i, weight] of weights.entries()) {
    r -= weight;
    if (r <= 0) return options[i]!.id;
  }
  return options.at(-1)!.id;
}

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function progressLine(done: number, total: number, refused: number, startedAt: number): string {
  const width = 30;
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  const seconds = (performance.now() - startedAt) / 1000;
  const rate = seconds > 0 ? (done / seconds).toFixed(1) : "0.0";
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} votes  ${rate}/s${refused ? `  ${refused} refused` : ""}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      poll: { type: "string" },
      votes: { type: "string" },
      "base-url": { type: "string" },
      concurrency: { type: "string", default: "8" },
    },
  });
  const pollId = values.poll ?? usage("--poll is required");
  const total = Number(values.votes ?? usage("--votes is required"));
  if (!Number.isSafeInteger(total) || total < 1) usage("--votes must be a positive integer");
  const concurrency = Math.max(1, Math.min(64, Number(values.concurrency) || 8));
  const baseUrl = (values["base-url"] ?? loadConfig().publicBaseUrl).replace(/\/+$/, "");

  const pollAnswer = await getVoterPoll(baseUrl, pollId).catch((error: unknown) => {
    console.error(`cannot reach ${baseUrl}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
  if (pollAnswer.status !== 200) {
    console.error(`poll ${pollId}: ${pollAnswer.status} ${JSON.stringify(pollAnswer.body)}`);
    process.exit(1);
  }
  const poll = pollAnswer.body as VoterPollView;
  // The voter feed shuffles options per request; choose by a stable order so the spread is reproducible.
  const canonical = [...poll.options].sort((a, b) => a.id.localeCompare(b.id));
  if (poll.status !== "active") {
    console.error(`Poll ${pollId} is ${poll.status}: nothing to do.`);
    return;
  }
  console.error(`Voting on "${poll.question}" (${poll.voteCount}/${poll.maxResponses} so far) at ${baseUrl}`);

  const run = randomUUID().slice(0, 8);
  const tty = process.stderr.isTTY;
  const startedAt = performance.now();
  let next = 0;
  let accepted = 0;
  let refused = 0;
  let closedBy: string | undefined;
  let fatal: ApiAnswer | undefined;
  let lastDraw = 0;
  const draw = (force = false) => {
    const now = performance.now();
    if (!force && now - lastDraw < (tty ? 80 : 2000)) return;
    lastDraw = now;
    const line = progressLine(accepted, total, refused, startedAt);
    process.stderr.write(tty ? `\r${line}` : `${line}\n`);
  };

  const worker = async () => {
    while (!closedBy && !fatal && next < total) {
      const index = next++;
      const statesDemographics = Math.random() < 2 / 3;
      const answer = await voteAsSimulatedHuman(baseUrl, {
        pollId,
        optionId: chooseOption(canonical),
        human: `simulated-${run}-${index}`,
        shownOrder: shuffle(poll.options.map((o) => o.id)),
        demographics: statesDemographics ? { country: pick(COUNTRIES), ageBand: pick(AGE_BANDS) } : null,
      });
      if (answer.status === 201) {
        accepted++;
        if ((answer.body as { poll?: { status?: string } }).poll?.status === "completed") closedBy = "poll_full";
      } else {
        const code = errorCode(answer);
        if (code && CLOSED.has(code)) closedBy = code;
        else if (answer.status === 404 && code === "not_found") fatal = answer;
        else if (answer.status >= 500 && code !== "world_id_unavailable") fatal = answer;
        else refused++;
      }
      draw();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, () => worker()));
  draw(true);
  if (tty) process.stderr.write("\n");

  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  if (fatal) {
    const hint = errorCode(fatal) === "not_found" ? " (the simulated World ID exists only in local mode)" : "";
    console.error(`Stopped: ${fatal.status} ${JSON.stringify(fatal.body)}${hint}`);
    process.exit(1);
  }
  const reason = closedBy === "poll_full" ? "the poll is full" : closedBy ? `the poll closed (${closedBy})` : "done";
  console.log(`${accepted} vote(s) cast in ${seconds}s; ${refused} refused; ${reason}.`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
