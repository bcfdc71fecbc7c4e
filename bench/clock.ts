// Epoch milliseconds with sub-millisecond precision, comparable across the processes of a run.

import { performance } from 'node:perf_hooks';

export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
