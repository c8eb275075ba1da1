// The admin feature's routes: voters' reports (public, on the voter page) and the operator's admin API
// (/admin/api/v1/*, ADMIN_TOKEN), which is left out of /openapi.json (`hide`, and outside /api/): the public
// document describes what agents and voters may call; the operator's API is in docs/admin.md.
import { randomUUID } from "node:crypto";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Store } from "../db/store";
import { createRouter, type AppEnv } from "../http/app-env";
import { requestIdOf } from "../http/hardening";
import type { Logger } from "../http/logger";
import { ErrorResponse } from "../http/openapi-shapes";
import { rateLimitKeyOfIp } from "../http/client-ip";
import type { RouteGuards } from "../http/route-guards";
import { parseLimit } from "../http/pagination";
import type { TransitionListener } from "../polls";
import { adminAuth } from "./admin-auth";
import { listReportedPolls, recordReport, reporterKeys, reportRoute, ReportedPolls, type ClientIp } from "./reports";
import { listAdminActions, takeDown } from "./takedown";

export interface AdminSettings {
  /** ADMIN_TOKEN; undefined: the admin API answers 503 admin_not_configured. */
  token: string | undefined;
  /** Reports per client IP per minute (on top of the per-IP API limit); 0 disables. */
  reportsPerIpPerMinute: number;
  /** Keys the reporter hash (the read-token secret); undefined: a per-instance key. */
  reporterKeySecret: string | undefined;
}

export interface AdminDeps {
  store: Store;
  guards: RouteGuards;
  clientIp: ClientIp;
  settings: AdminSettings;
  /** Statements appended to a takedown's lifecycle transition (the webhook outbox). */
  transitionListeners: readonly TransitionListener[];
  now: () => Date;
  log: Logger;
}

// Outside /api/: the public API (every /api route is in /openapi.json) is what agents and voters call; this
// is the operator's, documented in docs/admin.md only.
export const ADMIN_PATH = "/admin/api/v1";

const AdminAction = z.object({
  id: z.string(),
  action: z.string(),
  pollId: z.string().nullable(),
  actor: z.string(),
  reason: z.string(),
  outcome: z.enum(["applied", "unchanged"]),
  createdAt: z.string(),
});

const TakedownBody = z
  .object({
    reason: z.string().trim().min(1).max(500).openapi({ description: "Why the poll is taken down (kept in admin_actions and the log)." }),
    actor: z.string().trim().min(1).max(100).openapi({ description: "Who takes it down (a name or handle of the operator)." }),
  })
  .strict();

const TakedownAnswer = z.object({
  pollId: z.string(),
  status: z.literal("removed"),
  previousStatus: z.string(),
  outcome: z.enum(["applied", "unchanged"]),
  webhook: z.boolean().openapi({ description: "True when the poll was active: poll.completed (status removed) is sent and the refund follows." }),
  action: AdminAction,
});

const errors = {
  401: { description: "No admin token", content: { "application/json": { schema: ErrorResponse } } },
  403: { description: "Wrong admin token", content: { "application/json": { schema: ErrorResponse } } },
  503: { description: "The admin API is off (ADMIN_TOKEN unset)", content: { "application/json": { schema: ErrorResponse } } },
};

export function adminRoutes(deps: AdminDeps): OpenAPIHono<AppEnv> {
  const { store, guards, settings, log } = deps;
  const router = createRouter();
  const reporterKey = reporterKeys(settings.reporterKeySecret);
  const reportsPerIp = guards.rateLimiter({
    name: "reports-per-ip",
    limit: settings.reportsPerIpPerMinute,
    windowMs: 60_000,
    key: (c) => {
      const ip = deps.clientIp(c);
      return ip === undefined ? undefined : rateLimitKeyOfIp(ip);
    },
  });
  const admin = adminAuth(settings.token, log);

  router.openapi(reportRoute([guards.api, reportsPerIp.middleware]), async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    await recordReport(store.db, { id: randomUUID(), pollId: id, reason: body.reason, note: body.note, reporterKey: reporterKey(deps.clientIp(c)), at: deps.now() });
    return c.json({ pollId: id, received: true as const }, 202);
  });

  router.openapi(
    createRoute({
      method: "get",
      path: `${ADMIN_PATH}/reports`,
      hide: true,
      summary: "Reported polls, the most recently reported first",
      middleware: [guards.api, admin],
      request: {
        query: z.object({ pollId: z.string().optional(), limit: z.string().optional() }),
      },
      responses: { 200: { description: "Reported polls", content: { "application/json": { schema: ReportedPolls } } }, ...errors },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const body = await listReportedPolls(store.db, { limit: parseLimit(query.limit, 200, 50), now: deps.now(), ...(query.pollId ? { pollId: query.pollId } : {}) });
      return c.json(body, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: `${ADMIN_PATH}/polls/{id}/takedown`,
      hide: true,
      summary: "Take a poll down (status removed)",
      middleware: [guards.api, admin],
      request: {
        params: z.object({ id: z.string() }),
        body: { content: { "application/json": { schema: TakedownBody } }, required: true },
      },
      responses: {
        200: { description: "The poll is removed (now or earlier)", content: { "application/json": { schema: TakedownAnswer } } },
        400: { description: "Invalid body", content: { "application/json": { schema: ErrorResponse } } },
        404: { description: "Poll not found or not settled", content: { "application/json": { schema: ErrorResponse } } },
        ...errors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { reason, actor } = c.req.valid("json");
      const outcome = await takeDown(store, { pollId: id, reason, actor, at: deps.now() }, deps.transitionListeners);
      const { action } = outcome;
      // Who and why, with the request id of this request's access line; never the token.
      log("admin action", { requestId: requestIdOf(c), action: action.action, pollId: id, actor, reason, outcome: action.outcome, previousStatus: outcome.previousStatus });
      return c.json(
        {
          pollId: id,
          status: "removed" as const,
          previousStatus: outcome.previousStatus,
          outcome: action.outcome,
          webhook: outcome.endedNow,
          action: toAction(action),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: `${ADMIN_PATH}/actions`,
      hide: true,
      summary: "Every admin action, newest first",
      middleware: [guards.api, admin],
      request: { query: z.object({ pollId: z.string().optional(), limit: z.string().optional() }) },
      responses: { 200: { description: "Admin actions", content: { "application/json": { schema: z.object({ actions: z.array(AdminAction) }) } } }, ...errors },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const rows = await listAdminActions(store.db, { limit: parseLimit(query.limit, 500, 100), ...(query.pollId ? { pollId: query.pollId } : {}) });
      return c.json({ actions: rows.map(toAction) }, 200);
    },
  );

  return router;
}

function toAction(row: { id: string; action: string; poll_id: string | null; actor: string; reason: string; outcome: "applied" | "unchanged"; created_at: string }): z.infer<typeof AdminAction> {
  return { id: row.id, action: row.action, pollId: row.poll_id, actor: row.actor, reason: row.reason, outcome: row.outcome, createdAt: row.created_at };
}
