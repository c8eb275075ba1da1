// The OFFICIAL x402 facilitator (x402Facilitator + @x402/evm's facilitator-side ExactEvmScheme),
// running in-process against a local chain, plus a tiny HTTP server exposing it in the wire format
// that HTTPFacilitatorClient speaks (POST /verify, POST /settle, GET /supported).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createNonceManager, createWalletClient, http, publicActions, type Hex } from "viem";
import { jsonRpc } from "viem/nonce";
import { privateKeyToAccount } from "viem/accounts";
import { x402Facilitator } from "@x402/core/facilitator";
import type { FacilitatorClient } from "@x402/core/server";
import type {
  Network,
  PaymentPayload,
  PaymentRequirements,
  SettleResponse,
  SupportedResponse,
  VerifyResponse,
} from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/facilitator";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { localChain, type Address } from "./chain.js";

export interface LocalFacilitatorOptions {
  rpcUrl: string;
  chainId: number;
  /** Key of the account that submits settlement transactions (needs ETH for gas). */
  privateKey: Hex;
  /** CAIP-2 networks to serve; each must be `eip155:<chainId>` of this chain (see below). */
  networks: Network[];
}

/**
 * A FacilitatorClient (what `new x402ResourceServer(client)` takes) backed by the official
 * in-process facilitator. `x402Facilitator` itself is not one: its getSupported() is synchronous.
 */
export interface LocalFacilitator extends FacilitatorClient {
  /** The underlying official facilitator (register hooks on it if needed). */
  readonly facilitator: x402Facilitator;
  /** Address that signs and pays for settlement transactions. */
  readonly address: Address;
  readonly networks: readonly Network[];
}

// anvil mines on receipt of a transaction; poll receipts fast instead of viem's default 4 s.
const POLLING_INTERVAL_MS = 50;

export function createLocalFacilitator(opts: LocalFacilitatorOptions): LocalFacilitator {
  const { rpcUrl, chainId, privateKey, networks } = opts;
  if (networks.length === 0) throw new Error("createLocalFacilitator: networks is empty");
  for (const network of networks) {
    // The client signs the EIP-712 domain with the network's chain id and the token checks it against
    // block.chainid: a network whose id differs from the chain's can never settle. Run one chain
    // (and one facilitator) per network instead; x402ResourceServer accepts several clients.
    if (network !== `eip155:${chainId}`) {
      throw new Error(`createLocalFacilitator: network ${network} does not match the chain's id ${chainId} (eip155:${chainId})`);
    }
  }

  // A nonce manager per facilitator, not viem's shared singleton: that one caches nonces by
  // (address, chainId), and two local chains with the same id in one process would then get each
  // other's nonces (a nonce gap on a fresh chain stalls settlement forever).
  const account = privateKeyToAccount(privateKey, { nonceManager: createNonceManager({ source: jsonRpc() }) });
  const client = createWalletClient({
    account,
    chain: localChain(chainId, rpcUrl),
    transport: http(rpcUrl),
    pollingInterval: POLLING_INTERVAL_MS,
  }).extend(publicActions);

  // Explicit adapters: viem's generic signatures are stricter than the signer's loose ones.
  const signer = toFacilitatorEvmSigner(
    {
      address: account.address,
      getCode: (args) => client.getCode(args),
      readContract: (args) => client.readContract(args as Parameters<typeof client.readContract>[0]),
      verifyTypedData: (args) => client.verifyTypedData(args as Parameters<typeof client.verifyTypedData>[0]),
      writeContract: (args) => client.writeContract(args as Parameters<typeof client.writeContract>[0]),
      sendTransaction: (args) => client.sendTransaction(args),
      waitForTransactionReceipt: (args) =>
        client.waitForTransactionReceipt({ ...args, pollingInterval: POLLING_INTERVAL_MS }),
    },
    // Local blocks are instant; a receipt that takes longer than this means something is wrong.
    { confirmationTimeoutMs: 30_000 },
  );

  const facilitator = new x402Facilitator().register(networks, new ExactEvmScheme(signer));

  return {
    facilitator,
    address: account.address,
    networks,
    verify: (payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResponse> =>
      facilitator.verify(payload, requirements),
    settle: (payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse> =>
      facilitator.settle(payload, requirements),
    getSupported: async (): Promise<SupportedResponse> => {
      const supported = facilitator.getSupported();
      // Kinds come from the Network values registered above; only the declared type is wider.
      return { ...supported, kinds: supported.kinds.map((k) => ({ ...k, network: k.network as Network })) };
    },
  };
}

export interface FacilitatorHttpServer {
  /** Base URL for `new HTTPFacilitatorClient({ url })`, e.g. http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "request body too large");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parseFacilitatorRequest(body: unknown): { paymentPayload: PaymentPayload; paymentRequirements: PaymentRequirements } {
  const b = body as { paymentPayload?: unknown; paymentRequirements?: unknown } | null;
  if (!b || typeof b !== "object" || typeof b.paymentPayload !== "object" || typeof b.paymentRequirements !== "object" || !b.paymentPayload || !b.paymentRequirements) {
    throw new HttpError(400, "body must be { x402Version, paymentPayload, paymentRequirements }");
  }
  return { paymentPayload: b.paymentPayload as PaymentPayload, paymentRequirements: b.paymentRequirements as PaymentRequirements };
}

/**
 * Serves a facilitator over HTTP in the shape HTTPFacilitatorClient (@x402/core/server) expects:
 * - POST /verify, POST /settle with `{ x402Version, paymentPayload, paymentRequirements }` →
 *   200 with the VerifyResponse / SettleResponse, including negative results (isValid:false,
 *   success:false), as the official facilitators do.
 * - GET /supported → 200 with `{ kinds, extensions, signers }`.
 * - A facilitator that throws → 500 `{ error }`; malformed requests → 400 `{ error }`.
 * Binds 127.0.0.1 only.
 */
export async function serveFacilitatorOverHttp(
  facilitator: FacilitatorClient,
  opts: { port?: number } = {},
): Promise<FacilitatorHttpServer> {
  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "");
      try {
        if (req.method === "GET" && path === "/supported") {
          return sendJson(res, 200, await facilitator.getSupported());
        }
        if (req.method === "POST" && (path === "/verify" || path === "/settle")) {
          const { paymentPayload, paymentRequirements } = parseFacilitatorRequest(await readJson(req));
          const result =
            path === "/verify"
              ? await facilitator.verify(paymentPayload, paymentRequirements)
              : await facilitator.settle(paymentPayload, paymentRequirements);
          return sendJson(res, 200, result);
        }
        return sendJson(res, 404, { error: `no route for ${req.method} ${path || "/"}` });
      } catch (err) {
        const status = err instanceof HttpError ? err.status : 500;
        if (!res.headersSent) sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
        else res.destroy();
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
