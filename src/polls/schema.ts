// Request and response shapes of the poll API (the wire contract), shared by the routes, the
// OpenAPI document and the bazaar declaration, so the three can never drift apart.
import { z } from "@hono/zod-openapi";
import {
  EXPIRES_AT_DESCRIPTION,
  EXPIRES_AT_FORMAT_MESSAGE,
  EXPIRES_AT_PATTERN,
  EXPIRES_AT_YEAR_MESSAGE,
  exampleExpiresAt,
  hasExpiryShape,
} from "./expiry";

export { MIN_EXPIRY_LEAD_MS } from "./expiry";
export const MIN_RESPONSES = 100;
export const MAX_RESPONSES = 1_000_000;

const httpsUrl = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((value) => {
      if (!URL.canParse(value)) return false;
      const url = new URL(value);
      return url.protocol === "https:" && url.hostname !== "" && url.username === "" && url.password === "";
    }, "must be an absolute https URL without credentials");

const nonBlank = (max: number) =>
  z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`);

export const PollOptionInput = z
  .strictObject({
    text: nonBlank(120),
    mediaUrl: httpsUrl(2048).nullish(),
  })
  .openapi("PollOptionInput");

export const CreatePollBody = z
  .strictObject({
    question: nonBlank(200).openapi({ example: "Which name is clearer?" }),
    description: z.string().trim().max(1000, "must be at most 1000 characters").nullish(),
    moreInfoUrl: httpsUrl(500).nullish(),
    options: z
      .array(PollOptionInput)
      .min(2, "must have at least 2 options")
      .max(10, "must have at most 10 options"),
    maxResponses: z
      .number()
      .int("must be an integer")
      .min(MIN_RESPONSES, `must be at least ${MIN_RESPONSES}`)
      .max(MAX_RESPONSES, `must be at most ${MAX_RESPONSES}`),
    // The structural half of the expiry rule (src/polls/expiry.ts); the route checks the time window.
    // meta(), not openapi(): the bazaar declaration (z.toJSONSchema) carries it too, and its pattern
    // replaces zod's 350-character one in both documents. A refine, unlike regex(), keeps format.
    expiresAt: z.iso
      .datetime({ offset: true, message: EXPIRES_AT_FORMAT_MESSAGE })
      .refine(hasExpiryShape, EXPIRES_AT_YEAR_MESSAGE)
      .meta({ description: EXPIRES_AT_DESCRIPTION, pattern: EXPIRES_AT_PATTERN }),
    mediaUrl: httpsUrl(2048).nullish(),
    mediaType: z.enum(["image"]).nullish(),
    layoutType: z.enum(["list", "grid"]).nullish(),
    callbackUrl: z
      .string()
      .max(2048, "must be at most 2048 characters")
      .nullish()
      .openapi({ description: "HTTPS URL that receives the signed poll.completed webhook." }),
    publicResults: z.boolean().optional().openapi({
      description:
        "Beyond the Quali contract. true: anyone may read the aggregate results (GET /api/v1/polls/{id}/results and the " +
        "results page) without the read token; the votes stay token-only. Default false: results are private.",
      example: false,
    }),
  })
  .refine((body) => !(body.mediaType && !body.mediaUrl), {
    message: "mediaType needs a mediaUrl",
    path: ["mediaType"],
  })
  .openapi("CreatePollRequest");

export type CreatePollInput = z.infer<typeof CreatePollBody>;

export const EXAMPLE_MAX_RESPONSES = 100;

/**
 * The crawler-safe example advertised in the bazaar declaration (402 and quote). A fixed date would
 * fall outside the expiry window, so expiresAt is relative to the current UTC day (exampleExpiresAt).
 */
export function exampleCreatePollBody(nowMs: number, maxExpiryLeadMs: number) {
  return {
    question: "Which logo should our note-taking app use?",
    description: "Pick the logo that feels more trustworthy, memorable, and useful for a note-taking app.",
    options: [{ text: "Logo A" }, { text: "Logo B" }],
    maxResponses: EXAMPLE_MAX_RESPONSES,
    expiresAt: exampleExpiresAt(nowMs, maxExpiryLeadMs),
  };
}

export const PaymentInfo = z
  .object({
    network: z.string().openapi({ example: "eip155:480" }),
    networkLabel: z.string().openapi({ example: "World Chain" }),
    txHash: z.string().openapi({ example: "0x…" }),
    payer: z.string(),
    amountUsdc: z.number(),
    amountAtomic: z.string().openapi({ example: "500000" }),
  })
  .openapi("PaymentInfo");

export const CreatePollResponse = z
  .object({
    id: z.string().uuid(),
    url: z.string(),
    readToken: z.string().uuid(),
    payment: PaymentInfo,
    pricing: z.object({
      maxResponses: z.number().int(),
      rewardPoolUsdc: z.number(),
      qualiFeeUsdc: z.number(),
      costUsdc: z.number(),
    }),
    endpoints: z.object({ poll: z.string(), results: z.string(), votes: z.string() }),
    callbackSecret: z.string().optional().openapi({
      description:
        "Only when callbackUrl was set (beyond the Quali contract): the poll's webhook secret (whsec_…). Each " +
        'delivery carries X-Quali-Poll-Signature: t=<unix>,v1=<hex HMAC-SHA256(callbackSecret, t + "." + deliveryId + "." + rawBody)>. ' +
        "Store it like the read token.",
      example: "whsec_3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    }),
  })
  .openapi("CreatePollResponse");
