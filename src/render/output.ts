/** Structured output (-o json|yaml|name) and the output-format type shared by every command. */
import { dump } from 'js-yaml';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function isStructured(o: OutputFormat): boolean {
  return o === 'json' || o === 'yaml';
}

/** Prints a command's documented result object as JSON (2-space, trailing newline) or YAML. */
export function renderStructured(value: unknown, format: 'json' | 'yaml'): string {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  return dump(value, { noRefs: true, lineWidth: -1, sortKeys: false });
}
