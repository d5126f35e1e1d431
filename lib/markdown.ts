/** Markdown helpers for step summaries. */

/** Cells are escaped so a value cannot break the table. */
function escapeCell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => escapeCell(String(c))).join(' | ')} |`;
  return [line(header), `|${header.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n');
}

export function code(value: string): string {
  return value === '' ? '' : `\`${value.replace(/`/g, "'")}\``;
}
