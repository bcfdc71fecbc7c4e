// Plain-text tables: a header, a rule, rows; numbers right-aligned.

export type Cell = string | number | undefined;

function show(cell: Cell): string {
  if (cell === undefined) return '–';
  if (typeof cell === 'number') return Number.isFinite(cell) ? cell.toLocaleString('en-US') : '–';
  return cell;
}

export function renderTable(headers: string[], rows: Cell[][]): string {
  const text = rows.map((row) => row.map(show));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => row[i]?.length ?? 0)));
  const numeric = headers.map((_, i) => rows.every((row) => typeof row[i] !== 'string'));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}

/** The same table in Markdown, for docs/BENCHMARKS.md. */
export function renderMarkdown(headers: string[], rows: Cell[][]): string {
  const numeric = headers.map((_, i) => rows.every((row) => typeof row[i] !== 'string'));
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [
    line(headers),
    line(numeric.map((n) => (n ? '---:' : '---'))),
    ...rows.map((row) => line(row.map(show))),
  ].join('\n');
}
