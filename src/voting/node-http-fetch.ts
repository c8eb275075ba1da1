// A lean `fetch` for plain-http calls from the Node server (Node only; never in the Workers bundle): the
// World ID verifier (src/voting/world-id.ts) stays fetch-based — on Workers it uses the platform's fetch —
// and in local mode the Node server hands it this function for its calls to the in-process portal stand-in
// on loopback. Node's own fetch (undici) costs ~450 µs of CPU more per call than node:http on this path
// (Request/Headers objects, a cloned request with its body stream tee'd, an AbortSignal following the
// caller's, web streams for both bodies: more than everything else a vote does); this one is node:http with
// a keep-alive agent, and answers a real WHATWG `Response` (a subclass whose json()/text() read the bytes
// it already holds).
//
// Scope, kept small on purpose: http: URLs with a string (or absent) body and plain-object headers; the
// caller's AbortSignal aborts the request; redirects are not followed (a 3xx is returned as is, like
// `redirect: "manual"`); anything else (https:, streams, Request objects, Headers instances) goes to the
// platform fetch unchanged.
import { Agent, request as httpRequest, type IncomingMessage } from "node:http";

export interface NodeHttpFetch {
  fetch: typeof fetch;
  /** Closes the kept-alive connections. */
  close(): void;
}

/** Statuses whose response has no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

type BufferedInit = ResponseInit & { headers: [string, string][] };
type BufferedResponseClass = new (bytes: Buffer | null, init: BufferedInit) => Response;
const bufferedClasses = new WeakMap<typeof Response, BufferedResponseClass>();

/**
 * A Response whose body is already in memory. It extends the platform's Response as it is when first
 * used — on @hono/node-server that is its lightweight Response, whose constructor only records status
 * and headers (undici's builds a whole response state: ~35 µs a call here) — and is constructed without a
 * body (no web stream: ~45 µs more) nor headers (a Headers object is made when `headers` is read). It
 * serves its bytes itself: json(), text(), arrayBuffer() and blob() read them directly, `body` is a stream
 * over them made on demand, clone() copies them. As with any Response, the body can be read once.
 */
function bufferedResponse(bytes: Buffer | null, init: BufferedInit): Response {
  const Base = globalThis.Response;
  let Class = bufferedClasses.get(Base);
  if (!Class) {
    Class = defineBufferedResponse(Base);
    bufferedClasses.set(Base, Class);
  }
  return new Class(bytes, init);
}

function defineBufferedResponse(Base: typeof Response): BufferedResponseClass {
  return class BufferedResponse extends Base {
    readonly #bytes: Buffer | null;
    readonly #init: BufferedInit;
    #headers: Headers | undefined;
    #read = false;
    #stream: ReadableStream<Uint8Array<ArrayBuffer>> | null | undefined;

    constructor(bytes: Buffer | null, init: BufferedInit) {
      // Status only: the headers become a Headers object when asked for (most callers never do).
      super(null, { status: init.status, statusText: init.statusText });
      this.#bytes = bytes;
      this.#init = init;
    }

    override get headers(): Headers {
      return (this.#headers ??= new Headers(this.#init.headers));
    }

    override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
      if (this.#stream === undefined) this.#stream = this.#bytes === null ? null : new Blob([this.#bytes as Uint8Array<ArrayBuffer>]).stream();
      return this.#stream;
    }

    override get bodyUsed(): boolean {
      return this.#read || (this.#stream?.locked ?? false);
    }

    #take(): Buffer {
      if (this.bodyUsed) throw new TypeError("Body is unusable: Body has already been read");
      this.#read = true;
      return this.#bytes ?? Buffer.alloc(0);
    }

    override async text(): Promise<string> {
      return this.#take().toString("utf8");
    }

    override async json(): Promise<unknown> {
      return JSON.parse(this.#take().toString("utf8"));
    }

    override async arrayBuffer(): Promise<ArrayBuffer> {
      const bytes = this.#take();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    }

    override async blob(): Promise<Blob> {
      return new Blob([this.#take() as Uint8Array<ArrayBuffer>], { type: this.headers.get("content-type") ?? "" });
    }

    override async formData(): Promise<FormData> {
      return new Response(this.#take() as Uint8Array<ArrayBuffer>, { status: this.#init.status, headers: this.#init.headers }).formData();
    }

    override clone(): Response {
      if (this.bodyUsed) throw new TypeError("Response.clone: Body has already been consumed.");
      return bufferedResponse(this.#bytes, this.#init);
    }
  };
}

export function createNodeHttpFetch(options: { maxSockets?: number } = {}): NodeHttpFetch {
  // timeout: idle kept-alive sockets are closed after it, or 1 s before the server's Keep-Alive hint
  // (Node applies the hint only when an agent timeout is set), so a reused socket is never one the
  // server is closing.
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64, timeout: 60_000 });
  let lastUrl: string | undefined;
  let lastParsed: URL | undefined;

  const lean = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> | undefined => {
    const href = typeof input === "string" ? input : input instanceof URL ? input.href : undefined;
    if (href === undefined) return undefined;
    const body = init?.body;
    if (body !== undefined && body !== null && typeof body !== "string") return undefined;
    const headers = init?.headers;
    if (headers !== undefined && (headers instanceof Headers || Array.isArray(headers))) return undefined;
    if (init?.redirect === "error") return undefined;
    if (href !== lastUrl) {
      const parsed = new URL(href);
      if (parsed.protocol !== "http:" || parsed.username || parsed.password) return undefined;
      lastUrl = href;
      lastParsed = parsed;
    }
    const url = lastParsed!;
    const signal = init?.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);

    return new Promise<Response>((resolve, reject) => {
      const outgoing: Record<string, string | number> = { ...(headers as Record<string, string> | undefined) };
      if (typeof body === "string") outgoing["content-length"] = Buffer.byteLength(body);
      const req = httpRequest({
        agent,
        host: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port || 80,
        path: `${url.pathname}${url.search}`,
        method: (init?.method ?? "GET").toUpperCase(),
        headers: outgoing,
      });
      let settled = false;
      const onAbort = () => req.destroy(signal!.reason instanceof Error ? signal!.reason : new Error(String(signal!.reason)));
      const done = () => {
        settled = true;
        signal?.removeEventListener("abort", onAbort);
      };
      const fail = (error: unknown) => {
        if (settled) return;
        done();
        // fetch rejects with the signal's reason when it was aborted, else with a TypeError.
        reject(signal?.aborted ? signal.reason : new TypeError("fetch failed", { cause: error }));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", fail);
      req.on("response", (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", fail);
        res.on("close", () => {
          if (!res.complete) fail(new Error("response aborted"));
        });
        res.on("end", () => {
          if (settled) return;
          done();
          const status = res.statusCode ?? 0;
          const raw = res.rawHeaders;
          const responseHeaders: [string, string][] = [];
          for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.push([raw[i]!, raw[i + 1]!]);
          try {
            const payload = NULL_BODY.has(status) ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
            resolve(bufferedResponse(payload, { status, statusText: res.statusMessage ?? "", headers: responseHeaders }));
          } catch (error) {
            reject(new TypeError("fetch failed", { cause: error }));
          }
        });
      });
      req.end(typeof body === "string" ? body : undefined);
    });
  };

  return {
    fetch: ((input: RequestInfo | URL, init?: RequestInit) => lean(input, init) ?? globalThis.fetch(input, init)) as typeof fetch,
    close: () => agent.destroy(),
  };
}
