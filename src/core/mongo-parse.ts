/**
 * Reading what a MongoDB shell prints: Extended JSON v2 (canonical and relaxed, as mongosh's
 * EJSON.stringify writes it, plus the v1 forms older tools use) and the shell's own notation
 * (`ISODate("...")`, `Timestamp(1, 2)`, `Timestamp({ t: 1, i: 2 })`, `NumberLong(5)`, `Long("5")`,
 * `ObjectId("...")`, `BinData(0, "...")`, unquoted keys, trailing commas) as printed by
 * `rs.status()` in the legacy `mongo` shell and in mongosh. Pure.
 *
 * Decoded values: dates become `Date`, timestamps `BsonTimestamp`, 64/32-bit integers and doubles
 * plain numbers, ObjectIds their hex string, binary data its base64 string.
 */

/** A BSON Timestamp: seconds since the epoch and an ordinal within that second. */
export class BsonTimestamp {
  constructor(
    readonly t: number,
    readonly i: number,
  ) {}
  toJSON(): { $timestamp: { t: number; i: number } } {
    return { $timestamp: { t: this.t, i: this.i } };
  }
}

export class MongoParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MongoParseError';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof BsonTimestamp);
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (v === 'NaN') return NaN;
    return Number(v);
  }
  if (isPlainObject(v)) {
    if ('$numberLong' in v) return toNumber(v.$numberLong);
    if ('$numberInt' in v) return toNumber(v.$numberInt);
    if ('$numberDouble' in v) return toNumber(v.$numberDouble);
  }
  return NaN;
}

function decodeDate(v: unknown): Date {
  // v2 relaxed: ISO string; v2 canonical: {$numberLong: "ms"}; v1: number of ms.
  if (typeof v === 'string') return new Date(v);
  return new Date(toNumber(v));
}

/** Turns one Extended JSON wrapper object into its value, or returns undefined if it is not one. */
function decodeWrapper(o: Record<string, unknown>): { value: unknown } | undefined {
  const keys = Object.keys(o);
  if (keys.length === 0 || !keys[0]!.startsWith('$')) return undefined;
  const k = keys[0]!;
  if (keys.length === 1) {
    switch (k) {
      case '$date':
        return { value: decodeDate(o.$date) };
      case '$timestamp': {
        const ts = o.$timestamp as { t?: unknown; i?: unknown } | undefined;
        return { value: new BsonTimestamp(toNumber(ts?.t), toNumber(ts?.i)) };
      }
      case '$numberLong':
      case '$numberInt':
      case '$numberDouble':
        return { value: toNumber(o) };
      case '$numberDecimal':
        return { value: Number(o.$numberDecimal) };
      case '$oid':
        return { value: String(o.$oid) };
      case '$binary': {
        const b = o.$binary;
        return { value: isPlainObject(b) ? String(b.base64 ?? '') : String(b) };
      }
      case '$symbol':
        return { value: String(o.$symbol) };
      case '$undefined':
        return { value: undefined };
      case '$minKey':
        return { value: '$minKey' };
      case '$maxKey':
        return { value: '$maxKey' };
      case '$regularExpression': {
        const r = o.$regularExpression as { pattern?: string; options?: string };
        return { value: `/${r.pattern ?? ''}/${r.options ?? ''}` };
      }
      default:
        return undefined;
    }
  }
  if (keys.length === 2 && '$binary' in o && '$type' in o) return { value: String(o.$binary) }; // v1 binary
  if (keys.length === 2 && '$regex' in o && '$options' in o) return { value: `/${String(o.$regex)}/${String(o.$options)}` };
  return undefined;
}

/** Decodes Extended JSON wrappers (v2 canonical/relaxed and v1) anywhere in a JSON.parse result. */
export function decodeExtendedJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeExtendedJson);
  if (!isPlainObject(value)) return value;
  const w = decodeWrapper(value);
  if (w) return w.value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = decodeExtendedJson(v);
  return out;
}

/** Parses Extended JSON text. */
export function parseExtendedJson(text: string): unknown {
  return decodeExtendedJson(JSON.parse(text));
}

// ---------------------------------------------------------------------------------------------
// Shell notation: a small recursive-descent parser for the JavaScript-literal subset the shells print.

