// The MCP tools: JSON Schemas (from zod) and descriptions written for an LLM, and handlers that turn
// every failure into a tool result with isError (never a protocol error). Input the schema refuses is
// refused by the SDK before a handler runs, so it never reaches the service.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { PrivateKeyAccount } from "viem/accounts";
import { z } from "zod";
import { formatUsdc } from "./config";
import type { ClassifiedError, PaymentRequest, PollBody, PollView, QualiPort, ResultsView } from "./quali-port";
import { DailyLimitExceeded, SpendLedger } from "./spend-ledger";
import type { TokenStore } from "./token-store";

export const MIN_RESPONSES = 100;
export const MAX_RESPONSES = 1_000_000;
const DEFAULT_DURATION_MINUTES = 24 * 60;
/** The service wants expiresAt more than 5 minutes ahead; one more minute covers the round trip. */
const MIN_DURATION_MINUTES = 6;
const MAX_DURATION_MINUTES = 365 * 24 * 60;
const MAX_WAIT_SECONDS = 3600;
const LIST_LIMIT = 100;

export interface ToolDeps {
  port: QualiPort;
  ledger: SpendLedger;
  tokens: TokenStore;
  account: PrivateKeyAccount | undefined;
  baseUrl: string;
  maxAtomicPerPoll: bigint;
  maxAtomicPerDay: bigint;
  /** CAIP-2 network from QUALI_NETWORK; undefined: the service's first. */
  network: string | undefined;
  now?: () => Date;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const pollId = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "must be a poll id (a UUID) as create_poll or list_my_polls returned it")
  .describe("The poll's id (a UUID), as create_poll or list_my_polls returned it.");

const maxResponses = z
  .number()
  .int("must be a whole number")
  .min(MIN_RESPONSES, `must be at least ${MIN_RESPONSES}`)
  .max(MAX_RESPONSES, `must be at most ${MAX_RESPONSES}`)
  .describe(`How many verified human answers to buy: a whole number from ${MIN_RESPONSES} to ${MAX_RESPONSES}. The price is proportional to it.`);

const networkInput = z
  .string()
  .min(1)
  .max(64)
  .describe('Optional payment network: a CAIP-2 id such as "eip155:8453" (Base) or "eip155:480" (World Chain), or a name such as "base" or "worldchain".');

const httpsUrl = (max: number, what: string) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((value) => URL.canParse(value) && new URL(value).protocol === "https:", "must be an absolute https:// URL")
    .describe(what);

const QuoteInput = z.strictObject({
  maxResponses,
  network: networkInput.optional(),
});

const CreateInput = z.strictObject({
  question: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters").describe("The question voters answer, at most 200 characters."),
  options: z
    .array(
      z.strictObject({
        text: z.string().trim().min(1, "must not be empty").max(120, "must be at most 120 characters").describe("The answer as voters see it, at most 120 characters."),
        mediaUrl: httpsUrl(2048, "Optional https URL of an image shown with this option.").optional(),
      }),
    )
    .min(2, "must have at least 2 options")
    .max(10, "must have at most 10 options")
    .describe("2 to 10 answers to choose from, in the API's shape: [{\"text\": \"…\"}, {\"text\": \"…\", \"mediaUrl\": \"https://…\"}]."),
  maxResponses,
  description: z.string().trim().max(1000, "must be at most 1000 characters").optional().describe("Optional context shown to voters, at most 1000 characters."),
  expiresAt: z.iso
    .datetime({ offset: true, message: "must be an ISO 8601 timestamp with seconds and a zone, e.g. 2030-01-15T12:00:00Z" })
    .optional()
    .describe("Optional end of the poll as an ISO 8601 timestamp with a zone (e.g. 2030-01-15T12:00:00Z), more than 5 minutes ahead. Give this or durationMinutes, not both."),
  durationMinutes: z
    .number()
    .int("must be a whole number of minutes")
    .min(MIN_DURATION_MINUTES, `must be at least ${MIN_DURATION_MINUTES} minutes`)
    .max(MAX_DURATION_MINUTES, `must be at most ${MAX_DURATION_MINUTES} minutes (365 days)`)
    .optional()
    .describe(`Optional: how long the poll stays open, in minutes (${MIN_DURATION_MINUTES} to ${MAX_DURATION_MINUTES}). Default ${DEFAULT_DURATION_MINUTES} (24 hours). Give this or expiresAt, not both.`),
  mediaUrl: httpsUrl(2048, "Optional https URL of an image shown with the question.").optional(),
  layoutType: z.enum(["list", "grid"]).optional().describe('Optional: "list" (default) or "grid" (for image options).'),
  callbackUrl: httpsUrl(2048, "Optional https URL that receives a signed poll.completed webhook when the poll completes.").optional(),
  publicResults: z.boolean().optional().describe("Optional: true lets anyone read the aggregate results without the read token. Default false."),
});

