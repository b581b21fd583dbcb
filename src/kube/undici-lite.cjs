'use strict';
// What the built binary's API layer takes from undici (`fetch`, `Agent`, `ProxyAgent`), made
// cheap to load. scripts/build.mjs points every `undici` import of kube.cjs (src/kube/client.ts
// and client-node) here; tests from source use undici itself.
//
// Why (issue 15, README "Measured figures"): loading undici (its index barrel, its HTTP/2 client,
// perf_hooks, worker_threads, ...) was the largest part of what a fresh process paid before its
// first request. client-node builds its dispatcher with `new Agent({ connect: tlsOptions })` for
// a plain kubeconfig (certificates, token, CA): such an Agent is served here by node:https with
// one keep-alive agent per Agent. Everything else goes to the real undici, loaded on first use:
// ProxyAgent (proxy-url), an Agent with a custom connector (socks5), any other dispatcher.
//
// The Response it gives has what the access layer reads: ok, status, statusText,
// headers.get(), text(), json(), arrayBuffer() and body (a web ReadableStream). Errors are
// shaped like undici's: a failed connection rejects with TypeError("fetch failed") whose cause is
// the socket error (code ECONNREFUSED, ECONNRESET, ...); an abort rejects with signal.reason.

// The real undici, loaded on first need, whole: its index also mixes the request API
// (connect, request, ...) into every dispatcher, which ProxyAgent relies on.
let real;
const undici = () => (real ??= require('undici/index.js'));

const LIGHT_TLS_KEYS = new Set(['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'keepAlive', 'keepAliveInitialDelay']);

/** undici's Agent when the options ask for more than TLS material (then it *is* an undici Agent). */
class Agent {
  constructor(opts = {}) {
    const connect = opts.connect;
    const plain =
      Object.keys(opts).every((k) => k === 'connect') &&
      (connect === undefined || (typeof connect === 'object' && connect !== null && Object.keys(connect).every((k) => LIGHT_TLS_KEYS.has(k))));
    if (!plain) return new (undici().Agent)(opts);
    this.connectOptions = { ...(connect ?? {}) };
    this.agents = {};
  }

  /** The node:http(s) agent for a protocol, made on first use (one keep-alive pool per protocol). */
  nodeAgent(protocol) {
    if (!this.agents[protocol]) {
      const { keepAlive, keepAliveInitialDelay, ca, cert, key, pfx, passphrase, ...rest } = this.connectOptions;
      const o = { keepAlive: true, keepAliveMsecs: keepAliveInitialDelay ?? 30_000 };
      if (protocol === 'https:') {
        // One secure context for every connection: parsing the CA, certificate and key once.
        const secureContext = require('node:tls').createSecureContext({ ca, cert, key, pfx, passphrase });
        this.agents[protocol] = new (require('node:https').Agent)({ ...o, ...rest, secureContext });
      } else {
        this.agents[protocol] = new (require('node:http').Agent)(o);
      }
    }
    return this.agents[protocol];
  }

  close() {
    for (const a of Object.values(this.agents ?? {})) a.destroy();
    return Promise.resolve();
  }

  destroy() {
    return this.close();
  }
}

let defaultAgent;

function fetch(input, init = {}) {
  const d = init.dispatcher;
  if (d !== undefined && !(d instanceof Agent && d.connectOptions)) {
    // ProxyAgent, socks connector, or anything else undici understands.
    return undici().fetch(input, init);
  }
  return nodeFetch(new URL(String(input)), init, d ?? (defaultAgent ??= new Agent()));
}

function fetchFailed(cause) {
  return new TypeError('fetch failed', { cause });
}

function nodeFetch(url, init, agent) {
  const signal = init.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return Promise.reject(fetchFailed(new Error(`unsupported protocol ${url.protocol}`)));
  const mod = url.protocol === 'https:' ? require('node:https') : require('node:http');
  const headers = {};
  for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
  headers['accept-encoding'] ??= 'gzip';
  const body = init.body === undefined || init.body === null ? undefined : Buffer.from(String(init.body));
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    let settled = false;
    let response;
    const req = mod.request(url, { method: init.method ?? 'GET', headers, agent: agent.nodeAgent(url.protocol) });
    const onAbort = () => {
      const reason = signal.reason;
      req.destroy(reason);
      response?.destroy(reason);
      if (!settled) {
        settled = true;
        reject(reason);
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    req.on('error', (err) => {
      done();
      if (settled) return;
      settled = true;
      reject(signal?.aborted ? signal.reason : fetchFailed(err));
    });
    req.on('response', (msg) => {
      response = msg;
      msg.on('close', done);
      settled = true;
      resolve(new LiteResponse(msg, signal));
    });
    req.end(body);
  });
}

class LiteHeaders {
  constructor(raw) {
    this.raw = raw;
  }
  get(name) {
    const v = this.raw[String(name).toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : String(v);
  }
  has(name) {
    return this.raw[String(name).toLowerCase()] !== undefined;
  }
  forEach(fn) {
    for (const k of Object.keys(this.raw)) fn(this.get(k), k, this);
  }
}

class LiteResponse {
  constructor(msg, signal) {
    this.msg = msg;
    this.signal = signal;
    this.status = msg.statusCode;
    this.statusText = msg.statusMessage ?? '';
    this.ok = this.status >= 200 && this.status < 300;
    this.headers = new LiteHeaders(msg.headers);
    this.bodyUsed = false;
    this.decoded = undefined;
  }

  /** The body as a Node stream, gunzipped when the server compressed it. */
  stream() {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    this.bodyUsed = true;
    const enc = String(this.msg.headers['content-encoding'] ?? '').toLowerCase();
    if (enc !== 'gzip' && enc !== 'x-gzip' && enc !== 'deflate') return this.msg;
    const zlib = require('node:zlib');
    const z = enc === 'deflate' ? zlib.createInflate() : zlib.createGunzip();
    this.msg.on('error', (e) => z.destroy(e));
    this.msg.on('aborted', () => z.destroy(terminated()));
    return this.msg.pipe(z);
  }

  get body() {
    if (this.webBody === undefined) this.webBody = require('node:stream').Readable.toWeb(this.stream());
    return this.webBody;
  }

  async arrayBuffer() {
    const b = await this.buffer();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  }

  buffer() {
    const s = this.stream();
    return new Promise((resolve, reject) => {
      const chunks = [];
      let ended = false;
      s.on('data', (c) => chunks.push(c));
      s.on('end', () => {
        ended = true;
        resolve(Buffer.concat(chunks));
      });
      s.on('error', (e) => reject(this.signal?.aborted ? this.signal.reason : terminated(e)));
      // A connection cut before the end of the body.
      s.on('close', () => {
        if (!ended) reject(this.signal?.aborted ? this.signal.reason : terminated());
      });
      this.msg.on('aborted', () => reject(terminated()));
    });
  }

  async text() {
    return (await this.buffer()).toString('utf8');
  }

  async json() {
    return JSON.parse(await this.text());
  }
}

/** A body cut short, as undici reports it: TypeError("terminated") caused by a UND_ERR_SOCKET error. */
function terminated(cause) {
  const c = Object.assign(new Error(cause?.message ?? 'other side closed', cause ? { cause } : undefined), { name: 'SocketError', code: 'UND_ERR_SOCKET' });
  return new TypeError('terminated', { cause: c });
}

module.exports = {
  fetch,
  Agent,
  get ProxyAgent() {
    return undici().ProxyAgent;
  },
};
