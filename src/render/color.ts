/** ANSI colors, applied only when the caller says color is on (a TTY and no NO_COLOR / --no-color). */
export interface Palette {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export function palette(enabled: boolean): Palette {
  if (!enabled) {
    const id = (s: string) => s;
    return { red: id, green: id, yellow: id, cyan: id, bold: id, dim: id };
  }
  return { red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39), bold: wrap(1, 22), dim: wrap(2, 22) };
}

/** Whether to color: kubectl-style, off for pipes, NO_COLOR (any value) and --no-color. */
export function colorEnabled(isTTY: boolean | undefined, env: Record<string, string | undefined>, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined) return false;
  if (env.TERM === 'dumb') return false;
  return Boolean(isTTY);
}
