/** CSV reports (RFC 4180) that staff open in a spreadsheet: the pause report, the call data report. */

/**
 * One cell: quoted when it holds a comma, quote or line break; text a spreadsheet would run as a
 * formula (starting `=`, `+`, `-` or `@`) is kept as text with a leading apostrophe.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A header line and one line per row, CRLF-separated and ended. */
export function csvDocument(columns: readonly string[], rows: string[][]): string {
  return [columns.join(','), ...rows.map((row) => row.map(csvCell).join(','))].join('\r\n') + '\r\n';
}
