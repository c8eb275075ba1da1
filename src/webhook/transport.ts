// How a delivery attempt goes on the wire. The dispatcher is transport-agnostic:
//
// - `pinnedHttpTransport` (Node, the default): node:http/https with a `lookup` that answers only the
//   addresses vetted by assertDeliverableUrl, so the socket connects where the check looked, whatever DNS
//   says a moment later (no rebinding). TLS still verifies the certificate against the host name (SNI
//   and Host header are the URL's). Never follows redirects.
// - `fetchTransport` (./fetch-transport.ts, re-exported here; Workers' scheduled(), or anywhere fetch is
//   the only client): fetch with `redirect: "manual"`; it cannot pin addresses (Workers cannot reach
//   private networks anyway).
//
// Both read at most a short snippet of the response, and give up after `timeoutMs` overall.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import type { ResolvedAddress } from "./url-policy";
import { SNIPPET_BYTES, TransportError, type Transport, type TransportResponse } from "./fetch-transport";

export {
  fetchTransport,
  TransportError,
  type OutgoingDelivery,
  type Transport,
  type TransportErrorKind,
  type TransportResponse,
} from "./fetch-transport";

function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === "IPv4" ? 4 : options.family === 6 || options.family === "IPv6" ? 6 : 0;
    const usable = addresses.filter((a) => wanted === 0 || a.family === wanted);
    if (usable.length === 0) {
      const error = Object.assign(new Error("no vetted address for this family"), { code: "ENOTFOUND" });
      callback(error, []);
      return;
    }
    if (options.all) callback(null, usable.map((a) => ({ address: a.address, family: a.family })));
    else callback(null, usable[0]!.address, usable[0]!.family);
  };
}

export const pinnedHttpTransport: Transport = (delivery) =>
  new Promise<TransportResponse>((resolve, reject) => {
    const { url, signal } = delivery;
    if (signal?.aborted) {
      reject(new TransportError("aborted", "shutting down"));
      return;
    }
    const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, {
      method: "POST",
      headers: { ...delivery.headers, "Content-Length": String(Buffer.byteLength(delivery.body)) },
      lookup: pinnedLookup(delivery.addresses),
      // A fresh connection per attempt: no pooled socket from an earlier (differently resolved) attempt.
      agent: false,
    });
    let settled = false;
    let status: number | undefined;
    let retryAfter: string | null = null;
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (outcome: { ok: TransportResponse } | { error: TransportError }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      request.destroy();
      if ("ok" in outcome) resolve(outcome.ok);
      else reject(outcome.error);
    };
    const responded = () =>
      finish({ ok: { status: status!, retryAfter, snippet: Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString("utf8") } });
    const timer = setTimeout(() => {
      // Once the status line arrived the answer is known; a body that trickles is not waited for.
      if (status !== undefined) responded();
      else finish({ error: new TransportError("timeout", `no response within ${delivery.timeoutMs} ms`) });
    }, delivery.timeoutMs);
    const onAbort = () => finish({ error: new TransportError("aborted", "shutting down") });
    signal?.addEventListener("abort", onAbort, { once: true });

    request.on("response", (response: IncomingMessage) => {
      status = response.statusCode ?? 0;
      const header = response.headers["retry-after"];
      retryAfter = typeof header === "string" ? header : null;
      response.on("data", (chunk: Buffer) => {
        if (received < SNIPPET_BYTES) chunks.push(chunk);
        received += chunk.length;
        if (received >= SNIPPET_BYTES) responded();
      });
      response.on("end", responded);
      response.on("error", responded);
      response.on("aborted", responded);
    });
    request.on("error", (error: NodeJS.ErrnoException) => {
      if (status !== undefined) responded();
      else finish({ error: new TransportError("network_error", error.code ?? error.message) });
    });
    request.end(delivery.body);
  });
