// What the anchors of `npm run bench` share: an answer of the service captured byte for byte (status,
// every header as sent, body) to be replayed by the same-bytes server, and the comparison that checks an
// anchor answers what it claims to (the same bytes, or the same challenge through the stock middleware).
import { request as httpRequest } from "node:http";

export interface CapturedAnswer {
  method: "GET" | "POST";
  /** The route path the anchor answers on (no query string). */
  path: string;
  status: number;
  /** Header names as the service wrote them, without the ones node writes itself (NODE_WRITTEN). */
  headers: Record<string, string>;
  body: string;
}

export interface AnchorRequest {
  method: "GET" | "POST";
  /** Path with its query string. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Written by node's http server for every response, whatever the app says: not part of the app's bytes. */
const NODE_WRITTEN = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);
/** Differs on every response by design (a fresh id per request). */
const PER_REQUEST = new Set(["x-request-id"]);

/** One request with node:http (no decoding, no header normalisation): the raw answer. */
function rawRequest(baseUrl: string, spec: AnchorRequest): Promise<{ status: number; rawHeaders: string[]; body: string }> {
  const url = new URL(spec.path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: spec.method, headers: spec.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(spec.body);
  });
}

/** The answer to `spec` (the service's: as the same-bytes server replays it on its route path). */
export async function captureAnswer(baseUrl: string, spec: AnchorRequest): Promise<CapturedAnswer> {
  const raw = await rawRequest(baseUrl, spec);
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.rawHeaders.length; i += 2) {
    const name = raw.rawHeaders[i]!;
    if (NODE_WRITTEN.has(name.toLowerCase())) continue;
    if (name in headers) throw new Error(`${spec.method} ${spec.path} answered the header ${name} twice: the same-bytes server cannot replay that`);
    headers[name] = raw.rawHeaders[i + 1]!;
  }
  return { method: spec.method, path: spec.path.split("?")[0]!, status: raw.status, headers, body: raw.body };
}

/** Bytes of the answer's own headers ("name: value\r\n" each) and of its body. */
export function answerBytes(answer: Pick<CapturedAnswer, "headers" | "body">): { headerBytes: number; bodyBytes: number } {
  let headerBytes = 0;
  for (const name in answer.headers) headerBytes += Buffer.byteLength(`${name}: ${answer.headers[name]}\r\n`);
  return { headerBytes, bodyBytes: Buffer.byteLength(answer.body) };
}

/** How `actual` differs from `expected` (status, header names and values, body); [] when it is the same. */
export function differences(expected: CapturedAnswer, actual: CapturedAnswer, options: { ignoreHeaderValues?: readonly string[] } = {}): string[] {
  const ignore = new Set([...PER_REQUEST, ...(options.ignoreHeaderValues ?? [])].map((n) => n.toLowerCase()));
  const out: string[] = [];
  if (expected.status !== actual.status) out.push(`status ${actual.status}, not ${expected.status}`);
  const names = new Set([...Object.keys(expected.headers), ...Object.keys(actual.headers)]);
  for (const name of names) {
    const e = expected.headers[name];
    const a = actual.headers[name];
    if (e === undefined) out.push(`extra header ${name}`);
    else if (a === undefined) out.push(`missing header ${name}`);
    else if (e !== a && !ignore.has(name.toLowerCase())) out.push(`header ${name} differs`);
  }
  if (expected.body !== actual.body) out.push(`body differs (${Buffer.byteLength(actual.body)} bytes, not ${Buffer.byteLength(expected.body)})`);
  return out;
}
