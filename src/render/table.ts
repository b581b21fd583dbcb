/**
 * kubectl-style tables: upper-case headers, no borders, columns three spaces apart, built with
 * cli-table3 so wide cells and ANSI colors are measured correctly.
 */
import Table from 'cli-table3';

const NO_BORDER = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '   ',
};

export function renderTable(headers: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head: headers.map((h) => h.toUpperCase()),
    chars: NO_BORDER,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    wordWrap: false,
  });
  for (const r of rows) t.push(r.map((c) => String(c)));
  // cli-table3 pads the last column too; kubectl does not.
  return t
    .toString()
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n') + '\n';
}
