/**
 * A MongoDB wire-protocol STAND-IN for the tests: it is not mongod. It listens on 127.0.0.1 only and
 * answers the commands a real `mongosh` (and its Node driver) sends when it runs kubectl-sts's probe
 * script, with documents recorded from real servers (test/fixtures/mongo/standin/). What it speaks:
 *
 * - OP_QUERY (the driver's first handshake, `ismaster` on admin.$cmd) answered with OP_REPLY, and
 *   OP_MSG (every later command) answered with OP_MSG; no compression, no checksums.
 * - hello / isMaster / ismaster (awaitable hello: answered after maxAwaitTimeMS, like mongod),
 *   buildInfo, ping, getParameter, getCmdLineOpts, getLog, connectionStatus, endSessions,
 *   replSetGetStatus, replSetGetConfig — each from the case's documents; aggregate (an empty
 *   cursor: the stand-in holds no collections); anything else gets
 *   mongod's CommandNotFound error ({ok: 0, errmsg: "no such command: 'x'", code: 59}).
 * - SCRAM-SHA-256 and SCRAM-SHA-1 (RFC 5802 / 7677, MongoDB's variant: SHA-1 hashes
 *   md5("user:mongo:password") first; `skipEmptyExchange`), with a server signature the driver
 *   verifies. A wrong proof gets mongod's {code: 18, AuthenticationFailed, "Authentication failed."};
 *   commands other than the handshake's get {code: 13, Unauthorized, "command X requires
 *   authentication"} until the connection has authenticated, as with mongod --auth.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { BSON, Binary, Long, type Document } from 'bson';

let connectionIds = 100;

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

export interface StandinUser {
  user: string;
  db: string;
  password: string;
}

export interface StandinCase {
  /** The hello reply (isWritablePrimary/secondary/setName...); ok, localTime and connectionId are filled in. */
  hello: Document;
  buildInfo: Document;
  /** Replies by command name (replSetGetStatus, replSetGetConfig, getParameter ...). ok: 0 documents are errors. */
  commands: Record<string, Document>;
  /** When set, every command but the handshake's needs SCRAM authentication as this user. */
  auth?: StandinUser;
  /** Unit tests only: fixed SCRAM randomness, to check the exchange against RFC 7677's test vector. */
  scramFixed?: { serverNonce: string; salt: Buffer; iterations: number };
}

export interface Standin {
  port: number;
  /** Command names received, in order (for assertions: what the real shell really asked). */
  received: string[];
  close(): Promise<void>;
}

/** Commands mongod answers without authentication (the handshake, auth itself, and a few diagnostics). */
const NO_AUTH = new Set(['hello', 'ismaster', 'ping', 'buildinfo', 'saslstart', 'saslcontinue', 'endsessions', 'connectionstatus', 'logout']);

const commandNotFound = (name: string): Document => ({ ok: 0, errmsg: `no such command: '${name}'`, code: 59, codeName: 'CommandNotFound' });
const authFailed = (): Document => ({ ok: 0, errmsg: 'Authentication failed.', code: 18, codeName: 'AuthenticationFailed' });

interface Conversation {
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-1';
  user: string;
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
  salt: Buffer;
  iterations: number;
}

export interface ConnState {
  id: number;
  authenticated: boolean;
  conversation?: Conversation;
  timers: Set<NodeJS.Timeout>;
}

function hashName(m: Conversation['mechanism']): 'sha256' | 'sha1' {
  return m === 'SCRAM-SHA-256' ? 'sha256' : 'sha1';
}

/** The salted password (RFC 5802 Hi()); MongoDB's SCRAM-SHA-1 uses md5("user:mongo:password") as the password. */
function saltedPassword(c: Conversation, password: string): Buffer {
  const h = hashName(c.mechanism);
  const input = c.mechanism === 'SCRAM-SHA-1' ? crypto.createHash('md5').update(`${c.user}:mongo:${password}`, 'utf8').digest('hex') : password.normalize('NFKC');
  return crypto.pbkdf2Sync(input, c.salt, c.iterations, h === 'sha256' ? 32 : 20, h);
}

const hmac = (h: string, key: Buffer, text: string) => crypto.createHmac(h, key).update(text, 'utf8').digest();

function parseScram(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const at = part.indexOf('=');
    if (at > 0) out[part.slice(0, at)] = part.slice(at + 1);
  }
  return out;
}

function payloadText(p: unknown): string {
  if (p instanceof Binary) return Buffer.from(p.buffer.subarray(0, p.position)).toString('utf8');
  if (p instanceof Uint8Array) return Buffer.from(p).toString('utf8');
  return String(p ?? '');
}

export function newConnState(): ConnState {
  return { id: connectionIds++, authenticated: false, timers: new Set() };
}

