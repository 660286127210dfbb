// The local stack's hang detector reads a process tree's CPU time from /proc: a busy grandchild counts,
// a sleeping tree stays still, a pid that is gone reads as undefined.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { treeCpuTicks } from '../../local/processCpu.js';

const spawnTree = (script: string) => spawn('bash', ['-c', script], { stdio: 'ignore' });

/** The tree's ticks once its start-up is over (two readings 500 ms apart agree): a busy machine is slow to fork. */
async function settled(pid: number): Promise<number | undefined> {
  let last = await treeCpuTicks(pid);
  for (let i = 0; i < 40; i++) {
    await sleep(500);
    const now = await treeCpuTicks(pid);
    if (now === last) return now;
    last = now;
  }
  return last;
}

describe.skipIf(!existsSync('/proc/self/stat'))('treeCpuTicks', () => {
  it('counts a busy grandchild and stays still for a sleeping tree', async () => {
    const busy = spawnTree('yes > /dev/null & wait');
    const idle = spawnTree('sleep 30 & wait');
    try {
      const idleBefore = await settled(idle.pid ?? -1);
      const busyBefore = await treeCpuTicks(busy.pid ?? -1);
      await sleep(1_500);
      const [busyAfter, idleAfter] = [await treeCpuTicks(busy.pid ?? -1), await treeCpuTicks(idle.pid ?? -1)];
      expect(busyAfter).toBeGreaterThan(busyBefore ?? Number.POSITIVE_INFINITY);
      expect(idleAfter).toBe(idleBefore);
    } finally {
      for (const child of [busy, idle]) spawn('pkill', ['-P', String(child.pid)]);
    }
  });

  it('reads a process that is gone as undefined', async () => {
    const done = spawnTree('true');
    await new Promise((resolve) => done.on('exit', resolve));
    expect(await treeCpuTicks(done.pid ?? -1)).toBeUndefined();
  });
});
