// The webhook dispatcher on Node: `dispatchDue(deps)` (the core in ./dispatch-core.ts) with Node's
// defaults — the delivery-time check resolves the host with the system resolver and refuses non-public
// addresses, and the transport connects to the vetted addresses only (no rebinding) — and
// `startDispatcher`, the server's loop. See ./dispatch-core.ts for claiming, outcomes and retries.
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
  const controller = new AbortController();
  let running: Promise<void> | undefined;
  let again = false;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  const log = deps.log ?? (() => undefined);
  const run = () => {
    if (controller.signal.aborted) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await dispatchDue({ ...deps, signal: controller.signal }).catch((error: unknown) =>
          log(`webhook dispatch failed: ${error instanceof Error ? error.message : String(error)}`),
        );
      } while (again && !controller.signal.aborted);
    })().finally(() => {
      running = undefined;
    });
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    kick() {
      if (debounce || controller.signal.aborted) return;
      // After the current batch has committed (the listener runs before its batch does).
      debounce = setTimeout(() => {
        debounce = undefined;
        run();
      }, 10);
      debounce.unref();
    },
    async stop() {
      clearInterval(timer);
      if (debounce) clearTimeout(debounce);
      controller.abort();
      await running;
    },
  };
}