/** The reply to one command on one connection (exported for unit tests). */
export function handle(c: StandinCase, st: ConnState, cmd: Document, received: string[] = []): Document {
  const name = Object.keys(cmd)[0] ?? '';
  const lower = name.toLowerCase();
  received.push(name);
  if (process.env.KSTS_STANDIN_DEBUG) console.error(`mongo stand-in <- ${JSON.stringify(cmd)}`);
  if (lower === 'hello' || lower === 'ismaster') {
    const reply: Document = { ...c.hello };
    if (lower === 'ismaster') {
      // The legacy name answers with the legacy field (mongod: `ismaster`, not `isWritablePrimary`).
      reply.ismaster = reply.isWritablePrimary ?? false;
      delete reply.isWritablePrimary;
    }
    if (cmd.helloOk) reply.helloOk = true;
    if (c.auth && typeof cmd.saslSupportedMechs === 'string' && cmd.saslSupportedMechs === `${c.auth.db}.${c.auth.user}`) {
      reply.saslSupportedMechs = ['SCRAM-SHA-1', 'SCRAM-SHA-256'];
    }
    return { ...reply, localTime: new Date(), connectionId: st.id, ok: 1 };
  }
  if (c.auth && !st.authenticated && !NO_AUTH.has(lower)) {
    return { ok: 0, errmsg: `command ${name} requires authentication`, code: 13, codeName: 'Unauthorized' };
  }
  switch (lower) {
    case 'buildinfo':
      return { ...c.buildInfo, ok: 1 };
    case 'ping':
    case 'endsessions':
    case 'logout':
      return { ok: 1 };
    case 'connectionstatus':
      return {
        authInfo: st.authenticated && c.auth ? { authenticatedUsers: [{ user: c.auth.user, db: c.auth.db }], authenticatedUserRoles: [{ role: 'clusterMonitor', db: 'admin' }] } : { authenticatedUsers: [], authenticatedUserRoles: [] },
        ok: 1,
      };
    case 'aggregate':
      // The stand-in holds no collections: an aggregate reads a collection that does not exist,
      // which mongod answers with an empty cursor (mongosh's start-up asks admin.atlascli).
      return { cursor: { firstBatch: [], id: Long.fromNumber(0), ns: `${String(cmd.$db ?? 'admin')}.${String(cmd.aggregate)}` }, ok: 1 };
    case 'saslstart':
      return saslStart(c, st, cmd);
    case 'saslcontinue':
      return saslContinue(c, st, cmd);
  }
  const doc = c.commands[name] ?? Object.entries(c.commands).find(([k]) => k.toLowerCase() === lower)?.[1];
  if (!doc) return commandNotFound(name);
  return doc.ok === 0 ? doc : { ...doc, ok: 1 };
}