const ResultsInput = z.strictObject({ pollId });

const WaitInput = z.strictObject({
  pollId,
  timeoutSeconds: z
    .number()
    .int("must be a whole number of seconds")
    .min(1, "must be at least 1")
    .max(MAX_WAIT_SECONDS, `must be at most ${MAX_WAIT_SECONDS}`)
    .describe(
      `How long to wait at most, in seconds (1 to ${MAX_WAIT_SECONDS}). Many MCP hosts cancel a tool call after about 60 seconds: ` +
        "use 50 or less unless yours allows longer, and call again to keep waiting.",
    ),
  untilVotes: z
    .number()
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .optional()
    .describe("Optional: return as soon as the poll has at least this many votes (below maxResponses)."),
});

const ListInput = z.strictObject({});

export function registerTools(server: McpServer, deps: ToolDeps): void {
  const now = deps.now ?? (() => new Date());
  const perPollText = formatUsdc(deps.maxAtomicPerPoll);
  const perDayText = formatUsdc(deps.maxAtomicPerDay);

  server.registerTool(
    "quote_poll",
    {
      title: "Price a poll",
      description:
        "Price a poll before creating it. Free: no payment, no signature. Returns the price in USDC (a decimal string; USDC " +
        `has 6 decimals) for maxResponses verified human answers, the payment networks the service accepts, and whether this ` +
        `server's spend limits allow create_poll to pay it (per poll: ${perPollText} USDC, QUALI_MAX_USDC_PER_POLL; per rolling ` +
        `24 hours: ${perDayText} USDC, QUALI_MAX_USDC_PER_DAY).`,
      inputSchema: QuoteInput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (input) =>
      guarded("quote_poll", async () => {
        const quote = await deps.port.quote(input.maxResponses, input.network);
        // create_poll pays on QUALI_NETWORK, else on the first network of the unfiltered offer.
        const payOn = deps.network ?? (input.network === undefined ? quote.accepts[0]?.network : undefined);
        const spent = await deps.ledger.spentAtomic();
        const offered = quote.accepts.map((a) => a.network);
        const refusal =
          deps.network !== undefined && input.network === undefined && !offered.includes(deps.network)
            ? `QUALI_NETWORK is ${deps.network}, which the service does not offer (it offers ${offered.join(", ")}): set QUALI_NETWORK to one of those, or unset it, and restart the server.`
            : limitProblem(deps, { amountAtomic: quote.costAtomic, maxResponses: quote.maxResponses, spentAtomic: spent });
        const data = {
          maxResponses: quote.maxResponses,
          priceUsdc: formatUsdc(quote.costAtomic),
          priceAtomic: quote.costAtomic.toString(),
          networks: quote.accepts.map((a) => ({ network: a.network, priceUsdc: formatUsdc(a.amountAtomic), asset: a.asset })),
          payOnNetwork: payOn ?? null,
          limits: limitsView(deps, spent),
          createPollAllowed: refusal === undefined,
          ...(refusal ? { createPollRefusal: refusal } : {}),
        };
        const summary =
          `A poll with ${quote.maxResponses} responses costs ${data.priceUsdc} USDC.` +
          (refusal ? ` create_poll would refuse it: ${refusal}` : " create_poll can pay it within this server's limits.");
        return ok(summary, data);
      }),
  );

  server.registerTool(
    "create_poll",
    {
      title: "Ask verified humans (paid)",
      description:
        "Ask World ID-verified humans a multiple-choice question. COSTS MONEY: pays the poll's price in USDC from this " +
        "server's wallet (an x402 payment on chain; the same price quote_poll returns for maxResponses). Refused before any " +
        `payment when the price is above the per-poll limit (${perPollText} USDC, setting QUALI_MAX_USDC_PER_POLL) or would ` +
        `take the spending of the last 24 hours above ${perDayText} USDC (QUALI_MAX_USDC_PER_DAY). Content is moderated before ` +
        "the payment settles; a rejected poll is not charged. Returns the poll's id, its public URL, the payment's " +
        "transaction hash and its status. This server keeps the poll's read token: read results with get_poll_results or " +
        "wait_for_poll and the pollId. Every successful call creates and pays for a new poll: do not repeat a call that succeeded.",
      inputSchema: CreateInput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    (input) => guarded("create_poll", () => createPoll(deps, input, now)),
  );

  server.registerTool(
    "get_poll_results",
    {
      title: "Read a poll's results",
      description:
        "Current results of a poll this server created (or its wallet paid for): per-option counts, shares (0 to 1) with " +
        "95% confidence intervals, the status (active, completed, expired), the vote count out of maxResponses, and " +
        "optional voter demographics (country, age band). Free. An active poll's results are partial.",
      inputSchema: ResultsInput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (input) =>
      guarded("get_poll_results", async () => {
        const token = await readTokenFor(deps, input.pollId);
        if ("error" in token) return token.error;
        const [results, poll] = await Promise.all([deps.port.getResults(input.pollId, token.readToken), deps.port.getPoll(input.pollId)]);
        return ok(summarizeResults(poll.question, results), { question: poll.question, url: poll.url, expiresAt: poll.expiresAt, ...results });
      }),
  );

  server.registerTool(
    "wait_for_poll",
    {
      title: "Wait for a poll",
      description:
        "Wait until a poll completes (all maxResponses votes), expires, or reaches untilVotes votes, or until timeoutSeconds " +
        'pass; then return its results. Free. Reaching the timeout is a normal result (outcome "timeout"), not an error: ' +
        "call again to keep waiting. While waiting, sends MCP progress notifications (progress = votes so far, total = " +
        "maxResponses) when the call carries a progressToken.",
      inputSchema: WaitInput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (input, extra) => guarded("wait_for_poll", () => waitForPoll(deps, input, extra)),
  );

  server.registerTool(
    "list_my_polls",
    {
      title: "List my polls",
      description:
        `The polls this server's wallet paid for, newest first (at most ${LIST_LIMIT}), with status (active, completed, ` +
        "expired) and progress (votes out of maxResponses). Free.",
      inputSchema: ListInput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    () =>
      guarded("list_my_polls", async () => {
        if (!deps.account) return fail(noWallet("list the polls it paid for"));
        const polls: PollView[] = [];
        let cursor: string | undefined;
        let more = false;
        do {
          const page = await deps.port.listPolls(deps.account.address, cursor);
          polls.push(...page.polls);
          cursor = page.nextCursor ?? undefined;
          more = cursor !== undefined;
        } while (more && polls.length < LIST_LIMIT);
        const shown = polls.slice(0, LIST_LIMIT);
        const data = {
          payer: deps.account.address,
          polls: shown.map((poll) => ({
            pollId: poll.id,
            question: poll.question,
            status: poll.status,
            voteCount: poll.voteCount,
            maxResponses: poll.maxResponses,
            progress: `${poll.voteCount}/${poll.maxResponses} votes (${percent(poll.voteCount, poll.maxResponses)})`,
            expiresAt: poll.expiresAt,
            createdAt: poll.createdAt,
            completedAt: poll.completedAt,
            network: poll.network,
            url: poll.url,
            readTokenStored: deps.tokens.has(poll.id),
          })),
          more: more || polls.length > LIST_LIMIT,
        };
        const summary =
          shown.length === 0
            ? `No polls paid by ${deps.account.address} yet.`
            : `${shown.length} poll(s) paid by ${deps.account.address}${data.more ? ` (the newest ${LIST_LIMIT}; older ones exist)` : ""}.`;
        return ok(summary, data);
      }),
  );

  /** Runs a handler; anything it throws becomes a tool error that names the service's code when there is one. */
  async function guarded(tool: string, run: () => Promise<CallToolResult>): Promise<CallToolResult> {
    try {
      return await run();
    } catch (error) {
      return failFrom(tool, deps.port.classify(error));
    }
  }
}

type CreateArgs = z.infer<typeof CreateInput>;

/** Why the limits refuse a payment, in words an agent can act on; undefined when they allow it. */
function limitProblem(deps: ToolDeps, p: { amountAtomic: bigint; maxResponses: number; spentAtomic: bigint }): string | undefined {
  if (p.amountAtomic > deps.maxAtomicPerPoll) return perPollRefusal(deps, p.amountAtomic, p.maxResponses);
  if (p.spentAtomic + p.amountAtomic > deps.maxAtomicPerDay) return dailyRefusal(new DailyLimitExceeded(p.amountAtomic, p.spentAtomic, deps.maxAtomicPerDay));
  return undefined;
}

function perPollRefusal(deps: ToolDeps, amountAtomic: bigint, responses: number): string {
  const price = formatUsdc(amountAtomic);
  const limit = formatUsdc(deps.maxAtomicPerPoll);
  const perResponse = responses > 0 ? amountAtomic / BigInt(responses) : 0n;
  const fit = perResponse > 0n ? deps.maxAtomicPerPoll / perResponse : 0n;
  const smaller =
    fit >= BigInt(MIN_RESPONSES)
      ? `or ask for fewer responses: at most ${fit} fit in ${limit} USDC.`
      : `the smallest poll (${MIN_RESPONSES} responses) costs ${formatUsdc(perResponse * BigInt(MIN_RESPONSES))} USDC.`;
  return (
    `this poll costs ${price} USDC, above the per-poll limit of ${limit} USDC (setting QUALI_MAX_USDC_PER_POLL). ` +
    `No money moved. To allow it, set QUALI_MAX_USDC_PER_POLL to at least ${price} in this MCP server's environment ` +
    `(the "env" of its entry in the MCP host's configuration) and restart the server; ${smaller}`
  );
}

function dailyRefusal(refused: DailyLimitExceeded): string {
  return (
    `this poll costs ${formatUsdc(refused.amountAtomic)} USDC, and ${formatUsdc(refused.spentAtomic)} USDC was already spent in the last 24 hours ` +
    `of the daily limit of ${formatUsdc(refused.limitAtomic)} USDC (setting QUALI_MAX_USDC_PER_DAY): ${formatUsdc(refused.leftAtomic)} USDC is left. ` +
    "No money moved. To allow it, raise QUALI_MAX_USDC_PER_DAY in this MCP server's environment and restart the server, " +
    "wait until earlier payments are more than 24 hours old, or ask for fewer responses."
  );
}

function limitsView(deps: ToolDeps, spentAtomic: bigint) {
  const left = deps.maxAtomicPerDay > spentAtomic ? deps.maxAtomicPerDay - spentAtomic : 0n;
  return {
    maxUsdcPerPoll: formatUsdc(deps.maxAtomicPerPoll),
    maxUsdcPerPollSetting: "QUALI_MAX_USDC_PER_POLL",
    maxUsdcPerDay: formatUsdc(deps.maxAtomicPerDay),
    maxUsdcPerDaySetting: "QUALI_MAX_USDC_PER_DAY",
    spentUsdcLast24h: formatUsdc(spentAtomic),
    leftUsdcLast24h: formatUsdc(left),
  };
}

/** Statuses after which the service guarantees the authorization moved no money (and never will). */
const NOTHING_MOVED = new Set([400, 401, 402, 403, 404, 405, 413, 415, 422, 429, 503]);

async function createPoll(deps: ToolDeps, input: CreateArgs, now: () => Date): Promise<CallToolResult> {
  const account = deps.account;
  if (!account) return fail(noWallet("pay for a poll"));
  if (input.expiresAt !== undefined && input.durationMinutes !== undefined) {
    return fail("create_poll: give expiresAt or durationMinutes, not both. Nothing was sent and no money moved.");
  }
  const expiresAt = input.expiresAt ?? new Date(now().getTime() + (input.durationMinutes ?? DEFAULT_DURATION_MINUTES) * 60_000).toISOString();
  const body: PollBody = {
    question: input.question,
    options: input.options.map((o) => ({ text: o.text, ...(o.mediaUrl ? { mediaUrl: o.mediaUrl } : {}) })),
    maxResponses: input.maxResponses,
    expiresAt,
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.mediaUrl !== undefined ? { mediaUrl: input.mediaUrl, mediaType: "image" as const } : {}),
    ...(input.layoutType !== undefined ? { layoutType: input.layoutType } : {}),
    ...(input.callbackUrl !== undefined ? { callbackUrl: input.callbackUrl } : {}),
    ...(input.publicResults !== undefined ? { publicResults: input.publicResults } : {}),
  };

  // Set by beforePayment, which runs before any signature: a refusal here means nothing was signed.
  let refusal: string | undefined;
  let reservation: { id: string; spentAtomic: bigint } | undefined;
  const beforePayment = async (payment: PaymentRequest) => {
    if (payment.amountAtomic > deps.maxAtomicPerPoll) {
      refusal = perPollRefusal(deps, payment.amountAtomic, input.maxResponses);
      throw new Error(refusal);
    }
    try {
      reservation = await deps.ledger.reserve(payment.amountAtomic, payment.network);
    } catch (error) {
      refusal = error instanceof DailyLimitExceeded ? dailyRefusal(error) : `the spend ledger refused: ${messageOf(error)}. No money moved.`;
      throw error;
    }
  };

  let created;
  try {
    created = await deps.port.createPoll(body, deps.network, beforePayment);
  } catch (error) {
    if (refusal !== undefined && reservation === undefined) return fail(`create_poll refused before paying: ${refusal}`, { refused: true, moneyMoved: false });
    const problem = deps.port.classify(error);
    if (!reservation) {
      // Nothing was reserved, so nothing was signed: the service refused the poll itself, or the client's own cap.
      if (problem.kind === "spend_limit") {
        const amount = problem.amountAtomic;
        return fail(
          `create_poll refused before paying: ${amount !== undefined ? perPollRefusal(deps, amount, input.maxResponses) : `${problem.message} (setting QUALI_MAX_USDC_PER_POLL). No money moved.`}`,
          { refused: true, moneyMoved: false },
        );
      }
      return failFrom("create_poll", problem, " No money moved.");
    }
    if (problem.kind === "pending") {
      return fail(
        `create_poll: the payment for poll ${problem.pollId} was submitted and the chain has not confirmed it yet. It stays counted ` +
          "against QUALI_MAX_USDC_PER_DAY. Do not create the poll again: in a minute, get_poll_results with this pollId reads it " +
          "(the read token is recovered with the wallet), and list_my_polls shows it once it is confirmed.",
        { pollId: problem.pollId, status: "payment_pending" },
      );
    }
    const definitive = (problem.kind === "service" && NOTHING_MOVED.has(problem.status)) || problem.kind === "spend_limit";
    if (definitive) {
      await deps.ledger.release(reservation.id);
      return failFrom("create_poll", problem, " No money moved.");
    }
    // Signed, and the outcome is unknown: the reservation keeps counting against the daily limit.
    return failFrom(
      "create_poll",
      problem,
      " The payment was signed and may have settled: it stays counted against QUALI_MAX_USDC_PER_DAY. Check list_my_polls " +
        "in a minute before trying again; if the poll is there, get_poll_results reads it (the read token is recovered with the wallet).",
    );
  }

  // The poll is paid for: from here nothing may turn the answer into an error the agent would retry (and pay again).
  let tokenProblem: string | undefined;
  try {
    deps.tokens.save({
      pollId: created.pollId,
      readToken: created.readToken,
      ...(created.callbackSecret ? { callbackSecret: created.callbackSecret } : {}),
      baseUrl: deps.baseUrl,
      network: created.payment.network,
      txHash: created.payment.txHash,
    });
  } catch (error) {
    tokenProblem = `the read token could not be stored (${messageOf(error)}); get_poll_results recovers it with the wallet`;
  }
  let spent: bigint | undefined;
  try {
    if (reservation) await deps.ledger.confirm(reservation.id, { pollId: created.pollId, txHash: created.payment.txHash });
    spent = await deps.ledger.spentAtomic();
  } catch {
    // The reservation (written before signing) still counts the payment.
  }
  const data = {
    pollId: created.pollId,
    url: created.url,
    status: "active",
    question: input.question,
    maxResponses: input.maxResponses,
    expiresAt,
    payment: {
      network: created.payment.network,
      txHash: created.payment.txHash,
      amountUsdc: formatUsdc(created.payment.amountAtomic),
      payer: created.payment.payer,
    },
    readTokenStored: tokenProblem === undefined,
    ...(tokenProblem ? { warning: tokenProblem } : {}),
    ...(created.callbackSecret && !tokenProblem ? { webhookSecretFile: deps.tokens.pathOf(created.pollId) } : {}),
    ...(spent !== undefined ? { limits: limitsView(deps, spent) } : {}),
  };
  return ok(
    `Poll ${created.pollId} is live at ${created.url}; paid ${data.payment.amountUsdc} USDC (transaction ${created.payment.txHash}). ` +
      "Use wait_for_poll or get_poll_results with this pollId; do not create it again." +
      (tokenProblem ? ` Note: ${tokenProblem}.` : ""),
    data,
  );
}

async function waitForPoll(deps: ToolDeps, input: z.infer<typeof WaitInput>, extra: Extra): Promise<CallToolResult> {
  const token = await readTokenFor(deps, input.pollId);
  if ("error" in token) return token.error;
  const progressToken = extra._meta?.progressToken;
  let sent = -1;
  // Notifications go out one at a time and in order; each one carries more votes than the one before.
  let queue = Promise.resolve();
  const report = (voteCount: number, maxResponses: number) => {
    if (progressToken === undefined || voteCount <= sent) return;
    sent = voteCount;
    queue = queue
      .then(() =>
        extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress: voteCount, total: maxResponses, message: `${voteCount} of ${maxResponses} votes` },
        }),
      )
      .catch(() => {});
  };
  // The poll as it stands, first: the host learns at once that the wait follows it.
  const current = await deps.port.getPoll(input.pollId);
  report(current.voteCount, current.maxResponses);
  const outcome = await deps.port.waitForCompletion(input.pollId, token.readToken, {
    timeoutMs: input.timeoutSeconds * 1000,
    untilVotes: input.untilVotes,
    signal: extra.signal,
    onProgress: (p) => report(p.voteCount, p.maxResponses),
  });
  const results = await deps.port.getResults(input.pollId, token.readToken);
  const poll = current;
  report(results.voteCount, results.maxResponses);
  await queue;
  const how: Record<typeof outcome.outcome, string> = {
    completed: "The poll is complete.",
    expired: "The poll expired before it was full.",
    closed: "The poll was closed.",
    removed: "The poll was removed.",
    target_reached: `The poll reached ${input.untilVotes ?? results.voteCount} votes.`,
    timeout: `Still waiting after ${input.timeoutSeconds} s (not an error): call wait_for_poll again to keep waiting.`,
  };
  return ok(`${how[outcome.outcome]} ${summarizeResults(poll.question, results)}`, {
    outcome: outcome.outcome,
    timedOut: outcome.outcome === "timeout",
    question: poll.question,
    url: poll.url,
    expiresAt: poll.expiresAt,
    ...results,
  });
}

/** The stored read token, or one recovered by signing with the payer's wallet (then stored). */
async function readTokenFor(deps: ToolDeps, id: string): Promise<{ readToken: string } | { error: CallToolResult }> {
  const stored = deps.tokens.get(id);
  if (stored) return { readToken: stored.readToken };
  if (!deps.account) {
    return {
      error: fail(
        `No read token for poll ${id} under this server's QUALI_MCP_HOME, and no wallet (QUALI_PAYER_PRIVATE_KEY) to recover it: ` +
          "only polls created by this server, or paid by its wallet, can be read.",
      ),
    };
  }
  const readToken = await deps.port.recoverReadToken(id);
  deps.tokens.save({ pollId: id, readToken, baseUrl: deps.baseUrl });
  return { readToken };
}

function summarizeResults(question: string, results: ResultsView): string {
  const options = results.options
    .map((o) => `${o.text}: ${o.count} (${(o.share * 100).toFixed(1)}%, 95% CI ${(o.ci95[0] * 100).toFixed(1)}–${(o.ci95[1] * 100).toFixed(1)}%)`)
    .join("; ");
  return `"${question}" is ${results.status} with ${results.voteCount}/${results.maxResponses} votes. ${options}.`;
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${Math.floor((part / whole) * 100)}%` : "0%";
}

function noWallet(what: string): string {
  return `This MCP server has no wallet to ${what}: set QUALI_PAYER_PRIVATE_KEY (the payer's private key) in its environment and restart it.`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function ok(summary: string, data: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: `${summary}\n\n${JSON.stringify(data, null, 2)}` }], structuredContent: data };
}

function fail(message: string, data?: Record<string, unknown>): CallToolResult {
  return { isError: true, content: [{ type: "text", text: message }], ...(data ? { structuredContent: data } : {}) };
}

function failFrom(tool: string, problem: ClassifiedError, suffix = ""): CallToolResult {
  if (problem.kind === "service") {
    const param = problem.param ? ` (param: ${problem.param})` : "";
    return fail(`${tool}: the service refused (HTTP ${problem.status}, code ${problem.code}): ${problem.message.replace(/\.$/, "")}${param}.${suffix}`, {
      error: { status: problem.status, code: problem.code, message: problem.message, ...(problem.param ? { param: problem.param } : {}) },
    });
  }
  if (problem.kind === "pending") return fail(`${tool}: payment for poll ${problem.pollId} still being confirmed on chain.${suffix}`, { pollId: problem.pollId });
  if (problem.kind === "spend_limit") return fail(`${tool}: ${problem.message} (setting QUALI_MAX_USDC_PER_POLL).${suffix}`, { error: { code: "spend_limit_exceeded" } });
  return fail(`${tool} failed: ${problem.message}${suffix}`);
}
