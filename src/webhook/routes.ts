// GET /api/v1/polls/{id}/deliveries: the webhook delivery history of a poll, for the agent holding its
// read token (X-Read-Token or Authorization: Bearer; 401 missing, 403 wrong, 404 unknown poll). Also
// documents the webhook itself in the OpenAPI document's `webhooks` section.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { WebhookAttemptRow, WebhookDeliveryRow } from "../db/schema";
import { createRouter, type AppEnv } from "../http/app-env";
import { ErrorResponse } from "../http/openapi-shapes";
import type { RouteGuards } from "../http/route-guards";
import { PollRefund, pollForReader, POLLS_PATH, READ_AUTH_ERROR_RESPONSES, READ_TOKEN_HEADERS_DESCRIPTION, ReadTokenHeaders, type ReadAuthDeps } from "../polls";
import { MAX_ATTEMPTS } from "./dispatch-core";
import { DELIVERY_HEADER, EVENT_HEADER, POLL_SIGNATURE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "./signing";

export const WebhookAttempt = z
  .object({
    attempt: z.number().int().openapi({ example: 1 }),
    at: z.string().openapi({ description: "When the attempt started (ISO 8601).", example: "2026-11-23T10:00:00.000Z" }),
    status: z.number().int().nullable().openapi({ description: "The receiver's HTTP status; null when no response arrived.", example: 503 }),
    error: z
      .string()
      .nullable()
      .openapi({
        description:
          "null on a 2xx; otherwise http_error, redirect_not_followed, timeout, network_error, dns_error, " +
          "address_not_public, url_not_allowed or interrupted.",
        example: "http_error",
      }),
    durationMs: z.number().int().nullable().openapi({ description: "null for an interrupted attempt.", example: 42 }),
  })
  .openapi("WebhookAttempt");

export const WebhookDelivery = z
  .object({
    id: z.string().openapi({ description: "The X-Quali-Delivery id, the same on every attempt." }),
    event: z.enum(["poll.completed", "poll.expired"]),
    state: z.enum(["pending", "delivering", "delivered", "failed"]).openapi({
      description: "pending: waiting for its next attempt; delivering: an attempt is in flight; delivered: a 2xx was received; failed: given up.",
    }),
    attempts: z.number().int(),
    maxAttempts: z.number().int().openapi({ example: MAX_ATTEMPTS }),
    nextAttemptAt: z.string().nullable().openapi({ description: "When the next attempt is due; null once delivered or failed." }),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
    history: z.array(WebhookAttempt).openapi({ description: "Every attempt, oldest first." }),
  })
  .openapi("WebhookDelivery");

export const WebhookDeliveries = z
  .object({ pollId: z.string(), deliveries: z.array(WebhookDelivery) })
  .openapi("WebhookDeliveries");

/** The webhook body, exactly the contract's fields in the contract's order. */
export const WebhookBody = z
  .object({
    pollId: z.string(),
    status: z.enum(["completed", "expired", "closed", "removed"]).openapi({
      description:
        "completed: every response arrived; closed: its creator closed it early (event poll.completed); removed: the operator took it down (event poll.completed); expired (event poll.expired).",
    }),
    voteCount: z.number().int(),
    maxResponses: z.number().int(),
    completedAt: z.string().openapi({ description: "When the poll completed, was closed or removed (for poll.expired: when it expired)." }),
    resultsUrl: z.string(),
    votesUrl: z.string(),
    readToken: z.string().nullable(),
    // No description on this field: metadata set on PollRefund.optional() lands on the shared PollRefund component.
    refund: PollRefund.optional(),
  })
  .openapi("WebhookPayload", {
    description:
      "refund (beyond the contract, last key): the refund of the unfilled responses when the poll ended without filling up " +
      "under the refund policy 'unfilled' — status pending and txHash null at this point; GET /api/v1/polls/{id} follows it to confirmed.",
  });

/** Same schemes as results and votes (src/discovery/openapi.ts names them). */
const READ_TOKEN_SECURITY: Record<string, string[]>[] = [{ ReadToken: [] }, { ReadTokenBearer: [] }, { SignInWithX: [] }];

const deliveriesRoute = (guards: RouteGuards) =>
  createRoute({
    method: "get",
    path: `${POLLS_PATH}/{id}/deliveries`,
    summary: "Webhook delivery history of a poll",
    middleware: [guards.api],
    description:
      `${READ_TOKEN_HEADERS_DESCRIPTION} Each delivery (poll.completed or poll.expired, to the poll's callbackUrl) with ` +
      "its state, next attempt and every attempt's time, HTTP status and error kind. Empty when the poll has no " +
      "callbackUrl or has not completed or expired yet.",
    security: READ_TOKEN_SECURITY,
    request: { params: z.object({ id: z.string() }), headers: ReadTokenHeaders },
    responses: {
      200: { description: "The deliveries, oldest first", content: { "application/json": { schema: WebhookDeliveries } } },
      ...READ_AUTH_ERROR_RESPONSES,
      404: { description: "Poll not found or not settled", content: { "application/json": { schema: ErrorResponse } } },
      503: { description: "Read tokens not configured", content: { "application/json": { schema: ErrorResponse } } },
    },
  });

const webhookHeaders = z.object({
  [EVENT_HEADER.toLowerCase()]: z.enum(["poll.completed", "poll.expired"]),
  [DELIVERY_HEADER.toLowerCase()]: z.string().openapi({ description: "Delivery id (UUID), the same on every retry: de-duplicate by it." }),
  [SIGNATURE_HEADER.toLowerCase()]: z
    .string()
    .optional()
    .openapi({ description: 'When QUALI_CALLBACK_SECRET is set: "sha256=" + hex HMAC-SHA256(secret, deliveryId + "." + rawBody).' }),
  [TIMESTAMP_HEADER.toLowerCase()]: z.string().openapi({ description: "Unix seconds of this attempt." }),
  [POLL_SIGNATURE_HEADER.toLowerCase()]: z.string().openapi({
    description:
      '"t=<unix>,v1=<hex>": HMAC-SHA256 with the poll\'s callbackSecret (from the 201) over t + "." + deliveryId + "." + rawBody.',
  }),
});

function toDelivery(row: WebhookDeliveryRow, attempts: readonly WebhookAttemptRow[]): z.infer<typeof WebhookDelivery> {
  return {
    id: row.id,
    event: row.event,
    state: row.state,
    attempts: row.attempts,
    maxAttempts: MAX_ATTEMPTS,
    nextAttemptAt: row.next_attempt_at,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    history: attempts.map((a) => ({ attempt: a.attempt, at: a.started_at, status: a.status, error: a.error, durationMs: a.duration_ms })),
  };
}

export interface DeliveriesDeps extends ReadAuthDeps {
  guards: RouteGuards;
}

export function deliveriesRoutes(deps: DeliveriesDeps): OpenAPIHono<AppEnv> {
  const router = createRouter();
  router.openapi(deliveriesRoute(deps.guards), async (c) => {
    const { id } = c.req.valid("param");
    await pollForReader(c, deps, id);
    const { db } = deps.store;
    const rows = await db.selectFrom("webhook_deliveries").selectAll().where("poll_id", "=", id).orderBy("created_at").orderBy("id").execute();
    const attempts =
      rows.length === 0
        ? []
        : await db
            .selectFrom("webhook_attempts")
            .selectAll()
            .where(
              "delivery_id",
              "in",
              rows.map((r) => r.id),
            )
            .orderBy("delivery_id")
            .orderBy("attempt")
            .execute();
    return c.json({ pollId: id, deliveries: rows.map((row) => toDelivery(row, attempts.filter((a) => a.delivery_id === row.id))) }, 200);
  });
  return router;
}

/**
 * Documents the webhook itself (the OpenAPI `webhooks` section) in the app's document. Registered on the
 * app, not on a router: a mounted router's webhooks would be renamed as paths ("/poll.completed").
 */
export function documentWebhooks(registry: OpenAPIHono["openAPIRegistry"]): void {
  for (const event of ["poll.completed", "poll.expired"] as const) {
    registry.registerWebhook({
      method: "post",
      path: event,
      summary: event === "poll.completed" ? "The poll reached maxResponses" : "The poll expired before reaching maxResponses",
      description:
        "Sent to the poll's callbackUrl. Answer 2xx to acknowledge. Retried with the same delivery id and body on " +
        "network errors, timeouts (10 s), 408, 429 (Retry-After honoured) and 5xx after about 1 min, 5 min, 15 min, " +
        "1 h and 3 h, then given up; 3xx (redirects are not followed) and other 4xx are not retried.",
      request: { headers: webhookHeaders, body: { content: { "application/json": { schema: WebhookBody } }, required: true } },
      responses: { 200: { description: "Acknowledged (any 2xx)" } },
    });
  }
}
