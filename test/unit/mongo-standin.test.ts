/**
 * The MongoDB wire-protocol stand-in used by the mongo-status e2e test (test/helpers/mongo-standin.ts):
 * its SCRAM-SHA-256 server against RFC 7677's test vector, its error shapes, and its framing over a
 * real loopback socket. (The e2e test then runs the real mongosh against it.)
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { BSON, Binary, Long, type Document } from 'bson';
import { handle, newConnState, startStandin, type StandinCase } from '../helpers/mongo-standin.js';
import { CASE_NAMES, standinCase } from '../fixtures/mongo/standin/cases.js';

const text = (p: unknown) => Buffer.from((p as Binary).buffer.subarray(0, (p as Binary).position)).toString('utf8');
const bin = (s: string) => new Binary(Buffer.from(s, 'utf8'));

// RFC 7677 section 3: user "user", password "pencil".
const RFC = {
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

function rfcCase(password: string): StandinCase {
  return {
    ...standinCase('healthy', 'ns1'),
    auth: { user: 'user', db: 'admin', password },
    scramFixed: { serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0', salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), iterations: 4096 },
  };
}

describe('mongo stand-in: SCRAM-SHA-256', () => {
  it('reproduces RFC 7677\'s exchange: server-first message and server signature', () => {
    const c = rfcCase('pencil');
    const st = newConnState();
    const start = handle(c, st, { saslStart: 1, mechanism: 'SCRAM-SHA-256', payload: bin(RFC.clientFirst), $db: 'admin' });
    expect(start).toMatchObject({ ok: 1, done: false, conversationId: 1 });
    expect(text(start.payload)).toBe(RFC.serverFirst);
    const cont = handle(c, st, { saslContinue: 1, conversationId: 1, payload: bin(RFC.clientFinal), $db: 'admin' });
    expect(cont).toMatchObject({ ok: 1, done: true });
    expect(text(cont.payload)).toBe(RFC.serverFinal);
    expect(handle(c, st, { replSetGetStatus: 1, $db: 'admin' })).toMatchObject({ ok: 1, set: 'myrs' });
  });

  it('a wrong password: mongod\'s AuthenticationFailed, and the connection stays unauthenticated', () => {
    const c = rfcCase('not-pencil');
    const st = newConnState();
    handle(c, st, { saslStart: 1, mechanism: 'SCRAM-SHA-256', payload: bin(RFC.clientFirst), $db: 'admin' });
    expect(handle(c, st, { saslContinue: 1, conversationId: 1, payload: bin(RFC.clientFinal), $db: 'admin' })).toEqual({
      ok: 0,
      errmsg: 'Authentication failed.',
      code: 18,
      codeName: 'AuthenticationFailed',
    });
    expect(handle(c, st, { replSetGetStatus: 1, $db: 'admin' })).toEqual({ ok: 0, errmsg: 'command replSetGetStatus requires authentication', code: 13, codeName: 'Unauthorized' });
  });

  it('the right password on another database fails like a wrong one', () => {
    const c = rfcCase('pencil');
    const st = newConnState();
    handle(c, st, { saslStart: 1, mechanism: 'SCRAM-SHA-256', payload: bin(RFC.clientFirst), $db: 'users' });
    expect(handle(c, st, { saslContinue: 1, conversationId: 1, payload: bin(RFC.clientFinal), $db: 'users' })).toMatchObject({ ok: 0, code: 18 });
  });
});

describe('mongo stand-in: commands', () => {
  const c = standinCase('healthy', 'ns1');
  it('unknown commands get mongod\'s CommandNotFound', () => {
    expect(handle(c, newConnState(), { atlasVersion: 1, $db: 'admin' })).toEqual({ ok: 0, errmsg: "no such command: 'atlasVersion'", code: 59, codeName: 'CommandNotFound' });
  });
  it('the legacy isMaster name answers with `ismaster`, hello with `isWritablePrimary`', () => {
    expect(handle(c, newConnState(), { isMaster: 1 })).toMatchObject({ ismaster: true, setName: 'myrs', maxWireVersion: 13, ok: 1 });
    expect(handle(c, newConnState(), { isMaster: 1 }).isWritablePrimary).toBeUndefined();
    expect(handle(c, newConnState(), { hello: 1 })).toMatchObject({ isWritablePrimary: true, me: 'mongo-0.mongo-service.ns1.svc.cluster.local:27017' });
  });
  it('NotYetInitialized as mongod sends it', () => {
    expect(handle(standinCase('not-initialized', 'ns1'), newConnState(), { replSetGetStatus: 1 })).toEqual({
      ok: 0,
      errmsg: 'no replset config has been received',
      code: 94,
      codeName: 'NotYetInitialized',
    });
  });
});

describe('mongo stand-in: the case documents', () => {
  /** Paths of objects that look like a BSON Long flattened into a document ({low, high, unsigned}). */
  function flattened(v: unknown, at = ''): string[] {
    if (v === null || typeof v !== 'object' || v instanceof Date || v instanceof Long) return [];
    if ('low' in v && 'high' in v) return [at];
    return Object.entries(v).flatMap(([k, x]) => flattened(x, `${at}.${k}`));
  }
  it.each(CASE_NAMES)('%s: keeps BSON types through the edits (64-bit longs stay Long, no flattened copies)', (name) => {
    const c = standinCase(name, 'ns1');
    for (const [cmd, doc] of Object.entries(c.commands)) {
      expect(flattened(BSON.deserialize(BSON.serialize(doc), { promoteLongs: false }), cmd)).toEqual([]);
    }
    expect(flattened(BSON.deserialize(BSON.serialize(c.hello), { promoteLongs: false }))).toEqual([]);
  });
  it('healthy: the arbiter turned secondary copies a secondary\'s optime and 64-bit pingMs; hosts are the pods\' stable names', () => {
    const st = standinCase('healthy', 'ns1').commands.replSetGetStatus!;
    const m = st.members as Document[];
    expect(m.map((x) => `${x.name}/${x.stateStr}`)).toEqual([
      'mongo-0.mongo-service.ns1.svc.cluster.local:27017/PRIMARY',
      'mongo-1.mongo-service.ns1.svc.cluster.local:27017/SECONDARY',
      'mongo-2.mongo-service.ns1.svc.cluster.local:27017/SECONDARY',
    ]);
    expect(m[2]!.pingMs).toBeInstanceOf(Long);
    expect(st.term).toBeInstanceOf(Long);
    expect(m[2]!.optime).toEqual(m[1]!.optime);
  });
});

