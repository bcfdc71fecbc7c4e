// When personal data was last reported, and who reports now: the state of the reporting cycle
// that must survive restarts and be shared by every app process.

import { randomBytes } from 'node:crypto';

/** A held lease: only its holder runs a reporting cycle. */
export interface ReportLease {
  /** Gives the lease up (only if it is still this holder's). */
  release(): Promise<void>;
}

/** The reporting cycle's shared state. */
export interface ReportSchedule {
  /** When the last complete cycle finished, epoch ms; `undefined` if none ever did. */
  lastCompletedAt(): Promise<number | undefined>;
  /** Records a complete cycle. */
  completed(at: number): Promise<void>;
  /** The lease for `ms`, or `undefined` when another holder has it. */
  tryLease(ms: number): Promise<ReportLease | undefined>;
}

/** A random lease token: a holder releases only its own lease. */
export function leaseToken(): string {
  return randomBytes(16).toString('base64url');
}

/** The schedule in this process's memory: right for one process (the sandbox, tests). */
export class MemoryReportSchedule implements ReportSchedule {
  private last?: number;
  private lease?: { token: string; until: number };

  constructor(private readonly now: () => number = Date.now) {}

  async lastCompletedAt(): Promise<number | undefined> {
    return this.last;
  }

  async completed(at: number): Promise<void> {
    this.last = at;
  }

  async tryLease(ms: number): Promise<ReportLease | undefined> {
    const now = this.now();
    if (this.lease && this.lease.until > now) return undefined;
    const token = leaseToken();
    this.lease = { token, until: now + ms };
    return {
      release: async () => {
        if (this.lease?.token === token) this.lease = undefined;
      },
    };
  }
}
