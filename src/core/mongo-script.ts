/**
 * The script kubectl-sts runs inside a MongoDB pod with `mongosh --eval` (or the legacy
 * `mongo --eval`): it authenticates when asked (reading the password from its stdin, so the
 * password never appears in a command line), runs replSetGetStatus and replSetGetConfig, and
 * prints one line: MARKER followed by a JSON document with both results (Extended JSON), or the
 * errors the server returned. Pure: builds text and command lines only.
 */

/** Prefix of the one output line the script prints; everything else on stdout is ignored. */
export const PROBE_MARKER = 'KSTS-MONGO-STATUS ';

export type MongoShell = 'mongosh' | 'mongo';

export interface ProbeOptions {
  /** Authenticate as this user (the password arrives on stdin as {"password": "..."}). */
  username?: string | undefined;
  authDb?: string | undefined;
  tls?: boolean | undefined;
  tlsCaFile?: string | undefined;
}

/**
 * The script. Written in plain ES5 so that the legacy shell's older JavaScript engines run it;
 * mongosh has EJSON.stringify, the legacy shell gets a small encoder to the same Extended JSON.
 */
export function probeScript(o: ProbeOptions): string {
  const user = o.username === undefined ? 'null' : JSON.stringify(o.username);
  const authDb = JSON.stringify(o.authDb ?? 'admin');
  return `(function () {
  var out = { probe: 1 };
  function errOf(e) {
    var r = { message: String((e && (e.errmsg || e.message)) || e) };
    if (e && e.code !== undefined) r.code = e.code;
    if (e && e.codeName !== undefined) r.codeName = e.codeName;
    return r;
  }
  function admin(c) {
    try {
      var r = db.getSiblingDB('admin').runCommand(c);
      if (r && (r.ok === 0 || r.ok === false)) return { error: errOf(r) };
      return { doc: r };
    } catch (e) { return { error: errOf(e) }; }
  }
  function readStdinLine() {
    if (typeof require !== 'function') return cat('/dev/stdin');
    // One line, byte by byte: some exec paths never close stdin, so do not wait for its end.
    var fs = require('fs'), one = Buffer.alloc(1), bytes = [], n;
    for (;;) {
      try { n = fs.readSync(0, one, 0, 1, null); } catch (e) { if (e.code === 'EAGAIN') continue; throw e; }
      if (n === 0 || one[0] === 10) break;
      bytes.push(one[0]);
    }
    return Buffer.from(bytes).toString('utf8');
  }
  function legacyJson(v) {
    function enc(x) {
      if (x === null || x === undefined) return null;
      if (x instanceof Date) return { $date: isNaN(x.getTime()) ? 0 : x.toISOString() };
      if (typeof Timestamp !== 'undefined' && x instanceof Timestamp) {
        return { $timestamp: { t: typeof x.t === 'number' ? x.t : x.getTime(), i: typeof x.i === 'number' ? x.i : x.getInc() } };
      }
      if (typeof NumberLong !== 'undefined' && x instanceof NumberLong) {
        var m = /-?\\d+/.exec(String(x));
        return { $numberLong: m ? m[0] : String(x.toNumber()) };
      }
      if (typeof NumberInt !== 'undefined' && x instanceof NumberInt) return x.toNumber();
      if (typeof NumberDecimal !== 'undefined' && x instanceof NumberDecimal) return { $numberDecimal: String(x).replace(/^NumberDecimal\\("?|"?\\)$/g, '') };
      if (typeof ObjectId !== 'undefined' && x instanceof ObjectId) return { $oid: x.str };
      if (typeof BinData !== 'undefined' && x instanceof BinData) return { $binary: { base64: x.base64(), subType: '00' } };
      if (x instanceof Array) { var a = []; for (var j = 0; j < x.length; j++) a.push(enc(x[j])); return a; }
      if (typeof x === 'object') {
        var o = {};
        for (var k in x) if (Object.prototype.hasOwnProperty.call(x, k) && typeof x[k] !== 'function') o[k] = enc(x[k]);
        return o;
      }
      return x;
    }
    return JSON.stringify(enc(v));
  }
  try { out.version = db.version(); } catch (e) {}
  var user = ${user};
  if (user !== null) {
    out.user = user;
    out.authDb = ${authDb};
    var password;
    try { password = JSON.parse(readStdinLine()).password; } catch (e) { out.authError = { message: 'could not read the password from stdin: ' + errOf(e).message }; }
    if (password !== undefined) {
      try {
        var ok = db.getSiblingDB(out.authDb).auth(user, password);
        if (ok === 0 || ok === false || (ok && ok.ok === 0)) out.authError = { message: 'Authentication failed.', code: 18, codeName: 'AuthenticationFailed' };
      } catch (e) { out.authError = errOf(e); }
    }
    password = undefined;
  }
  if (!out.authError) {
    var s = admin({ replSetGetStatus: 1 });
    if (s.doc) out.status = s.doc; else out.statusError = s.error;
    var c = admin({ replSetGetConfig: 1 });
    if (c.doc) out.config = c.doc.config; else out.configError = c.error;
  }
  print(${JSON.stringify(PROBE_MARKER)} + (typeof EJSON !== 'undefined' ? EJSON.stringify(out, { relaxed: true }) : legacyJson(out)));
})();`;
}

/** The command line: `mongosh --quiet --norc [--tls [--tlsCAFile F]] --eval SCRIPT`. */
export function probeCommand(shell: MongoShell, o: ProbeOptions): string[] {
  const cmd = [shell, '--quiet', '--norc'];
  if (o.tls || o.tlsCaFile) cmd.push('--tls');
  if (o.tlsCaFile) cmd.push('--tlsCAFile', o.tlsCaFile);
  cmd.push('--eval', probeScript(o));
  return cmd;
}

/** What goes to the shell's stdin: the password, as JSON (undefined when no login is asked). */
export function probeStdin(password: string | undefined): string | undefined {
  return password === undefined ? undefined : `${JSON.stringify({ password })}\n`;
}
