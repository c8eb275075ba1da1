// The one fake clock of the tests, handed to the service as `now` (StartOptions.now, AppDeps.now,
// DispatchDeps.now…). Running, it is real time shifted by what `advance` added; frozen, it stands still
// at one instant and moves only when told.

export interface TestClock {
  now(): Date;
  /** Moves the clock by `ms` (negative goes back), frozen or not. */
  advance(ms: number): void;
  /** Stops the clock at `at` (default: where it is now). */
  freeze(at?: Date | string): void;
  /** Lets it run again from real time plus what was advanced. */
  unfreeze(): void;
}

/** A running clock; `{ frozenAt }` starts it frozen at that instant. */
export function testClock(options: { frozenAt?: Date | string } = {}): TestClock {
  let offsetMs = 0;
  let frozenMs = options.frozenAt === undefined ? undefined : new Date(options.frozenAt).getTime();
  return {
    now: () => new Date(frozenMs ?? Date.now() + offsetMs),
    advance(ms) {
      if (frozenMs !== undefined) frozenMs += ms;
      else offsetMs += ms;
    },
    freeze(at = new Date(Date.now() + offsetMs)) {
      frozenMs = new Date(at).getTime();
    },
    unfreeze() {
      frozenMs = undefined;
    },
  };
}
