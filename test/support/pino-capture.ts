// The app's real pino logger (redaction included) writing into memory: each JSON line is parsed
// back into a CaptureLogger entry, so app tests count events in what would reach stdout.

import { type AppLogger, createLogger } from '../../app/logger';
import type { LogLevel } from '../../app/config';
import { type CaptureLogger, type LogEntry, captureLogger } from '../../support/capture-logger';

export interface PinoCapture {
  logger: AppLogger;
  /** The parsed lines: `obj` is a line without level, time, pid, hostname and msg. */
  capture: CaptureLogger;
  /** The lines exactly as written. */
  lines: string[];
}

export function pinoCapture(level: LogLevel = 'debug'): PinoCapture {
  const capture = captureLogger();
  const lines: string[] = [];
  const destination = {
    write(line: string): void {
      lines.push(line);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      const { level: name, time: _time, pid: _pid, hostname: _hostname, msg, ...obj } = parsed;
      capture[name as LogEntry['level']](obj, msg as string | undefined);
    },
  };
  return { logger: createLogger({ level, destination }), capture, lines };
}
