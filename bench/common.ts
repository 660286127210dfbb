// Figures shared by the benchmarks: percentiles, memory, sizes.
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Peak resident memory of another process (Linux /proc); 0 where unknown. */
export async function processPeakRss(pid: number | undefined): Promise<number> {
  if (!pid) return 0;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(status.match(/VmHWM:\s+(\d+) kB/)?.[1] ?? 0) * 1024;
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** Peak resident memory of this process. */
export const peakRss = () => process.resourceUsage().maxRSS * 1024;

/** The machine line every benchmark report starts with. */
export const machine = () =>
  `${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, ${mb(totalmem())}, Node ${process.version}`;
