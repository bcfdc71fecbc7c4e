// Reading one sample out of a Prometheus text exposition, so tests assert exact values.

/**
 * The value of the sample named exactly `series` (`name` or `name{label="v",…}`, labels in the
 * order prom-client writes them), or undefined when the text has no such line.
 */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