/** Sends one message on a fresh loopback connection and returns the reply's bytes. */
function roundTrip(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(msg));
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= buf.readInt32LE(0)) {
        sock.destroy();
        resolve(buf);
      }
    });
    sock.on('error', reject);
  });
}

function header(len: number, id: number, op: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(len, 0);
  h.writeInt32LE(id, 4);
  h.writeInt32LE(op, 12);
  return h;
}

describe('mongo stand-in: framing on 127.0.0.1', () => {
  it('OP_QUERY ismaster -> OP_REPLY; OP_MSG buildInfo -> OP_MSG, each answering its request id', async () => {
    const s = await startStandin(standinCase('healthy', 'ns1'));
    try {
      const q = Buffer.from(BSON.serialize({ ismaster: 1, helloOk: true }));
      const ns = Buffer.from('admin.$cmd\0');
      const body = Buffer.concat([Buffer.alloc(4), ns, Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), q]);
      const reply = await roundTrip(s.port, Buffer.concat([header(16 + body.length, 7, 2004), body]));
      expect(reply.readInt32LE(8)).toBe(7); // responseTo
      expect(reply.readInt32LE(12)).toBe(1); // OP_REPLY
      expect(reply.readInt32LE(32)).toBe(1); // numberReturned
      const doc = BSON.deserialize(reply.subarray(36)) as Document;
      expect(doc).toMatchObject({ ismaster: true, helloOk: true, setName: 'myrs', ok: 1 });

      const m = Buffer.from(BSON.serialize({ buildInfo: 1, $db: 'admin' }));
      const msgBody = Buffer.concat([Buffer.alloc(4), Buffer.from([0]), m]);
      const r2 = await roundTrip(s.port, Buffer.concat([header(16 + msgBody.length, 9, 2013), msgBody]));
      expect(r2.readInt32LE(8)).toBe(9);
      expect(r2.readInt32LE(12)).toBe(2013);
      expect(BSON.deserialize(r2.subarray(21))).toMatchObject({ version: '5.0.18', ok: 1 });
      expect(s.received).toEqual(['ismaster', 'buildInfo']);
    } finally {
      await s.close();
    }
  });
});
