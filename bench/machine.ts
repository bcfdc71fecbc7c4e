// The facts of the machine a run was made on, and how busy it was: on a shared 2-core machine
// another process's build shows up in every latency, so the report says what else was running.

import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  redis: string;
  date: string;
  /** 1-minute load average when the run started and when it ended. */
  loadAtStart: number;
  loadAtEnd: number;
  /** Share of all cores busy during one second before the run started (other processes). */
  busyBeforeStartPct: number;
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return match?.[1].trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** [busy, total] jiffies of all cores, from /proc/stat; zeros where there is none. */
function cpuTimes(): [number, number] {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, n) => sum + n, 0);
    const idle = fields[3] + (fields[4] ?? 0);
    return [total - idle, total];
  } catch {
    return [0, 0];
  }
}

/** How busy the machine is over `ms`, in percent of all cores. */
export async function sampleBusy(ms: number): Promise<number> {
  const [busy0, total0] = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const [busy1, total1] = cpuTimes();
  return total1 > total0 ? Math.round((100 * (busy1 - busy0)) / (total1 - total0)) : NaN;
}

export function describeMachine(
  redisVersion: string,
  startedAt: { date: Date; load: number; busyPct: number },
): Machine {
  return {
    cores: availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    redis: redisVersion,
    date: startedAt.date.toISOString(),
    loadAtStart: startedAt.load,
    loadAtEnd: Math.round(loadavg()[0] * 100) / 100,
    busyBeforeStartPct: startedAt.busyPct,
  };
}

export function currentLoad(): number {
  return Math.round(loadavg()[0] * 100) / 100;
}
