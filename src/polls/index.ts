// The polls feature: creating a paid poll, its lifecycle, and the agent's read side (poll, list, results,
// votes, read tokens), plus what a paid claim does to its poll. Used by others through this file only.
export { AGE_BANDS, DemographicsInput, ISO_COUNTRY_CODES, VoteDemographics, type AgeBand } from "./demographics";
export { PublicPoll, toPublicPoll } from "./read";
export { type CrashPoint } from "./create";
export { type CallbackSecretSource } from "./created-body";
export {
  DAY_MS,
  DEFAULT_MAX_EXPIRY_DAYS,
  DEFAULT_MAX_EXPIRY_LEAD_MS,
  EXPIRES_AT_DESCRIPTION,
  exampleExpiresAt,
  expiryWindowText,
  MIN_EXPIRY_LEAD_MS,
} from "./expiry";
export {
  effectiveStatus,
  expireDuePolls,
  FINAL_STATUSES,
  isFinalStatus,
  madeTransition,
  transitionStatements,
  VISIBLE_STATUSES,
  visibleStatus,
  type ClosedStatus,
  type VisibleStatus,
  type Transition,
  type TransitionContext,
  type TransitionListener,
} from "./lifecycle";
export { DEFAULT_EVENT_STREAM_SETTINGS, type EventStreamSettings } from "./events";
export { POLLS_PATH } from "./paths";
export { type PollRefundShape, type RefundLookup } from "./refund-view";
export { PollRefund, RefundPolicyField } from "./wire";
export { ProgressEventData, TerminalEventData } from "./progress-stream";
export { reconcilePendingPayments, type ClaimOutcome, type ReconcileDeps } from "./payment-claims";
export { pollForReader, READ_AUTH_ERROR_RESPONSES, READ_TOKEN_HEADERS_DESCRIPTION, ReadTokenHeaders, type ReadAuthDeps } from "./read-auth";
export { createReadTokens, type ReadTokens } from "./read-token";
export { pruneSignInNonces, SIGN_IN_HEADER } from "./wallet-sign-in";
export { readTokenRecoveryMessage } from "./read-token-recovery";
export { findOptions, findOptionsOfPolls, findPoll, groupOptionsByPoll, insertOptions, insertPoll } from "./repo";
export { pollsRoutes, type PollsDeps } from "./routes";
export { CreatePollBody, CreatePollResponse, EXAMPLE_MAX_RESPONSES, exampleCreatePollBody, MAX_RESPONSES, MIN_RESPONSES, type CreatePollInput } from "./schema";
