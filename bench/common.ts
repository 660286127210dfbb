// Shared by the benchmarks: percentiles, memory, sizes, and request bodies as a Segment SDK sends them.
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import type { SpecEventInput } from '../lib/ingest/spec.js';

/** The p-th percentile of sorted figures; `whenEmpty` where there are none (NaN prints as such in a table). */
export function percentile(sorted: number[], p: number, whenEmpty = Number.NaN): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? whenEmpty;
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

/** What a Segment SDK sends: batches of at most `maxEvents` events and 480 KB. */
export function segmentBodies(
  events: SpecEventInput[],
  sentAt: string,
  maxEvents = 500,
): { body: string; count: number }[] {
  const bodies: { body: string; count: number }[] = [];
  let parts: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (parts.length === 0) return;
    bodies.push({ body: `{"batch":[${parts.join(',')}],"sentAt":"${sentAt}"}`, count: parts.length });
    parts = [];
    bytes = 0;
  };
  for (const e of events) {
    const json = JSON.stringify(e);
    if (parts.length === maxEvents || bytes + json.length > 480 * 1024) flush();
    parts.push(json);
    bytes += json.length + 1;
  }
  flush();
  return bodies;
}
