// The runtime-free part of webhook delivery on the wire: what a transport is, its errors, and the
// fetch-based transport (Cloudflare Workers' scheduled(), or anywhere fetch is the only client): fetch with
// `redirect: "manual"`; it cannot pin addresses (Workers cannot reach private networks anyway). It reads
// at most a short snippet of the response and gives up after `timeoutMs` overall.
// The Node transport that pins vetted addresses is in ./transport.ts.
import type { ResolvedAddress } from "./url-policy";

export interface OutgoingDelivery {
  url: URL;
  /** Vetted addresses of url's host; a pinning transport connects to these only. */
  addresses: readonly ResolvedAddress[];
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Aborts the attempt (server shutdown): the transport rejects with a TransportError "aborted". */
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  /** The Retry-After header, raw. */
  retryAfter: string | null;
  /** The first bytes of the body (decoded as UTF-8, at most SNIPPET_BYTES). */
  snippet: string;
}

export type TransportErrorKind = "timeout" | "network_error" | "aborted";

export class TransportError extends Error {
  override name = "TransportError";
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export type Transport = (delivery: OutgoingDelivery) => Promise<TransportResponse>;

export const SNIPPET_BYTES = 2048;

/** A fetch-based transport (no address pinning): for runtimes without node:http, e.g. Workers. */
export function fetchTransport(fetchImpl: typeof fetch = fetch): Transport {
  return async (delivery) => {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, delivery.timeoutMs);
    const onAbort = () => controller.abort();
    delivery.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const response = await fetchImpl(delivery.url, {
        method: "POST",
        headers: delivery.headers,
        body: delivery.body,
        redirect: "manual",
        signal: controller.signal,
      });
      let snippet = "";
      try {
        const reader = response.body?.getReader();
        const chunks: Uint8Array[] = [];
        let received = 0;
        while (reader && received < SNIPPET_BYTES) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          received += value.length;
        }
        await reader?.cancel().catch(() => undefined);
        snippet = Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString("utf8");
      } catch {
        // The status is what matters; a body cut short leaves the snippet partial.
      }
      return { status: response.status, retryAfter: response.headers.get("retry-after"), snippet };
    } catch (error) {
      if (timedOut) throw new TransportError("timeout", `no response within ${delivery.timeoutMs} ms`);
      if (delivery.signal?.aborted) throw new TransportError("aborted", "shutting down");
      throw new TransportError("network_error", error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
      delivery.signal?.removeEventListener("abort", onAbort);
    }
  };
}
