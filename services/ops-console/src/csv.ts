// CSV cells as RFC 4180 writes them, safe to open in a spreadsheet: a cell a spreadsheet would
// read as a formula (starting with = + - @, or a tab or carriage return) gets a leading '.
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(cells: string[]): string {
  return cells.map(csvCell).join(',');
}
