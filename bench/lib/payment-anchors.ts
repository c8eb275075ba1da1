// The anchors of the 402 and quote scenarios, started next to the running service: the same-bytes server
// (replaying the service's captured answers) and the stock @x402/hono middleware configured for this job.
// Before anything is measured, each is checked to answer what it claims: the same-bytes server exactly
// the service's bytes, the stock middleware the same challenge (its PAYMENT-REQUIRED decodes to the
// service's PaymentRequired, and its quote to the service's quote).
import { decodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { answerBytes, captureAnswer, differences, type AnchorRequest, type CapturedAnswer } from "./anchors";
import { startChild, type Child } from "./processes";
import type { StockServerInput } from "../stock-x402-server";

export interface PaymentAnchorChecks {
  /** What differs between the same-bytes server's answer and the service's ([] = the same bytes). */
  sameBytes: { challenge: string[]; quote: string[] };
  /** The stock middleware's challenge (decoded PAYMENT-REQUIRED) is the service's, and so is its quote. */
  stock: { sameChallenge: boolean; sameQuote: boolean; challengeStatus: number; quoteStatus: number };
  /** Bytes on the wire (own headers, body) of each answer. */
  bytes: Record<"service402" | "stock402" | "serviceQuote" | "stockQuote", { headerBytes: number; bodyBytes: number }>;
}

export interface PaymentAnchors {
  sameBytes: Child<{ type: "ready"; url: string; pid: number }>;
  stock: Child<{ type: "ready"; url: string; pid: number }>;
  captured: { challenge: CapturedAnswer; quote: CapturedAnswer };
  checks: PaymentAnchorChecks;
  /** True when both anchors answer what they claim. */
  ok: boolean;
  stop(): Promise<void>;
}

const headerOf = (answer: CapturedAnswer, name: string) => Object.entries(answer.headers).find(([n]) => n.toLowerCase() === name)?.[1];

export async function startPaymentAnchors(input: {
  serviceUrl: string;
  facilitatorUrl: string;
  bazaar: StockServerInput["bazaar"];
  requests: { challenge: AnchorRequest; quote: AnchorRequest };
  bundles: { sameBytes: string; stock: string };
  logFiles: { sameBytes: string; stock: string };
}): Promise<PaymentAnchors> {
  const { requests } = input;
  const challenge = await captureAnswer(input.serviceUrl, requests.challenge);
  const quote = await captureAnswer(input.serviceUrl, requests.quote);
  if (challenge.status !== 402) throw new Error(`the service answered the unpaid POST with ${challenge.status}, not 402`);
  if (quote.status !== 200) throw new Error(`the service answered the quote with ${quote.status}, not 200`);

  const sameBytes = await startChild<{ type: "ready"; url: string; pid: number }>(input.bundles.sameBytes, [JSON.stringify({ answers: [challenge, quote] })], input.logFiles.sameBytes);
  const stockInput: StockServerInput = {
    facilitatorUrl: input.facilitatorUrl,
    serviceChallenge: JSON.parse(challenge.body) as PaymentRequired,
    bazaar: input.bazaar,
  };
  let stock: Child<{ type: "ready"; url: string; pid: number }>;
  try {
    stock = await startChild(input.bundles.stock, [JSON.stringify(stockInput)], input.logFiles.stock);
  } catch (error) {
    await sameBytes.stop();
    throw error;
  }

  const replayedChallenge = await captureAnswer(sameBytes.ready.url, requests.challenge);
  const replayedQuote = await captureAnswer(sameBytes.ready.url, requests.quote);
  const stockChallenge = await captureAnswer(stock.ready.url, requests.challenge);
  const stockQuote = await captureAnswer(stock.ready.url, requests.quote);

  const serviceHeader = headerOf(challenge, "payment-required");
  const stockHeader = headerOf(stockChallenge, "payment-required");
  const sameChallenge =
    stockChallenge.status === 402 &&
    serviceHeader !== undefined &&
    stockHeader !== undefined &&
    JSON.stringify(decodePaymentRequiredHeader(stockHeader)) === JSON.stringify(decodePaymentRequiredHeader(serviceHeader));
  let sameQuote = false;
  try {
    sameQuote = stockQuote.status === 200 && JSON.stringify(JSON.parse(stockQuote.body)) === JSON.stringify(JSON.parse(quote.body));
  } catch {
    sameQuote = false;
  }
  const checks: PaymentAnchorChecks = {
    sameBytes: { challenge: differences(challenge, replayedChallenge), quote: differences(quote, replayedQuote) },
    stock: { sameChallenge, sameQuote, challengeStatus: stockChallenge.status, quoteStatus: stockQuote.status },
    bytes: {
      service402: answerBytes(challenge),
      stock402: answerBytes(stockChallenge),
      serviceQuote: answerBytes(quote),
      stockQuote: answerBytes(stockQuote),
    },
  };
  return {
    sameBytes,
    stock,
    captured: { challenge, quote },
    checks,
    ok: checks.sameBytes.challenge.length === 0 && checks.sameBytes.quote.length === 0 && sameChallenge && sameQuote,
    async stop() {
      await Promise.all([sameBytes.stop(), stock.stop()]);
    },
  };
}
