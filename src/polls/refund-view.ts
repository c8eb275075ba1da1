// The refund a poll shows (GET /api/v1/polls/{id} and /results): its shape here, its facts from the
// payouts feature, which sends refunds and is above polls — so the read routes receive a RefundLookup
// from the composition root (src/compose.ts) instead of importing it.
import type { z } from "@hono/zod-openapi";
import type { PollRow, PollStatus } from "../db/schema";
import type { PollRefund } from "./wire";

export type PollRefundShape = z.infer<typeof PollRefund>;

/** The poll's refund, or undefined when none is owed (`status`: as the API shows it). */
export type RefundLookup = (
  poll: Pick<PollRow, "id" | "refund_policy" | "max_responses" | "vote_count">,
  status: PollStatus,
) => Promise<PollRefundShape | undefined>;
