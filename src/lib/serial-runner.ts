// "Run now, and once more if asked while running": a background job (webhook dispatch, a payout round)
// that never overlaps itself and never misses a request to run that came in during a run.
export interface SerialRunner {
  /** Starts a run, or asks the current one to be followed by one more; resolves when the work asked for is done. */
  run(): Promise<void>;
  /** Stops future runs and waits for the current one. */
  stop(): Promise<void>;
}

export function serialRunner(work: (signal: AbortSignal) => Promise<void>, onError: (error: unknown) => void): SerialRunner {
  const controller = new AbortController();
  let running: Promise<void> | undefined;
  let again = false;
  return {
    run() {
      if (controller.signal.aborted) return Promise.resolve();
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        do {
          again = false;
          await work(controller.signal).catch(onError);
        } while (again && !controller.signal.aborted);
      })().finally(() => {
        running = undefined;
      });
      return running;
    },
    async stop() {
      controller.abort();
      await running;
    },
  };
}
