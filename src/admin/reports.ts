// Voters' reports of a poll (POST /api/v1/polls/{id}/reports, from the voter page; no World ID), and the
// operator's view of them (GET /admin/api/v1/reports). A report is a reason from a short list and an
// optional note. One per poll and reporter: the reporter is a keyed hash of the client IP (IPv6 per /64),
// never the IP, so a repeat from the same address changes nothing and answers the same 202.
import { createHmac, randomBytes } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { sql, type Kysely } from "kysely";
import type { Database, ReportReason } from "../db/schema";
import type { AppEnv } from "../http/app-env";
import { rateLimitKeyOfIp } from "../http/client-ip";
import { ApiError } from "../http/errors";
import { ErrorResponse } from "../http/openapi-shapes";
import type { RouteGuards } from "../http/route-guards";
import { findPoll, POLLS_PATH, visibleStatus } from "../polls";

export const REPORT_REASONS = ["spam", "offensive", "illegal", "misleading", "other"] as const satisfies readonly ReportReason[];
export const REPORT_NOTE_MAX = 500;

export const ReportBody = z
  .object({
    reason: z.enum(REPORT_REASONS).openapi({ description: "Why the poll should be looked at." }),
    note: z
      .string()
      .trim()
      .max(REPORT_NOTE_MAX)
      .optional()
      .openapi({ description: `Optional details for the operator, at most ${REPORT_NOTE_MAX} characters.` }),
  })
  .strict()
  .openapi("PollReport");

export const ReportReceived = z
  .object({ pollId: z.string(), received: z.literal(true) })
  .openapi("PollReportReceived", { description: "The same answer for a first report and for a repeat from the same address." });

export const reportRoute = (middleware: RouteGuards["api"][]) =>
  createRoute({
    method: "post",
    path: `${POLLS_PATH}/{id}/reports`,
    summary: "Report a poll to the operator",
    description:
      `Reasons: ${REPORT_REASONS.join(", ")}; an optional note. No World ID needed; rate-limited per client IP; ` +
      "one report per poll and client address counts (a repeat answers the same 202 and changes nothing).",
    middleware,
    request: {
      params: z.object({ id: z.string() }),
      body: { content: { "application/json": { schema: ReportBody } }, required: true },
    },
    responses: {
      202: { description: "Report received", content: { "application/json": { schema: ReportReceived } } },
      400: { description: "Invalid reason or note", content: { "application/json": { schema: ErrorResponse } } },
      404: { description: "Poll not found or not settled", content: { "application/json": { schema: ErrorResponse } } },
      429: { description: "Too many reports from this address", content: { "application/json": { schema: ErrorResponse } } },
    },
  });

/** The reporter of a request: an HMAC of its client address under a server secret. */
export function reporterKeys(secret: string | undefined) {
  // Without the server secret (a misconfigured server), a per-instance key: repeats still collapse
  // while this instance lives.
  const key = secret ?? randomBytes(32).toString("hex");
  return (ip: string | undefined): string =>
    createHmac("sha256", key)
      .update(`quali/reporter/v1:${ip === undefined ? "unknown" : rateLimitKeyOfIp(ip)}`)
      .digest("hex");
}

export async function recordReport(
  db: Kysely<Database>,
  report: { pollId: string; reason: ReportReason; note: string | undefined; reporterKey: string; at: Date; id: string },
): Promise<void> {
  const poll = await findPoll(db, report.pollId);
  if (!poll || poll.status === "pending_payment" || poll.status === "payment_failed") {
    throw new ApiError(404, "poll_not_found", "No settled poll has this id.", "id");
  }
  await db
    .insertInto("reports")
    .values({
      id: report.id,
      poll_id: report.pollId,
      reason: report.reason,
      note: report.note === undefined || report.note === "" ? null : report.note,
      reporter_key: report.reporterKey,
      created_at: report.at.toISOString(),
    })
    .onConflict((oc) => oc.columns(["poll_id", "reporter_key"]).doNothing())
    .execute();
}

export type ClientIp = (c: Context<AppEnv>) => string | undefined;

// ---- The operator's view -------------------------------------------------------------------------------

export const ReportedPoll = z.object({
  pollId: z.string(),
  status: z.string(),
  question: z.string(),
  reports: z.number().int(),
  reasons: z.record(z.string(), z.number().int()),
  latestReportAt: z.string(),
  recent: z.array(z.object({ reason: z.string(), note: z.string().nullable(), createdAt: z.string() })),
});
export const ReportedPolls = z.object({ polls: z.array(ReportedPoll) }).openapi("AdminReportedPolls");

const RECENT_PER_POLL = 10;

/** Reported polls, the most recently reported first, each with its count per reason and its latest reports. */
export async function listReportedPolls(
  db: Kysely<Database>,
  options: { pollId?: string; limit: number; now: Date },
): Promise<z.infer<typeof ReportedPolls>> {
  let grouped = db
    .selectFrom("reports")
    .select(["poll_id", sql<number>`count(*)`.as("reports"), sql<string>`max(created_at)`.as("latest")])
    .groupBy("poll_id")
    .orderBy("latest", "desc")
    .orderBy("poll_id")
    .limit(options.limit);
  if (options.pollId !== undefined) grouped = grouped.where("poll_id", "=", options.pollId);
  const groups = await grouped.execute();
  if (groups.length === 0) return { polls: [] };
  const ids = groups.map((g) => g.poll_id);
  const [polls, reasons, recent] = await Promise.all([
    db.selectFrom("polls").select(["id", "status", "question", "expires_at"]).where("id", "in", ids).execute(),
    db.selectFrom("reports").select(["poll_id", "reason", sql<number>`count(*)`.as("n")]).where("poll_id", "in", ids).groupBy(["poll_id", "reason"]).execute(),
    db
      .selectFrom("reports")
      .select(["poll_id", "reason", "note", "created_at"])
      .where("poll_id", "in", ids)
      .orderBy("created_at", "desc")
      .limit(ids.length * RECENT_PER_POLL * 10)
      .execute(),
  ]);
  const pollById = new Map(polls.map((p) => [p.id, p]));
  return {
    polls: groups.map((group) => {
      const poll = pollById.get(group.poll_id);
      return {
        pollId: group.poll_id,
        status: poll ? visibleStatus(poll, options.now) : "unknown",
        question: poll?.question ?? "",
        reports: Number(group.reports),
        reasons: Object.fromEntries(reasons.filter((r) => r.poll_id === group.poll_id).map((r) => [r.reason, Number(r.n)])),
        latestReportAt: group.latest,
        recent: recent
          .filter((r) => r.poll_id === group.poll_id)
          .slice(0, RECENT_PER_POLL)
          .map((r) => ({ reason: r.reason, note: r.note, createdAt: r.created_at })),
      };
    }),
  };
}
