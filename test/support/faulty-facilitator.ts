// A facilitator that misbehaves the way real ones do, for tests: a small HTTP proxy in front of the
// official facilitator (src/devnet/facilitator.ts, served over HTTP) that forwards GET /supported and
// POST /verify unchanged and answers POST /settle according to the current fault. The interesting
// faults happen AFTER the transfer was broadcast and mined, so the caller cannot know from the HTTP
// answer whether money moved; only the chain can say.
//
// Also: startServiceBehindFaultyFacilitator, the real service (local mode) paying through the proxy.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { SettleResponse } from "@x402/core/types";
import { publicClientFor } from "../../src/devnet/chain";
import { startDevnet, type Devnet } from "../../src/devnet/devnet";
import { serveFacilitatorOverHttp, type FacilitatorHttpServer } from "../../src/devnet/facilitator";
import type { StartOptions } from "../../src/server";
import { startLocalService, type LocalService } from "./harness";

export type SettleFault =
  /** Forward; return upstream's answer unchanged. */
  | "pass"
  /** Forward once per payload (broadcast + mined), then answer 200 settlement_pending with the tx hash, every time. */
  | "pending_after_broadcast"
  /** Forward (broadcast + mined), then answer 504 text/html like an nginx gateway. */
  | "html_504_after_broadcast"
  /** Forward (broadcast + mined), then destroy the socket without a response. */
  | "drop_after_broadcast"
  /** Don't forward; never answer until releaseHung() or close(). Nothing is broadcast. */
  | "hang_before_broadcast"
  /** Don't forward; answer 200 success:false invalid_exact_evm_signature, as the official facilitator does. */
  | "reject_invalid_before_broadcast"
  /**
   * Don't forward; answer 200 success:true with a transaction that is not this payment's: the last real
   * settlement it saw (a genuine transfer to payTo, from another payer), or a made-up hash before any.
   */
  | "lie_success_without_broadcast";

export const SETTLE_FAULTS: readonly SettleFault[] = [
  "pass",
  "pending_after_broadcast",
  "html_504_after_broadcast",
  "drop_after_broadcast",
  "hang_before_broadcast",
  "reject_invalid_before_broadcast",
  "lie_success_without_broadcast",
];

export interface FaultyFacilitator {
  /** Base URL for HTTPFacilitatorClient / X402_FACILITATOR_URL. */
  url: string;
  /** Applies to settle calls that arrive from now on. */
  setFault(fault: SettleFault): void;
  /** Requests received per endpoint (including ones answered with a fault). */
  calls: { supported: number; verify: number; settle: number };
  /** Transaction hashes upstream returned from /settle (one per broadcast), in order. */
  broadcasts: string[];
  /** Destroys the sockets of held (hung) settle requests. */
  releaseHung(): void;
  close(): Promise<void>;
}

/** An nginx-style gateway timeout page: what a real facilitator behind a load balancer answers. */
export const NGINX_504_HTML =
  "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n" +
  "<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/** The reason @x402/evm's exact facilitator gives for a signature that does not recover to `from`. */
export const INVALID_SIGNATURE_REASON = "invalid_exact_evm_signature";

interface UpstreamAnswer {
  status: number;
  contentType: string;
  text: string;
}

interface SettleBody {
  paymentPayload?: {
    accepted?: { network?: string };
    payload?: { authorization?: { from?: string; nonce?: string } };
  };
  paymentRequirements?: { network?: string };
}

