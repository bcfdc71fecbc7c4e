// The logging seam: a pino-compatible subset, so lib/ never writes to stdout itself.

type LogFn = (obj: Record<string, unknown>, msg?: string) => void;

/** A pino-compatible logger. Only these four levels are used. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const ignore: LogFn = () => undefined;

/** The default: logs nothing. Pass a pino instance to see what the manager does. */
export const silentLogger: Logger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});
