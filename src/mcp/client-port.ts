// The typed client (src/client) seen through the tools' port: one client for reading, and one paid
// creation per call whose beforePayment belongs to that call (concurrent creations never share a reservation).
import { createQualiClient, PaymentPendingError, QualiApiError, QualiClientError, SpendLimitError, USDC_ASSETS, type Poll } from "../client/index";
import type { McpConfig } from "./config";
import type { ClassifiedError, PollView, QualiPort } from "./quali-port";

/** The chain id anvil and the service's local mode use. */
export const LOCAL_DEVNET_NETWORK = "eip155:31337";

/** A service on this machine: the only one whose own test asset on the local devnet may be paid. */
export function isLoopback(baseUrl: string): boolean {
  const host = new URL(baseUrl).hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Circle's USDC where the service runs on public chains; on a loopback service also the devnet's test USDC. */
export function mayPayWith(baseUrl: string, network: string, asset: string): boolean {
  if (USDC_ASSETS.some((usdc) => usdc.network === network && usdc.asset.toLowerCase() === asset.toLowerCase())) return true;
  return network === LOCAL_DEVNET_NETWORK && isLoopback(baseUrl);
}

class AssetRefused extends Error {
  override name = "AssetRefused";
}

const pollView = (poll: Poll): PollView => ({
  id: poll.id,
  url: poll.url,
  status: poll.status,
  question: poll.question,
  maxResponses: poll.maxResponses,
  voteCount: poll.voteCount,
  network: poll.network,
  expiresAt: poll.expiresAt,
  createdAt: poll.createdAt,
  completedAt: poll.completedAt,
});

export function clientPort(config: McpConfig): QualiPort {
  const client = createQualiClient({
    baseUrl: config.baseUrl,
    ...(config.account ? { account: config.account } : {}),
    maxAmountAtomicPerPoll: config.maxAtomicPerPoll,
    // The devnet's asset is not Circle's USDC: judged by mayPayWith before anything is signed.
    ...(isLoopback(config.baseUrl) ? { allowedAssets: "any" as const } : {}),
  });

  return {
    async quote(maxResponses, network) {
      const quote = await client.quote({ maxResponses, ...(network ? { network } : {}) });
      return {
        maxResponses: quote.maxResponses,
        costAtomic: BigInt(quote.costAtomic),
        accepts: quote.paymentRequired.accepts.map((a) => ({ network: a.network, asset: a.asset, amountAtomic: BigInt(a.amount), payTo: a.payTo })),
      };
    },
    async createPoll(body, network, beforePayment) {
      const { poll, payment } = await client.createPoll(body, {
        ...(network ? { network } : {}),
        beforePayment: async (proposal) => {
          if (!mayPayWith(config.baseUrl, proposal.network, proposal.asset)) {
            throw new AssetRefused(
              `the service asks for asset ${proposal.asset} on ${proposal.network}, which is not USDC; nothing was signed and no money moved`,
            );
          }
          await beforePayment(proposal);
        },
      });
      return {
        pollId: poll.id,
        url: poll.url,
        readToken: poll.readToken,
        callbackSecret: poll.callbackSecret,
        payment: { network: payment.network, txHash: payment.txHash, amountAtomic: payment.amountAtomic, payer: payment.payer },
      };
    },
    async getPoll(pollId) {
      return pollView(await client.getPoll(pollId));
    },
    async getResults(pollId, readToken) {
      return client.getResults(pollId, { readToken });
    },
    async listPolls(payer, cursor) {
      const page = await client.listPolls({ payer, ...(cursor ? { cursor } : {}), limit: 100 });
      return { polls: page.polls.map(pollView), nextCursor: page.nextCursor };
    },
    async waitForCompletion(pollId, readToken, wait) {
      const outcome = await client.waitForCompletion(pollId, { readToken }, {
        timeoutMs: wait.timeoutMs,
        ...(wait.untilVotes !== undefined ? { untilVotes: wait.untilVotes } : {}),
        signal: wait.signal,
        onProgress: (p) => wait.onProgress({ voteCount: p.voteCount, maxResponses: p.maxResponses }),
      });
      return { outcome: outcome.outcome, status: outcome.status, voteCount: outcome.voteCount, maxResponses: outcome.maxResponses };
    },
    async recoverReadToken(pollId) {
      return (await client.recoverReadToken(pollId)).readToken;
    },
    classify(error): ClassifiedError {
      if (error instanceof QualiApiError) {
        return { kind: "service", status: error.status, code: error.code, message: error.message, param: error.param };
      }
      if (error instanceof SpendLimitError) return { kind: "spend_limit", message: error.message, amountAtomic: error.amountAtomic };
      if (error instanceof PaymentPendingError) return { kind: "pending", message: error.message, pollId: error.pending.pollId };
      if (error instanceof QualiClientError) return { kind: "other", message: `${error.message} (${error.code})` };
      return { kind: "other", message: error instanceof Error ? error.message : String(error) };
    },
  };
}
