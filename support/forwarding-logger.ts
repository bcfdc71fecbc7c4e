// A capturing logger for child processes that also tells the parent, over IPC, when one of the
// events it waits for is logged: tests wait on that message instead of sleeping.

import { type CaptureLogger, captureLogger } from './capture-logger';

/** The message a child sends for a forwarded log event. Only the event name and reason travel. */
export interface EventMessage {
  type: 'event';
  event: string;
  reason?: string;
}

/** A {@link CaptureLogger} that also sends the parent an {@link EventMessage} for each of `events`. */
export function forwardingLogger(events: readonly string[]): CaptureLogger {
  const capture = captureLogger();
  const forward = (obj: Record<string, unknown>): void => {
    if (typeof obj.event !== 'string' || !events.includes(obj.event)) return;
    const reason = typeof obj.reason === 'string' ? obj.reason : undefined;
    process.send?.({ type: 'event', event: obj.event, reason } satisfies EventMessage);
  };
  const level =
    (log: CaptureLogger['info']) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      log(obj, msg);
      forward(obj);
    };
  return {
    ...capture,
    debug: level(capture.debug),
    info: level(capture.info),
    warn: level(capture.warn),
    error: level(capture.error),
  };
}
