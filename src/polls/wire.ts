// Response shapes of the poll API besides creation's (payment pending, poll, list, results, votes, read-token
// recovery): the wire contract declared once, for the routes, openapi.json and the typed client (src/client).
// A leaf: it imports no database or server code, so a browser bundle of the client can use it.
import { z } from "@hono/zod-openapi";
import { AGE_BANDS, VoteDemographics } from "./demographics";
import { formatUsdc, PRICE_PER_RESPONSE_ATOMIC } from "../payment/pricing";
import { STORED_EXPIRY_DESCRIPTION } from "./expiry";

/** The statuses the API shows for a settled poll (pending and failed polls do not exist outside). */
export const VISIBLE_STATUSES = ["active", "completed", "expired", "closed", "removed"] as const;
export type VisibleStatus = (typeof VISIBLE_STATUSES)[number];

const PER_RESPONSE = `${PRICE_PER_RESPONSE_ATOMIC} atomic USDC (${formatUsdc(PRICE_PER_RESPONSE_ATOMIC)} USDC)`;

export const PollRefund = z
  .object({
    status: z.enum(["pending", "sent", "confirmed", "parked"]).openapi({
      description:
        "Present when the poll ended (expired, closed, removed) without filling up and was created under the refund policy " +
        "'unfilled': the unfilled responses go back to the address that paid, on the network it paid on, once. " +
        "pending: owed and queued (or waiting for the payout wallet to be funded); sent: broadcast, waiting for its block; " +
        "confirmed: the USDC is back in the paying wallet (txHash); parked: the USDC token refuses transfers to that address " +
        "(the operator retries it once the cause is gone).",
    }),
    amountAtomic: z.string().openapi({ description: `(maxResponses − voteCount) × ${PER_RESPONSE}, the price of each unfilled response.`, example: "485000" }),
    amountUsdc: z.number().openapi({ example: 0.485 }),
    txHash: z.string().nullable().openapi({ description: "The refund's transaction once signed (it never changes afterwards)." }),
  })
  .openapi("PollRefund");

export const RefundPolicyField = z.enum(["unfilled", "none"]).openapi({
  description:
    `The refund policy this poll was created under (it never changes): 'unfilled' refunds (maxResponses − voteCount) × ${PER_RESPONSE} ` +
    "to the paying address when the poll ends without filling up; 'none' refunds nothing.",
});

export const PublicPoll = z
  .object({
    id: z.string().uuid(),
    url: z.string(),
    status: z.enum(VISIBLE_STATUSES),
    question: z.string(),
    description: z.string().nullable(),
    moreInfoUrl: z.string().nullable(),
    mediaUrl: z.string().nullable(),
    mediaType: z.string().nullable(),
    layoutType: z.enum(["list", "grid"]),
    options: z.array(z.object({ id: z.string(), text: z.string(), mediaUrl: z.string().nullable() })),
    maxResponses: z.number().int(),
    voteCount: z.number().int(),
    network: z.string(),
    expiresAt: z.string().openapi({ description: STORED_EXPIRY_DESCRIPTION }),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    publicResults: z.boolean().openapi({ description: "Whether the aggregate results are public (no read token needed)." }),
    refundPolicy: RefundPolicyField,
    refund: PollRefund.optional(),
  })
  .openapi("Poll");

export const PollList = z.object({ polls: z.array(PublicPoll), nextCursor: z.string().nullable() }).openapi("PollList");

export const DemographicBucket = z
  .object({
    value: z.string().openapi({ example: "DE" }),
    count: z.number().int(),
    options: z.array(z.object({ id: z.string(), count: z.number().int() })),
  })
  .openapi("DemographicBucket");

export const PollResults = z
  .object({
    pollId: z.string(),
    status: z.enum(VISIBLE_STATUSES),
    voteCount: z.number().int(),
    maxResponses: z.number().int(),
    completedAt: z.string().nullable(),
    options: z.array(
      z.object({
        id: z.string(),
        text: z.string(),
        count: z.number().int(),
        share: z.number().openapi({ description: "count / voteCount (0 when there are no votes), 4 decimals." }),
        ci95: z.tuple([z.number(), z.number()]).openapi({ description: "95% Wilson score interval of the share, 4 decimals." }),
      }),
    ),
    demographics: z
      .object({
        country: z.array(DemographicBucket).openapi({ description: "Per stated country (ISO 3166-1 alpha-2), most votes first." }),
        ageBand: z.array(DemographicBucket).openapi({ description: `Per stated age band, in the order ${AGE_BANDS.join(", ")}.` }),
        notStated: z.object({ country: z.number().int(), ageBand: z.number().int() }),
      })
      .openapi({ description: "Optional, anonymised voter demographics, broken down per option." }),
    refund: PollRefund.optional(),
  })
  .openapi("PollResults");

export const PollVote = z
  .object({
    id: z.string().openapi({ description: "Opaque and stable; not the id the voter was given." }),
    optionId: z.string(),
    optionText: z.string(),
    createdAt: z.string().openapi({
      description:
        "The minute the vote was recorded in, plus the vote's rank in the list within that minute as milliseconds " +
        "(not a time: votes of a minute come in a random order). Unique and increasing along the list: pass the last one " +
        "as cursor to page on.",
      example: "2026-11-23T10:04:00.002Z",
    }),
    shownOrder: z.array(z.string()).nullable().openapi({ description: "Option ids in the order the voter saw them, when known." }),
    shownPosition: z.number().int().nullable().openapi({ description: "0-based position of the chosen option in shownOrder." }),
    demographics: VoteDemographics,
  })
  .openapi("PollVote");

export const PollVotesPage = z
  .object({ votes: z.array(PollVote), nextCursor: z.string().nullable() })
  .openapi("PollVotesPage");


export const RecoveryBody = z
  .strictObject({
    message: z.string().max(500).openapi({
      example: "Quali read token recovery\nPoll: 3f0c…\nTimestamp: 2026-11-23T10:00:00.000Z",
      description: "Exactly three lines: 'Quali read token recovery', 'Poll: <id>', 'Timestamp: <ISO instant within 10 minutes>'.",
    }),
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x-hex signature").openapi({ example: "0x…" }),
  })
  .openapi("ReadTokenRecoveryRequest");

export const RecoveryResponse = z.object({ pollId: z.string(), readToken: z.string() }).openapi("ReadTokenRecovery");

export const PaymentPendingResponse = z
  .object({
    pollId: z.string().uuid(),
    status: z.literal("payment_pending"),
    message: z.string(),
    retryAfterSeconds: z.number().int(),
    payment: z.object({
      network: z.string(),
      networkLabel: z.string(),
      txHash: z.string().nullable().openapi({ description: "The transaction the facilitator reported, if any (not yet confirmed)." }),
      payer: z.string(),
      amountUsdc: z.number(),
      amountAtomic: z.string(),
    }),
  })
  .openapi("PaymentPending");
