// /readyz: is every dependency a request needs reachable right now? Each check is bounded in time
// and its outcome cached briefly, so probes (load balancers poll every few seconds) cost little
// and cannot pile up on a slow dependency.
import type { MiddlewareHandler } from "hono";

export interface ReadinessCheck {
  name: string;
  /** Resolves with a short detail when ready; throws (or rejects) with the reason when not. */
  run(): Promise<string | undefined>;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string; ms: number }>;
}

export function createReadiness(checks: readonly ReadinessCheck[], options: { timeoutMs?: number; cacheMs?: number } = {}) {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const cacheMs = options.cacheMs ?? 5_000;
  let cached: { at: number; report: Promise<ReadinessReport> } | undefined;

  const runOne = async (check: ReadinessCheck) => {
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const detail = await Promise.race([
        check.run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return { ok: true, ...(detail ? { detail } : {}), ms: Math.round(performance.now() - started) };
    } catch (error) {
      return { ok: false, detail: error instanceof Error ? error.message : String(error), ms: Math.round(performance.now() - started) };
    } finally {
      clearTimeout(timer);
    }
  };

  const report = async (): Promise<ReadinessReport> => {
    const results = await Promise.all(checks.map(async (check) => [check.name, await runOne(check)] as const));
    return { ready: results.every(([, result]) => result.ok), checks: Object.fromEntries(results) };
  };

  const handler: MiddlewareHandler = async (c) => {
    const now = Date.now();
    if (!cached || now - cached.at > cacheMs) cached = { at: now, report: report() };
    const result = await cached.report;
    return c.json({ status: result.ready ? "ready" : "not_ready", checks: result.checks }, result.ready ? 200 : 503, {
      "Cache-Control": "no-store",
    });
  };
  return { handler, report };
}
