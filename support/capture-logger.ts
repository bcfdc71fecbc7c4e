// A Logger that keeps every entry, so tests and chaos workers can count events and prove no secret
// was logged.

import type { Logger } from 'jira-token-rotation';

/** One logged line, as the manager passed it. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg?: string;
}

/** A {@link Logger} that keeps what it is given. */
export interface CaptureLogger extends Logger {
  entries: LogEntry[];
  /** Entries whose `event` field is `event`. */
  events(event: string): LogEntry[];
  /** Resolves at the first entry (past or future) with this event. */
  waitForEvent(event: string): Promise<LogEntry>;
  /** Resolves once `count` entries (past or future) have this event. */
  waitForEvents(event: string, count: number): Promise<LogEntry[]>;
  /** Everything logged, as one string, for secret scans. */
  text(): string;
}

/** A new, empty {@link CaptureLogger}. */
export function captureLogger(): CaptureLogger {
  const entries: LogEntry[] = [];
  const waiters: Array<{ event: string; resolve: (entry: LogEntry) => void }> = [];
  const counters: Array<{ event: string; count: number; resolve: (entries: LogEntry[]) => void }> = [];
  const matching = (event: string): LogEntry[] => entries.filter((e) => e.obj.event === event);
  const log =
    (level: LogEntry['level']) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      const entry = { level, obj, msg };
      entries.push(entry);
      for (const waiter of [...waiters]) {
        if (obj.event === waiter.event) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(entry);
        }
      }
      for (const counter of [...counters]) {
        const found = matching(counter.event);
        if (found.length < counter.count) continue;
        counters.splice(counters.indexOf(counter), 1);
        counter.resolve(found);
      }
    };
  return {
    entries,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    events: matching,
    waitForEvent: (event) => {
      const found = entries.find((e) => e.obj.event === event);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ event, resolve }));
    },
    waitForEvents: (event, count) => {
      const found = matching(event);
      if (found.length >= count) return Promise.resolve(found);
      return new Promise((resolve) => counters.push({ event, count, resolve }));
    },
    text: () => entries.map((e) => `${e.msg ?? ''} ${JSON.stringify(e.obj, replaceErrors)}`).join('\n'),
  };
}

function replaceErrors(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
}
