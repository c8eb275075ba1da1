// The webhook dispatcher on Node: `dispatchDue(deps)` (the core in ./dispatch-core.ts) with Node's
// defaults — the delivery-time check resolves the host with the system resolver and refuses non-public
// addresses, and the transport connects to the vetted addresses only (no rebinding) — and
// `startDispatcher`, the server's loop. See ./dispatch-core.ts for claiming, outcomes and retries.
import { serialRunner } from "../lib/serial-runner";
import { assertDeliverableUrl, systemResolver, type Resolver } from "./callback-url";
import { dispatchDue as dispatchDueCore, type DispatchDeps as CoreDispatchDeps, type DispatchSummary } from "./dispatch-core";
import { pinnedHttpTransport, type Transport } from "./transport";

export {
  DEFAULT_TIMEOUT_MS,
  MAX_ATTEMPTS,
  parseRetryAfter,
  RETRY_SCHEDULE_MS,
  retryDelayMs,
  type AttemptErrorKind,
  type DispatchSummary,
} from "./dispatch-core";

export interface DispatchDeps extends Omit<CoreDispatchDeps, "transport" | "target"> {
  /** Default: pinnedHttpTransport (connects to the vetted addresses only). */
  transport?: Transport;
  /** Default: the system resolver. */
  resolve?: Resolver;
}

/**
 * Sends every delivery that is due now (up to `limit`, concurrently) and records each attempt.
 * Safe to run concurrently with itself, in one process or several.
 */
export function dispatchDue(deps: DispatchDeps): Promise<DispatchSummary> {
  const { resolve, transport, ...rest } = deps;
  return dispatchDueCore({
    ...rest,
    transport: transport ?? pinnedHttpTransport,
    target: (raw, mode) => assertDeliverableUrl(raw, mode, resolve ?? systemResolver),
  });
}

export interface Dispatcher {
  /** Runs dispatchDue now unless a run is in progress (then one more run follows it). */
  kick(): void;
  /** Stops the interval, aborts in-flight attempts (they are retried later) and waits for the run to end. */
  stop(): Promise<void>;
}

/** The Node server's loop: every `intervalMs`, and on kick(). Runs never overlap. */
export function startDispatcher(deps: Omit<DispatchDeps, "signal">, intervalMs: number): Dispatcher {
  const log = deps.log ?? (() => undefined);
  const runner = serialRunner(
    async (signal) => {
      await dispatchDue({ ...deps, signal });
    },
    (error: unknown) => log(`webhook dispatch failed: ${error instanceof Error ? error.message : String(error)}`),
  );
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const run = () => void runner.run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    kick() {
      if (debounce || stopped) return;
      // After the current batch has committed (the listener runs before its batch does).
      debounce = setTimeout(() => {
        debounce = undefined;
        run();
      }, 10);
      debounce.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (debounce) clearTimeout(debounce);
      await runner.stop();
    },
  };
}
