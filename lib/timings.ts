// Wall time of a computation's named synchronous steps, for its report (`timingsMs`).

export function stageTimings(): {
  readonly timings: Record<string, number>;
  /** Runs `work`, records its milliseconds under `name`, returns its result. */
  readonly timed: <T>(name: string, work: () => T) => T;
} {
  const timings: Record<string, number> = {};
  const timed = <T>(name: string, work: () => T): T => {
    const start = performance.now();
    const out = work();
    timings[name] = Math.round(performance.now() - start);
    return out;
  };
  return { timings, timed };
}
