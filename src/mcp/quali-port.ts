// What the tools need from the service, in the tools' own terms. main.ts adapts the typed client
// (src/client) to it; the tools never see a read token they did not load from the token store.

export interface QuoteView {
  maxResponses: number;
  costAtomic: bigint;
  /** The x402 options the service offers, in its order (the first is what a payer takes by default). */
  accepts: { network: string; asset: string; amountAtomic: bigint; payTo: string }[];
}

export interface PaymentRequest {
  amountAtomic: bigint;
  network: string;
  payTo: string;
  asset: string;
}

/** The body of POST /api/v1/polls as the tools build it. */
export interface PollBody {
  question: string;
  options: { text: string; mediaUrl?: string }[];
  maxResponses: number;
  expiresAt: string;
  description?: string;
  mediaUrl?: string;
  mediaType?: "image";
  layoutType?: "list" | "grid";
  callbackUrl?: string;
  publicResults?: boolean;
}

export interface CreatedView {
  pollId: string;
  url: string;
  readToken: string;
  callbackSecret: string | undefined;
  payment: { network: string; txHash: string; amountAtomic: bigint; payer: string };
}

export interface PollView {
  id: string;
  url: string;
  status: string;
  question: string;
  maxResponses: number;
  voteCount: number;
  network: string;
  expiresAt: string;
  createdAt: string;
  completedAt: string | null;
}

export interface ResultsView {
  pollId: string;
  status: string;
  voteCount: number;
  maxResponses: number;
  completedAt: string | null;
  options: { id: string; text: string; count: number; share: number; ci95: [number, number] }[];
  demographics: unknown;
}

export type WaitOutcome = "completed" | "expired" | "closed" | "removed" | "target_reached" | "timeout";

export interface WaitView {
  outcome: WaitOutcome;
  status: string;
  voteCount: number;
  maxResponses: number;
}

export interface ProgressView {
  voteCount: number;
  maxResponses: number;
}

export interface QualiPort {
  quote(maxResponses: number, network: string | undefined): Promise<QuoteView>;
  /** Pays with the configured wallet; `beforePayment` runs before any signature and throws to refuse. */
  createPoll(
    body: PollBody,
    network: string | undefined,
    beforePayment: (payment: PaymentRequest) => Promise<void>,
  ): Promise<CreatedView>;
  getPoll(pollId: string): Promise<PollView>;
  getResults(pollId: string, readToken: string): Promise<ResultsView>;
  listPolls(payer: string, cursor: string | undefined): Promise<{ polls: PollView[]; nextCursor: string | null }>;
  waitForCompletion(
    pollId: string,
    readToken: string,
    options: { timeoutMs: number; untilVotes: number | undefined; signal: AbortSignal; onProgress: (progress: ProgressView) => void },
  ): Promise<WaitView>;
  /** Gets the read token again by signing with the payer's wallet (no money). */
  recoverReadToken(pollId: string): Promise<string>;
  /** What went wrong, in the tools' terms. */
  classify(error: unknown): ClassifiedError;
}

export type ClassifiedError =
  /** The service answered with its error envelope (or a 402). */
  | { kind: "service"; status: number; code: string; message: string; param: string | undefined }
  /** The client's own per-payment cap refused before signing. */
  | { kind: "spend_limit"; message: string; amountAtomic: bigint | undefined }
  /** Paid, and the chain had not confirmed it when the client stopped waiting: the money may still move. */
  | { kind: "pending"; message: string; pollId: string }
  | { kind: "other"; message: string };
