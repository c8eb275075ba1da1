// The wire types of the API, inferred from the zod schemas the server itself validates and documents
// with (type-only imports: the client bundle carries no zod). test/client-types-match-served-openapi.test.ts
// checks these schemas against the served openapi.json.
import type { z } from "zod";
import type { ErrorResponse, PaymentRequiredResponse, PaymentRequirementsShape } from "../http/openapi-shapes";
import type { QuoteResponse } from "../payment/quote-schema";
import type { ProgressEventData, TerminalEventData } from "../polls/progress-stream";
import type { CreatePollBody, CreatePollResponse } from "../polls/schema";
import type {
  PaymentPendingResponse,
  PollList,
  PollResults,
  PollVote,
  PollVotesPage,
  PublicPoll,
  RecoveryResponse,
} from "../polls/wire";

/** The body of POST /api/v1/polls, as the caller writes it (optional fields may be left out). */
export type CreatePollInput = z.input<typeof CreatePollBody>;
/** The 201 of POST /api/v1/polls: the poll's id, url, read token, payment and pricing. */
export type CreatedPoll = z.infer<typeof CreatePollResponse>;
/** The 202 of POST /api/v1/polls: paid, not yet confirmed on chain. */
export type PaymentPending = z.infer<typeof PaymentPendingResponse>;
export type Quote = z.infer<typeof QuoteResponse>;
export type PaymentRequired = z.infer<typeof PaymentRequiredResponse>;
export type PaymentRequirements = z.infer<typeof PaymentRequirementsShape>;
export type Poll = z.infer<typeof PublicPoll>;
export type PollPage = z.infer<typeof PollList>;
export type Results = z.infer<typeof PollResults>;
export type Vote = z.infer<typeof PollVote>;
export type VotesPage = z.infer<typeof PollVotesPage>;
export type ReadTokenRecovery = z.infer<typeof RecoveryResponse>;
export type ErrorEnvelope = z.infer<typeof ErrorResponse>;
export type ProgressEvent = z.infer<typeof ProgressEventData>;
export type TerminalEvent = z.infer<typeof TerminalEventData>;
