// A logger for the token manager that keeps only when rotations started and ended in this
// process (the manager's `rotation_started` and `rotated` debug events), to split a burst's time
// into its phases. Nothing else is kept, and no token: the events carry fingerprints only.

import type { Logger } from 'jira-token-rotation';
import { epochMs } from '../clock';

export interface RotationMarks {
  /** Holding the lock and the lease, the token request is about to go out. */
  startedAt: number[];
  /** The new tokens are stored; the notice goes out next. */
  rotatedAt: number[];
}

export class RotationTimeline {
  readonly marks: RotationMarks = { startedAt: [], rotatedAt: [] };

  readonly logger: Logger = {
    debug: (fields) => {
      if (fields.event === 'rotation_started') this.marks.startedAt.push(epochMs());
      else if (fields.event === 'rotated') this.marks.rotatedAt.push(epochMs());
    },
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };

  /** The marks since `since` (epoch ms). */
  since(since: number): RotationMarks {
    return {
      startedAt: this.marks.startedAt.filter((t) => t >= since),
      rotatedAt: this.marks.rotatedAt.filter((t) => t >= since),
    };
  }
}
