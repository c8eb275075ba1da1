// Response shapes of the poll API besides creation's (payment pending, poll, list, results, votes, read-token
// recovery): the wire contract declared once, for the routes, openapi.json and the typed client (src/client).
// A leaf: it imports no database or server code, so a browser bundle of the client can use it.
import { z } from "@hono/zod-openapi";
import { AGE_BANDS, VoteDemographics } from "./demographics";
import { STORED_EXPIRY_DESCRIPTION } from "./expiry";

export const PublicPoll = z
  .object({
    id: z.string().uuid(),
    url: z.string(),
    status: z.enum(["active", "completed", "expired"]),
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
    status: z.enum(["active", "completed", "expired"]),
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
