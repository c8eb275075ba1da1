// Answers the app may let the Node edge send again without running it (src/http/replay-edge.ts): the
// 402 probe and the quote, which crawlers and agents ask over and over, are pure functions of the
// request line, a few headers and the body. A route that knows its answer is such a function says so
// with offerReplay(); respond() attaches the offer to the response it builds, and the edge keeps it.
//
// What the edge adds on each replay is what differs per request anyway: the request id and the access
// log line. Anything else per request rules the offer out: an answer that a rate limit counted (it
// carries X-RateLimit-* headers) is never offered, so a replay cannot dodge a limit.
import type { Context } from "hono";
import type { AppEnv } from "./app-env";

export interface ReplayTerms {
  /** Request headers (lower case) the answer depends on; absent counts as a value. */
  vary: readonly string[];
  /** The answer holds until then (epoch ms); later, the app answers again. */
  untilMs?: number;
}

export interface ReplayOffer extends ReplayTerms {
  status: number;
  /** Every header the app sent (lower-case names), its request id included: the edge replaces that value. */
  headers: Readonly<Record<string, string>>;
  body: string;
}

const OFFER: unique symbol = Symbol("quali.replayOffer");
type OfferedResponse = Response & { [OFFER]?: ReplayOffer };

/** This request's answer is a function of the request line, `terms.vary` and the body (until `untilMs`). */
export function offerReplay(c: Context<AppEnv>, terms: ReplayTerms): void {
  // Undefined when no edge middleware ran (a router mounted on its own, in a test): nothing to offer.
  const bag: { replay?: ReplayTerms } | undefined = c.get("responseHeaders");
  if (bag) bag.replay = terms;
}

/** Used by respond(): the offer travels on the response itself, so a middleware that replaces it drops it. */
export function attachReplayOffer(response: Response, offer: ReplayOffer): void {
  (response as OfferedResponse)[OFFER] = offer;
}

export function replayOfferOf(response: Response): ReplayOffer | undefined {
  return (response as OfferedResponse)[OFFER];
}