class ShellParser {
  private pos = 0;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    const line = this.s.slice(0, this.pos).split('\n').length;
    throw new MongoParseError(`${what} at line ${line} (near ${JSON.stringify(this.s.slice(this.pos, this.pos + 20))})`);
  }

  private skip(): void {
    for (;;) {
      const c = this.s[this.pos];
      if (c === undefined) return;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
        this.pos++;
      } else if (c === '/' && this.s[this.pos + 1] === '/') {
        while (this.pos < this.s.length && this.s[this.pos] !== '\n') this.pos++;
      } else if (c === '/' && this.s[this.pos + 1] === '*') {
        const end = this.s.indexOf('*/', this.pos + 2);
        this.pos = end < 0 ? this.s.length : end + 2;
      } else return;
    }
  }

  peek(): string | undefined {
    this.skip();
    return this.s[this.pos];
  }

  private expect(c: string): void {
    if (this.peek() !== c) this.fail(`expected "${c}"`);
    this.pos++;
  }

  atEnd(): boolean {
    return this.peek() === undefined;
  }

  value(): unknown {
    const c = this.peek();
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"' || c === "'") return this.string();
    if (c !== undefined && /[-+0-9.]/.test(c)) return this.number();
    if (c !== undefined && /[A-Za-z_$]/.test(c)) return this.word();
    return this.fail('unexpected input');
  }

  private object(): Record<string, unknown> {
    this.expect('{');
    const out: Record<string, unknown> = {};
    while (this.peek() !== '}') {
      const c = this.peek();
      let key: string;
      if (c === '"' || c === "'") key = this.string();
      else {
        const m = /^[A-Za-z0-9_$]+/.exec(this.s.slice(this.pos));
        if (!m) this.fail('expected a key');
        key = m[0];
        this.pos += key.length;
      }
      this.expect(':');
      out[key] = this.value();
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== '}') this.fail('expected "," or "}"');
    }
    this.pos++;
    return out;
  }

  private array(): unknown[] {
    this.expect('[');
    const out: unknown[] = [];
    while (this.peek() !== ']') {
      out.push(this.value());
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== ']') this.fail('expected "," or "]"');
    }
    this.pos++;
    return out;
  }

  private string(): string {
    const q = this.s[this.pos]!;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.s[this.pos];
      if (c === undefined) this.fail('unterminated string');
      this.pos++;
      if (c === q) return out;
      if (c === '\\') {
        const e = this.s[this.pos++];
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0' };
        if (e === 'u') {
          out += String.fromCharCode(parseInt(this.s.slice(this.pos, this.pos + 4), 16));
          this.pos += 4;
        } else if (e === 'x') {
          out += String.fromCharCode(parseInt(this.s.slice(this.pos, this.pos + 2), 16));
          this.pos += 2;
        } else out += e !== undefined && e in simple ? simple[e] : (e ?? '');
      } else out += c;
    }
  }

  private number(): number {
    const m = /^[-+]?(Infinity|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)/.exec(this.s.slice(this.pos));
    if (!m) this.fail('bad number');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private args(): unknown[] {
    this.expect('(');
    const out: unknown[] = [];
    while (this.peek() !== ')') {
      out.push(this.value());
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== ')') this.fail('expected "," or ")"');
    }
    this.pos++;
    return out;
  }

  private word(): unknown {
    const m = /^[A-Za-z_$][A-Za-z0-9_$.]*/.exec(this.s.slice(this.pos))!;
    let name = m[0];
    this.pos += name.length;
    if (name === 'new') {
      this.skip();
      const n = /^[A-Za-z_$][A-Za-z0-9_$.]*/.exec(this.s.slice(this.pos));
      if (!n) this.fail('expected a constructor after "new"');
      name = n[0];
      this.pos += name.length;
    }
    switch (name) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'null':
        return null;
      case 'undefined':
        return undefined;
      case 'NaN':
        return NaN;
      case 'Infinity':
        return Infinity;
    }
    if (this.peek() !== '(') this.fail(`unknown word "${name}"`);
    return construct(name, this.args(), this);
  }
}

function construct(name: string, a: unknown[], p: ShellParser): unknown {
  switch (name) {
    case 'ISODate':
    case 'Date':
      return a.length === 0 ? new Date(NaN) : decodeDate(a[0]);
    case 'Timestamp': {
      if (a.length === 1 && isPlainObject(a[0])) return new BsonTimestamp(toNumber(a[0].t), toNumber(a[0].i));
      return new BsonTimestamp(toNumber(a[0]), toNumber(a[1]));
    }
    case 'NumberLong':
    case 'Long':
    case 'NumberInt':
    case 'Int32':
    case 'Double':
    case 'NumberDecimal':
    case 'Decimal128':
      return toNumber(a[0]);
    case 'ObjectId':
    case 'ObjectID':
    case 'UUID':
      return String(a[0] ?? '');
    case 'BinData':
      return String(a[1] ?? '');
    case 'Binary':
    case 'Binary.createFromBase64':
      return String(a[0] ?? '');
    case 'MinKey':
      return '$minKey';
    case 'MaxKey':
      return '$maxKey';
    default:
      return p.fail(`unknown constructor ${name}()`);
  }
}

/**
 * Parses one document in shell notation (or plain JSON / Extended JSON: both are subsets of what
 * this accepts). Extended JSON wrappers inside are decoded too.
 */
export function parseShellDocument(text: string): unknown {
  const p = new ShellParser(text);
  const v = p.value();
  if (!p.atEnd()) p.fail('unexpected text after the document');
  return decodeExtendedJson(v);
}

// ---------------------------------------------------------------------------------------------
// The probe script's output (see mongo-script.ts).

/** An error document as the server or the shell reported it. */
export interface MongoErrorInfo {
  message: string;
  code?: number;
  codeName?: string;
}

/** What the probe script printed, decoded. Documents are left loosely typed here; mongo.ts reads them. */
export interface ProbeOutput {
  version?: string;
  user?: string;
  authDb?: string;
  authError?: MongoErrorInfo;
  status?: Record<string, unknown>;
  statusError?: MongoErrorInfo;
  config?: Record<string, unknown>;
  configError?: MongoErrorInfo;
}

/**
 * Finds the probe's line in a shell's stdout (banners, warnings and other lines are skipped) and
 * decodes it. Undefined when the line is missing (the shell failed before printing it).
 */
export function parseProbeOutput(stdout: string, marker: string): ProbeOutput | undefined {
  const lines = stdout.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const at = lines[i]!.indexOf(marker);
    if (at < 0) continue;
    const text = lines[i]!.slice(at + marker.length).trim();
    try {
      return parseExtendedJson(text) as ProbeOutput;
    } catch (e) {
      throw new MongoParseError(`the MongoDB shell printed a status line that is not valid JSON: ${(e as Error).message}`);
    }
  }
  return undefined;
}
