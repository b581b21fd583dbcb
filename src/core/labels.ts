import type { LabelSelector } from './types.js';

/** Whether a LabelSelector (matchLabels + matchExpressions) selects the given labels. An empty selector selects everything. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) {
    if (l[k] !== v) return false;
  }
  for (const e of selector?.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(l[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** Whether a Service-style selector (plain map) selects the labels; an empty map selects nothing, as for Services. */
export function mapSelectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  if (entries.length === 0) return false;
  return entries.every(([k, v]) => labels?.[k] === v);
}

/** Renders a LabelSelector in the `-l` syntax the API's labelSelector parameter takes. */
export function selectorToString(selector: LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const vals = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** Parses the equality/set-based `-l` syntax (a=b, a!=b, a in (x,y), a notin (x), a, !a) into a LabelSelector. */
export function parseSelector(text: string): LabelSelector {
  const sel: Required<LabelSelector> = { matchLabels: {}, matchExpressions: [] };
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    if (!p) continue;
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      sel.matchExpressions.push({
        key: m[1]!,
        operator: m[2] === 'in' ? 'In' : 'NotIn',
        values: m[3]!.split(',').map((v) => v.trim()).filter(Boolean),
      });
    } else if ((m = p.match(/^([\w./-]+)\s*!=\s*([\w.-]*)$/))) {
      sel.matchExpressions.push({ key: m[1]!, operator: 'NotIn', values: [m[2]!] });
    } else if ((m = p.match(/^([\w./-]+)\s*==?\s*([\w.-]*)$/))) {
      sel.matchLabels[m[1]!] = m[2]!;
    } else if ((m = p.match(/^!([\w./-]+)$/))) {
      sel.matchExpressions.push({ key: m[1]!, operator: 'DoesNotExist' });
    } else if ((m = p.match(/^([\w./-]+)$/))) {
      sel.matchExpressions.push({ key: m[1]!, operator: 'Exists' });
    } else {
      throw new Error(`unable to parse label selector requirement "${p}"`);
    }
  }
  return sel;
}
