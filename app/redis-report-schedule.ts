// The reporting cycle's state in Redis, shared by every app process: the last cycle's time, and a
// lease (SET NX PX) so one process reports at a time.

import type { Redis } from 'ioredis';
import { type ReportLease, type ReportSchedule, leaseToken } from './report-schedule';

/** Deletes the lease only if it is still the caller's (a lapsed lease may be someone else's now). */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** {@link ReportSchedule} in Redis: keys `<prefix>personal-data-report:last` and `:lease`. */
export class RedisReportSchedule implements ReportSchedule {
  private readonly lastKey: string;
  private readonly leaseKey: string;

  /** `redis` is never closed by the schedule. */
  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
  ) {
    this.lastKey = `${keyPrefix}personal-data-report:last`;
    this.leaseKey = `${keyPrefix}personal-data-report:lease`;
  }

  async lastCompletedAt(): Promise<number | undefined> {
    const value = await this.redis.get(this.lastKey);
    const at = value === null ? NaN : Number(value);
    return Number.isFinite(at) ? at : undefined;
  }

  async completed(at: number): Promise<void> {
    await this.redis.set(this.lastKey, String(at));
  }

  async tryLease(ms: number): Promise<ReportLease | undefined> {
    const token = leaseToken();
    if ((await this.redis.set(this.leaseKey, token, 'PX', ms, 'NX')) !== 'OK') return undefined;
    return {
      release: async () => {
        await this.redis.eval(RELEASE, 1, this.leaseKey, token);
      },
    };
  }
}
