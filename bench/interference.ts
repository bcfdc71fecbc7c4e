// How much of the machine other processes took while a part ran: all cores' busy time from
// /proc/stat minus our own processes' CPU time from /proc/<pid>/stat (both in clock ticks).
// On a shared 2-core machine this is what tells a slow figure from a busy neighbour.

import { readFileSync } from 'node:fs';

export interface Interference {
  /** Share of all cores in use, by anyone. */
  machineBusyPct: number;
  /** Share of all cores used by this run's processes (orchestrator, simulator, Redis, apps). */
  oursPct: number;
  /** The rest: other processes on the machine. */
  othersPct: number;
}

function machineTicks(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, n) => sum + n, 0);
    return { busy: total - fields[3] - (fields[4] ?? 0), total };
  } catch {
    return null;
  }
}

/** CPU ticks a process has used so far; 0 once it is gone (see {@link OurProcesses.finalTicks}). */
export function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; fields restart after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** The run's processes: those alive now, and the last CPU count of those already stopped. */
export interface OurProcesses {
  pids(): number[];
  finalTicks: ReadonlyMap<number, number>;
}

/** Starts measuring; returns the function that ends the measurement. */
export function meterInterference(ours: OurProcesses): () => Interference | null {
  const ticks = (pid: number): number => ours.finalTicks.get(pid) ?? processTicks(pid);
  const machine0 = machineTicks();
  const ours0 = new Map([...ours.pids(), ...ours.finalTicks.keys()].map((pid) => [pid, ticks(pid)]));
  return () => {
    const machine1 = machineTicks();
    if (!machine0 || !machine1 || machine1.total <= machine0.total) return null;
    let mine = 0;
    const all = new Set([...ours0.keys(), ...ours.pids(), ...ours.finalTicks.keys()]);
    for (const pid of all) mine += ticks(pid) - (ours0.get(pid) ?? 0);
    const total = machine1.total - machine0.total;
    const busy = machine1.busy - machine0.busy;
    const pct = (ticks: number): number => Math.max(0, Math.round((100 * ticks) / total));
    return { machineBusyPct: pct(busy), oursPct: pct(mine), othersPct: pct(busy - mine) };
  };
}
