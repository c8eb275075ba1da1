// One load run with autocannon (in this process; the server under test is another process). Latencies
// are recorded here from autocannon's per-response event with sub-millisecond precision (its own
// histogram keeps whole milliseconds and only 2xx), and every response whose status is not the
// expected one counts as an error, as do connection errors and timeouts.
import autocannon from "autocannon";

export interface LoadSpec {
  url: string;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  durationSeconds?: number;
  /** Stop after this many requests instead of after a duration. */
  amount?: number;
  method?: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** A fresh body per request (each call must return another one). */
  nextBody?: () => string;
  expectStatus: number;
}

export interface LoadResult {
  connections: number;
  seconds: number;
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  statuses: Record<string, number>;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const method = spec.method ?? "GET";
  const headers = spec.headers ?? {};
  const nextBody = spec.nextBody;
  // The window is timed here, from the start to the last response: autocannon's own start/finish only
  // move on its once-a-second ticker, so a run of a fixed `amount` ended up to a second late (a 3.0 s vote
  // run measured as 4, i.e. 25% fewer requests per second than were served).
  const startedAt = performance.now();
  let lastResponseAt = startedAt;
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    timeout: 10,
    ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.durationSeconds ?? 10 }),
    requests: [
      {
        method,
        path: spec.path,
        headers,
        ...(spec.body !== undefined ? { body: spec.body } : {}),
        ...(nextBody ? { setupRequest: (request: autocannon.Request) => ({ ...request, body: nextBody() }) } : {}),
      },
    ],
  }) as unknown as Promise<autocannon.Result> & NodeJS.EventEmitter; // the tracker is a thenable EventEmitter
  instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    lastResponseAt = performance.now();
    latencies.push(responseTime);
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const unexpected = Object.entries(statuses)
    .filter(([status]) => Number(status) !== spec.expectStatus)
    .reduce((sum, [, count]) => sum + count, 0);
  const seconds = (lastResponseAt - startedAt) / 1000;
  return {
    connections: spec.connections,
    seconds,
    requests: latencies.length,
    // No response at all (every request failed): nothing was served, whatever the time.
    rps: latencies.length === 0 ? 0 : latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? NaN,
    errors: result.errors + unexpected,
    statuses,
  };
}