export async function startFaultyFacilitator(upstreamUrl: string): Promise<FaultyFacilitator> {
  const upstream = upstreamUrl.replace(/\/+$/, "");
  let fault: SettleFault = "pass";
  const calls = { supported: 0, verify: 0, settle: 0 };
  const broadcasts: string[] = [];
  const hung = new Set<Socket>();
  // Upstream's first answer per authorization (payer + nonce). A payload is broadcast at most once
  // under the after-broadcast faults: x402ResourceServer retries settlement_pending with the same
  // payload, and the retry must see the same pending answer, not a second (failing) settle upstream.
  const forwarded = new Map<string, Promise<UpstreamAnswer>>();

  async function forward(method: string, path: string, body: Buffer | undefined, contentType: string | undefined): Promise<UpstreamAnswer> {
    const response = await fetch(`${upstream}${path}`, {
      method,
      ...(body ? { body: new Uint8Array(body), headers: { "content-type": contentType ?? "application/json" } } : {}),
    });
    const answer = { status: response.status, contentType: response.headers.get("content-type") ?? "", text: await response.text() };
    if (path === "/settle") {
      const tx = parseJson<SettleResponse>(answer.text)?.transaction;
      if (tx) broadcasts.push(tx);
    }
    return answer;
  }

  function remember(key: string | undefined, answer: Promise<UpstreamAnswer>): void {
    if (key === undefined || forwarded.has(key)) return;
    forwarded.set(key, answer);
    answer.catch(() => forwarded.delete(key)); // upstream unreachable: nothing was broadcast
  }

  /** Forwards a settle the first time this authorization is seen; later calls get that first answer. */
  function forwardSettleOnce(key: string | undefined, body: Buffer, contentType: string | undefined): Promise<UpstreamAnswer> {
    const known = key === undefined ? undefined : forwarded.get(key);
    if (known) return known;
    const answer = forward("POST", "/settle", body, contentType);
    remember(key, answer);
    return answer;
  }

  async function settle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const current = fault; // the fault when the request arrived, even if it changes meanwhile
    const contentType = req.headers["content-type"];
    const parsed = parseJson<SettleBody>(body.toString("utf8"));
    const auth = parsed?.paymentPayload?.payload?.authorization;
    const key = auth?.from && auth.nonce ? `${auth.from.toLowerCase()}:${auth.nonce.toLowerCase()}` : undefined;
    const network = parsed?.paymentRequirements?.network ?? parsed?.paymentPayload?.accepted?.network ?? "";
    const payer = auth?.from;

    switch (current) {
      case "pass": {
        // Always forwarded (upstream decides about repeats); the first answer is remembered so that a
        // later after-broadcast fault on the same payload reuses this broadcast.
        const answer = forward("POST", "/settle", body, contentType);
        remember(key, answer);
        return relay(res, await answer);
      }
      case "pending_after_broadcast": {
        const answer = await forwardSettleOnce(key, body, contentType);
        const settled = parseJson<SettleResponse>(answer.text);
        // Nothing broadcast (upstream refused the payload): a pending answer would be a lie; relay it.
        if (!settled?.transaction) return relay(res, answer);
        return sendJson(res, 200, {
          success: false,
          errorReason: "settlement_pending",
          // What the official facilitator puts here: the message of the receipt wait that gave up.
          errorMessage: `Timed out while waiting for transaction with hash "${settled.transaction}" to be confirmed.`,
          transaction: settled.transaction,
          network: settled.network ?? network,
          payer: settled.payer ?? payer,
        });
      }
      case "html_504_after_broadcast": {
        await forwardSettleOnce(key, body, contentType);
        res.writeHead(504, { "content-type": "text/html", "content-length": Buffer.byteLength(NGINX_504_HTML), server: "nginx" });
        res.end(NGINX_504_HTML);
        return;
      }
      case "drop_after_broadcast": {
        await forwardSettleOnce(key, body, contentType);
        req.socket.destroy();
        return;
      }
      case "hang_before_broadcast": {
        hung.add(req.socket);
        req.socket.once("close", () => hung.delete(req.socket)); // the client gave up (timeout)
        return;
      }
      case "reject_invalid_before_broadcast": {
        // The shape of @x402/evm's settleEIP3009 when the transfer's gas estimation reverts: a
        // definitive refusal, with viem's error text, and nothing broadcast (transaction "").
        return sendJson(res, 200, {
          success: false,
          errorReason: INVALID_SIGNATURE_REASON,
          errorMessage:
            'The contract function "transferWithAuthorization" reverted with the following reason:\nFiatTokenV2: invalid signature',
          transaction: "",
          network,
          payer,
        });
      }
      case "lie_success_without_broadcast": {
        const someoneElses = broadcasts.at(-1) ?? `0x${"ab".repeat(32)}`;
        return sendJson(res, 200, { success: true, transaction: someoneElses, network, payer });
      }
    }
  }

  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "");
      try {
        const body = req.method === "POST" ? await readBody(req) : undefined;
        if (req.method === "POST" && path === "/settle") {
          calls.settle++;
          return await settle(req, res, body!);
        }
        if (req.method === "GET" && path === "/supported") calls.supported++;
        if (req.method === "POST" && path === "/verify") calls.verify++;
        relay(res, await forward(req.method ?? "GET", path, body, req.headers["content-type"]));
      } catch (err) {
        // The proxy itself failed (upstream down): say so plainly rather than hang the test.
        if (!res.headersSent && !res.destroyed) sendJson(res, 502, { error: `faulty facilitator: ${String(err)}` });
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const releaseHung = () => {
    for (const socket of hung) socket.destroy();
    hung.clear();
  };
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    setFault(next) {
      fault = next;
    },
    calls,
    broadcasts,
    releaseHung,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        releaseHung();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      })),
  };
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function relay(res: ServerResponse, answer: UpstreamAnswer): void {
  res.writeHead(answer.status, { "content-type": answer.contentType, "content-length": Buffer.byteLength(answer.text) });
  res.end(answer.text);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export interface ServiceBehindFaultyFacilitator {
  /** The real service (local mode) attached to `devnet`'s chain, settling through `proxy`. */
  service: LocalService;
  /** The test's devnet: the chain (rpcUrl, asset, payers, payTo, chainId) and the facilitator upstream. */
  devnet: Devnet;
  proxy: FaultyFacilitator;
  /** Stops the service, the proxy, the facilitator's HTTP server and the chain, in that order. */
  stop(): Promise<void>;
}

/** Default deadline of the service's HTTPFacilitatorClient here: short, so hung settles end quickly. */
export const HARNESS_FACILITATOR_TIMEOUT_MS = 2000;

/**
 * The real service in local mode whose facilitator is the faulty proxy. One chain: the test's devnet
 * spawns anvil (TestUSDC, Multicall3, funded payers) and runs the official facilitator; the service
 * attaches to the same chain (DEVNET_RPC_URL), so its own startDevnet finds everything deployed and sends
 * nothing. The facilitator account (dev account 0) is used only by the test's facilitator: with
 * X402_FACILITATOR_URL set the service never uses its in-process one. The service's other sender is
 * its payout wallet (dev account 500, funded once by the token admin at startup), which nothing here uses.
 */
export async function startServiceBehindFaultyFacilitator(
  env: Record<string, string> = {},
  // options.facilitator would bypass the proxy, so it is not accepted.
  options: Omit<StartOptions, "facilitator"> = {},
): Promise<ServiceBehindFaultyFacilitator> {
  const stack: (() => Promise<void>)[] = []; // undo in reverse order, also when start-up fails
  const stop = async () => {
    for (const undo of stack.splice(0).reverse()) await undo().catch(() => {});
  };
  try {
    const devnet = await startDevnet({});
    stack.push(() => devnet.stop());
    const upstream: FacilitatorHttpServer = await serveFacilitatorOverHttp(devnet.facilitator);
    stack.push(() => upstream.close());
    const proxy = await startFaultyFacilitator(upstream.url);
    stack.push(() => proxy.close());
    const facilitatorNonce = () => publicClientFor(devnet.rpcUrl).getTransactionCount({ address: devnet.facilitatorAddress });
    const facilitatorNonceBefore = await facilitatorNonce();
    const service = await startLocalService(
      {
        DEVNET_RPC_URL: devnet.rpcUrl,
        X402_FACILITATOR_URL: proxy.url,
        X402_FACILITATOR_TIMEOUT_MS: String(HARNESS_FACILITATOR_TIMEOUT_MS),
        ...env,
      },
      options,
    );
    // Held settles would keep the service's shutdown waiting for their deadline: release them first.
    stack.push(async () => {
      proxy.releaseHung();
      await service.stop();
    });

    // Both views of the chain must agree, or payments would be signed for one token and settled on another.
    const seen = service.devnet;
    if (!seen || seen.rpcUrl !== devnet.rpcUrl || seen.chainId !== devnet.chainId || seen.asset !== devnet.asset || seen.payTo !== devnet.payTo) {
      throw new Error(
        `the service's devnet ${JSON.stringify(seen && { rpcUrl: seen.rpcUrl, chainId: seen.chainId, asset: seen.asset, payTo: seen.payTo })} ` +
          `differs from the test's ${JSON.stringify({ rpcUrl: devnet.rpcUrl, chainId: devnet.chainId, asset: devnet.asset, payTo: devnet.payTo })}`,
      );
    }
    // The facilitator account's nonce manager lives in the test's devnet; a transaction from the service
    // (its own in-process facilitator) would put the two out of step.
    if ((await facilitatorNonce()) !== facilitatorNonceBefore) {
      throw new Error(`the service sent transactions from the facilitator account ${devnet.facilitatorAddress} at start-up`);
    }
    if (service.config.payment.facilitatorUrl !== proxy.url) {
      throw new Error(`the service's facilitator is ${service.config.payment.facilitatorUrl}, not the proxy ${proxy.url}`);
    }
    return { service, devnet, proxy, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
