// CPU time a process tree has used, read from /proc (Linux): how the local stack tells a server that is
// slow to start on a busy machine (it keeps using CPU) from one that hangs (it stops). Elsewhere the
// reading is undefined and callers fall back to a plain deadline.
import { readdir, readFile } from 'node:fs/promises';

interface Stat {
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  readonly ticks: number;
}

async function statOf(pid: number): Promise<Stat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(fields[i - 3] ?? 0);
  return { ppid: n(4), ticks: n(14) + n(15) + n(16) + n(17) };
}

/** Ticks used by `root` and every live descendant; undefined where /proc cannot be read. */
export async function treeCpuTicks(root: number): Promise<number | undefined> {
  const entries = await readdir('/proc').catch(() => undefined);
  if (entries === undefined) return undefined;
  const stats = new Map<number, Stat>();
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = await statOf(pid);
    if (stat !== undefined) stats.set(pid, stat);
  }
  if (!stats.has(root)) return undefined;
  let ticks = 0;
  const tree = new Set([root]);
  // Parents come before children in pid order only mostly: sweep until the tree stops growing.
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, stat] of stats) {
      if (!tree.has(pid) && tree.has(stat.ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of tree) ticks += stats.get(pid)?.ticks ?? 0;
  return ticks;
}
