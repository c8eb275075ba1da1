// A background job on an interval that never keeps the process alive and logs (never throws) its failures.
export function every(intervalMs: number, what: string, work: () => Promise<unknown>, log: (line: string) => void): () => void {
  const run = () => {
    work().catch((error: unknown) => log(`${what} failed: ${error instanceof Error ? error.message : String(error)}`));
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
