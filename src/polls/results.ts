// GET /api/v1/polls/{id}/results: aggregate results for the agent holding the read token, served from
// the per-option and per-demographic counters the vote write maintains — O(options), never a scan of
// votes. Each option carries its share and a 95% Wilson score interval.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { runTemplated } from "../db/compiled";
import type { PollOptionRow } from "../db/schema";
import { createRouter, type AppEnv } from "../http/app-env";
import { ErrorResponse } from "../http/openapi-shapes";
import { respondJson, serializeJson, type JsonText } from "../http/response-headers";
import type { RouteGuards } from "../http/route-guards";
import { BoundedMap } from "../lib/bounded-map";
import { AGE_BANDS } from "./demographics";
import { visibleStatus, VISIBLE_STATUSES } from "./lifecycle";
import { POLLS_PATH } from "./paths";
import { pollForReader, READ_AUTH_ERROR_RESPONSES, READ_TOKEN_HEADERS_DESCRIPTION, ReadTokenHeaders, type ReadAuthDeps } from "./read-auth";
import type { RefundLookup } from "./refund-view";
import { findOptions } from "./repo";
import { DemographicBucket, PollResults } from "./wire";

export { PollResults };

export interface ResultsDeps extends ReadAuthDeps {
  now: () => Date;
  guards: RouteGuards;
  /** The refund of the poll's unfilled responses, when one is owed (the payouts feature, wired by the composition root). */
  refunds?: RefundLookup;
}

const Z_95 = 1.959963984540054;

/** 95% Wilson score interval for k successes out of n; [0, 1] when there is no data. */
export function wilsonInterval(k: number, n: number, z = Z_95): [number, number] {
  if (n <= 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

const resultsRoute = (guards: RouteGuards) =>
  createRoute({
    method: "get",
    path: `${POLLS_PATH}/{id}/results`,
    summary: "Aggregate results of a poll",
    middleware: [guards.api],
    description: `${READ_TOKEN_HEADERS_DESCRIPTION} Exception: a poll created with \`publicResults: true\` answers without a token.`,
    request: { params: z.object({ id: z.string() }), headers: ReadTokenHeaders },
    responses: {
      200: { description: "Results", content: { "application/json": { schema: PollResults } } },
      ...READ_AUTH_ERROR_RESPONSES,
      404: { description: "Poll not found or not settled", content: { "application/json": { schema: ErrorResponse } } },
      503: { description: "Read tokens not configured", content: { "application/json": { schema: ErrorResponse } } },
    },
  });

type Bucket = z.infer<typeof DemographicBucket>;
type Results = z.infer<typeof PollResults>;

const ageBandRank = (value: string) => AGE_BANDS.findIndex((band) => band === value);

function buckets(
  rows: readonly { value: string; option_id: string; count: number }[],
  options: readonly PollOptionRow[],
  order: (a: Bucket, b: Bucket) => number,
): Bucket[] {
  const byValue = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const perOption = byValue.get(row.value) ?? new Map<string, number>();
    perOption.set(row.option_id, (perOption.get(row.option_id) ?? 0) + row.count);
    byValue.set(row.value, perOption);
  }
  return [...byValue.entries()]
    .map(([value, perOption]) => ({
      value,
      count: [...perOption.values()].reduce((a, b) => a + b, 0),
      options: options.map((o) => ({ id: o.id, count: perOption.get(o.id) ?? 0 })),
    }))
    .sort(order);
}

/** Results documents kept (the least recently computed polls leave first past this many). */
const RESULTS_CACHE_LIMIT = 1_000;

export function resultsRoutes(deps: ResultsDeps): OpenAPIHono<AppEnv> {
  const router = createRouter();
  // A poll's results change only with a vote, and a vote changes its vote_count in the same batch as
  // every counter shown here; so a document computed at a given (vote_count, status, completion, visible
  // status) is served again as long as the poll row — read on every request anyway, for the read-token
  // check and the 404 — still says the same. Nothing is ever served stale, on one instance or many.
  const documents = new BoundedMap<string, { version: string; json: JsonText<Results> }>(RESULTS_CACHE_LIMIT);
  router.openapi(resultsRoute(deps.guards), async (c) => {
    const { id } = c.req.valid("param");
    const poll = await pollForReader(c, deps, id, { allowPublic: true });
    const status = visibleStatus(poll, deps.now());
    // The refund moves on its own (queued, sent, confirmed): part of the version, read with the poll.
    const refund = await deps.refunds?.(poll, status);
    const version = `${poll.vote_count}|${poll.status}|${status}|${poll.completed_at ?? ""}|${refund ? JSON.stringify(refund) : ""}`;
    const cached = documents.get(id);
    if (cached?.version === version) return respondJson(c, 200, cached.json);

    const [options, demographicRows] = await Promise.all([
      findOptions(deps.store.db, id),
      runTemplated<{ dimension: string; value: string; option_id: string; count: number }>(
        deps.store.db,
        "demographicCounts",
        ["pollId"],
        (d, p) => d.selectFrom("poll_demographic_counts").select(["dimension", "value", "option_id", "count"]).where("poll_id", "=", p.pollId!),
        [id],
      ),
    ]);
    const n = poll.vote_count;
    const country = buckets(
      demographicRows.filter((r) => r.dimension === "country"),
      options,
      (a, b) => b.count - a.count || a.value.localeCompare(b.value),
    );
    const ageBand = buckets(
      demographicRows.filter((r) => r.dimension === "age_band"),
      options,
      (a, b) => ageBandRank(a.value) - ageBandRank(b.value),
    );
    const stated = (list: Bucket[]) => list.reduce((sum, bucket) => sum + bucket.count, 0);
    const results: Results = {
      pollId: poll.id,
      status,
      voteCount: n,
      maxResponses: poll.max_responses,
      completedAt: poll.completed_at,
      options: options.map((o) => {
        const [low, high] = wilsonInterval(o.vote_count, n);
        return {
          id: o.id,
          text: o.text,
          count: o.vote_count,
          share: n > 0 ? round4(o.vote_count / n) : 0,
          ci95: [round4(low), round4(high)],
        };
      }),
      demographics: {
        country,
        ageBand,
        notStated: { country: Math.max(0, n - stated(country)), ageBand: Math.max(0, n - stated(ageBand)) },
      },
      ...(refund ? { refund } : {}),
    };
    // Re-inserted, so the most recently computed polls are the last to leave.
    const json = serializeJson(results);
    documents.delete(id);
    documents.set(id, { version, json });
    return respondJson(c, 200, json);
  });
  return router;
}
