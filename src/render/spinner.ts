/**
 * Progress on stderr: an ora spinner when stderr is a terminal and the output is for a person;
 * otherwise nothing at all (no progress lines in pipes, CI logs or json/yaml output).
 */
export interface Spinner {
  start(text: string): void;
  update(text: string): void;
  /** Clears the spinner, leaving an optional final line on stderr. */
  stop(finalLine?: string): void;
}

export const silentSpinner: Spinner = { start() {}, update() {}, stop() {} };

export async function makeSpinner(stream: NodeJS.WriteStream, enabled: boolean): Promise<Spinner> {
  if (!enabled || !stream.isTTY) return silentSpinner;
  const { default: ora } = await import('ora');
  const s = ora({ stream, discardStdin: false });
  return {
    start: (text) => void s.start(text),
    update: (text) => {
      s.text = text;
    },
    stop: (finalLine) => {
      if (finalLine) s.stopAndPersist({ symbol: ' ', text: finalLine });
      else s.stop();
    },
  };
}