function saslStart(c: StandinCase, st: ConnState, cmd: Document): Document {
  const mechanism = cmd.mechanism;
  if (mechanism !== 'SCRAM-SHA-256' && mechanism !== 'SCRAM-SHA-1') {
    return { ok: 0, errmsg: `Received authentication for mechanism ${String(mechanism)} which is not enabled`, code: 334, codeName: 'MechanismUnavailable' };
  }
  const first = payloadText(cmd.payload);
  if (!first.startsWith('n,,')) return { ok: 0, errmsg: 'Incorrect SCRAM client|server nonce', code: 17, codeName: 'ProtocolError' };
  const bare = first.slice(3);
  const f = parseScram(bare);
  const user = (f.n ?? '').replace(/=2C/g, ',').replace(/=3D/g, '=');
  const db = String(cmd.$db ?? 'admin');
  // An unknown user gets a conversation too (random salt) and fails at the proof with the same
  // "Authentication failed." as a wrong password: mongod does not reveal which users exist.
  const fixed = c.scramFixed;
  const nonce = `${f.r ?? ''}${fixed?.serverNonce ?? crypto.randomBytes(24).toString('base64')}`;
  const salt = fixed?.salt ?? crypto.randomBytes(mechanism === 'SCRAM-SHA-256' ? 28 : 16);
  // mongod's defaults (scramIterationCount 10000, scramSHA256IterationCount 15000).
  const iterations = fixed?.iterations ?? (mechanism === 'SCRAM-SHA-256' ? 15000 : 10000);
  const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${iterations}`;
  st.conversation = { mechanism, user: `${db}\u0000${user}`, clientFirstBare: bare, serverFirst, nonce, salt, iterations };
  return { conversationId: 1, done: false, payload: new Binary(Buffer.from(serverFirst, 'utf8')), ok: 1 };
}

function saslContinue(c: StandinCase, st: ConnState, cmd: Document): Document {
  const conv = st.conversation;
  st.conversation = undefined;
  if (!conv) return { ok: 0, errmsg: 'No SASL session state found', code: 17, codeName: 'ProtocolError' };
  const final = payloadText(cmd.payload);
  const f = parseScram(final);
  const [db, user] = conv.user.split('\u0000') as [string, string];
  if (f.r !== conv.nonce || !f.p || !c.auth || user !== c.auth.user || db !== c.auth.db) return authFailed();
  const h = hashName(conv.mechanism);
  const salted = saltedPassword({ ...conv, user }, c.auth.password);
  const clientKey = hmac(h, salted, 'Client Key');
  const storedKey = crypto.createHash(h).update(clientKey).digest();
  const withoutProof = final.slice(0, final.lastIndexOf(',p='));
  const authMessage = `${conv.clientFirstBare},${conv.serverFirst},${withoutProof}`;
  const clientSignature = hmac(h, storedKey, authMessage);
  const proof = Buffer.from(f.p, 'base64');
  if (proof.length !== clientSignature.length) return authFailed();
  const recoveredKey = Buffer.from(proof.map((b, i) => b ^ clientSignature[i]!));
  if (!crypto.timingSafeEqual(crypto.createHash(h).update(recoveredKey).digest(), storedKey)) return authFailed();
  st.authenticated = true;
  const serverSignature = hmac(h, hmac(h, salted, 'Server Key'), authMessage);
  return { conversationId: 1, done: true, payload: new Binary(Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8')), ok: 1 };
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(length, 0);
  b.writeInt32LE(requestId, 4);
  b.writeInt32LE(responseTo, 8);
  b.writeInt32LE(opCode, 12);
  return b;
}

let nextRequestId = 1;

function opMsgReply(responseTo: number, doc: Document): Buffer {
  const body = Buffer.from(BSON.serialize(doc));
  const flags = Buffer.alloc(5); // flagBits 0, section kind 0
  return Buffer.concat([header(16 + 5 + body.length, nextRequestId++, responseTo, OP_MSG), flags, body]);
}

function opReply(responseTo: number, doc: Document): Buffer {
  const body = Buffer.from(BSON.serialize(doc));
  const fixed = Buffer.alloc(20); // responseFlags 0, cursorID 0, startingFrom 0, numberReturned 1
  fixed.writeInt32LE(1, 16);
  return Buffer.concat([header(16 + 20 + body.length, nextRequestId++, responseTo, OP_REPLY), fixed, body]);
}

/** Decodes one request; returns the command document and how to reply. */
function decode(msg: Buffer): { cmd: Document; reply: (d: Document) => Buffer; requestId: number } {
  const requestId = msg.readInt32LE(4);
  const opCode = msg.readInt32LE(12);
  if (opCode === OP_MSG) {
    const flags = msg.readUInt32LE(16);
    const end = flags & 1 ? msg.length - 4 : msg.length;
    let pos = 20;
    let cmd: Document | undefined;
    while (pos < end) {
      const kind = msg[pos]!;
      pos += 1;
      if (kind === 0) {
        const size = msg.readInt32LE(pos);
        cmd = BSON.deserialize(msg.subarray(pos, pos + size), { promoteValues: true, promoteBuffers: false });
        pos += size;
      } else {
        // kind 1: a document sequence (inserts...): not needed by any command the stand-in answers.
        pos += msg.readInt32LE(pos);
      }
    }
    return { cmd: cmd ?? {}, reply: (d) => opMsgReply(requestId, d), requestId };
  }
  if (opCode === OP_QUERY) {
    let pos = 20;
    const nameEnd = msg.indexOf(0, pos);
    pos = nameEnd + 1 + 8; // fullCollectionName, numberToSkip, numberToReturn
    const size = msg.readInt32LE(pos);
    let cmd = BSON.deserialize(msg.subarray(pos, pos + size));
    if (cmd.$query && typeof cmd.$query === 'object') cmd = cmd.$query as Document;
    return { cmd, reply: (d) => opReply(requestId, d), requestId };
  }
  throw new Error(`the stand-in does not speak opCode ${opCode}`);
}

/** Starts a stand-in for one case on 127.0.0.1 (a free port unless `port` is given). */
export async function startStandin(c: StandinCase, port = 0): Promise<Standin> {
  const sockets = new Set<net.Socket>();
  const received: string[] = [];
  const server = net.createServer((sock) => {
    sockets.add(sock);
    const st = newConnState();
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4) {
        const len = buf.readInt32LE(0);
        if (buf.length < len) break;
        const msg = buf.subarray(0, len);
        buf = buf.subarray(len);
        let req;
        try {
          req = decode(msg);
        } catch {
          sock.destroy();
          return;
        }
        const answer = handle(c, st, req.cmd, received);
        const wait = typeof req.cmd.maxAwaitTimeMS === 'number' && req.cmd.topologyVersion ? req.cmd.maxAwaitTimeMS : 0;
        if (wait > 0) {
          // An awaitable hello: mongod answers when the topology changes or after maxAwaitTimeMS.
          const t = setTimeout(() => {
            st.timers.delete(t);
            if (!sock.destroyed) sock.write(req.reply(answer));
          }, wait);
          st.timers.add(t);
        } else {
          sock.write(req.reply(answer));
        }
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      sockets.delete(sock);
      for (const t of st.timers) clearTimeout(t);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const addr = server.address() as net.AddressInfo;
  return {
    port: addr.port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
