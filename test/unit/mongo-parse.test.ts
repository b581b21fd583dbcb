import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BsonTimestamp, MongoParseError, parseExtendedJson, parseProbeOutput, parseShellDocument } from '../../src/core/mongo-parse.js';
import { PROBE_MARKER } from '../../src/core/mongo-script.js';

const dir = path.resolve(import.meta.dirname, '../fixtures/mongo');
const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');

describe('parseExtendedJson', () => {
  it.each([
    ['relaxed date', '{"d":{"$date":"2018-05-13T16:36:50Z"}}', Date.parse('2018-05-13T16:36:50Z')],
    ['canonical date', '{"d":{"$date":{"$numberLong":"1526229410000"}}}', 1526229410000],
    ['v1 date (ms number)', '{"d":{"$date":1526229410000}}', 1526229410000],
  ])('decodes a %s', (_n, text, ms) => {
    const v = parseExtendedJson(text) as { d: Date };
    expect(v.d).toBeInstanceOf(Date);
    expect(v.d.getTime()).toBe(ms);
  });

  it('decodes timestamps, numbers, ObjectIds and binary', () => {
    const v = parseExtendedJson(
      '{"ts":{"$timestamp":{"t":1526229410,"i":3}},"l":{"$numberLong":"6"},"i":{"$numberInt":"-1"},"f":{"$numberDouble":"1.0"},"inf":{"$numberDouble":"-Infinity"},"o":{"$oid":"5af85f5b0d5b6b7f4a1e2c3d"},"b":{"$binary":{"base64":"AAA=","subType":"00"}},"b1":{"$binary":"AAA=","$type":"00"},"n":[{"$numberInt":"2"}]}',
    ) as Record<string, unknown>;
    expect(v.ts).toEqual(new BsonTimestamp(1526229410, 3));
    expect(v).toMatchObject({ l: 6, i: -1, f: 1, inf: -Infinity, o: '5af85f5b0d5b6b7f4a1e2c3d', b: 'AAA=', b1: 'AAA=', n: [2] });
  });

  it('leaves ordinary keys that start with $ but are not wrappers alone', () => {
    expect(parseExtendedJson('{"$clusterTime":{"clusterTime":{"$timestamp":{"t":1,"i":2}}}}')).toEqual({ $clusterTime: { clusterTime: new BsonTimestamp(1, 2) } });
  });
});

describe('parseShellDocument (shell notation of rs.status()/rs.conf())', () => {
  it('reads the manual 4.0 primary example, trailing comma and all', () => {
    const s = parseShellDocument(read('manual-4.0-primary.status.txt')) as any;
    expect(s.set).toBe('replset');
    expect(s.date).toEqual(new Date('2018-05-13T16:36:54.319Z'));
    expect(s.term).toBe(1);
    expect(s.members).toHaveLength(3);
    expect(s.members[2].electionTime).toEqual(new BsonTimestamp(1526227096, 1));
    expect(s.members[0].pingMs).toBe(1);
    expect(s.$clusterTime.signature.hash).toBe('WE7yaBuLazOtqwdJxaroLp1Kluo=');
  });

  it('reads the 2.6-era capture whose optime is a bare Timestamp', () => {
    const s = parseShellDocument(read('capture-2.6-arbiter.status.txt')) as any;
    expect(s.members[0].optime).toEqual(new BsonTimestamp(1407481853, 1));
    expect(s.members[1].stateStr).toBe('ARBITER');
  });

  it('reads the 5.0 rs.conf() capture (ObjectId, secondaryDelaySecs, empty tags)', () => {
    const c = parseShellDocument(read('capture-5.0-psa.conf.txt')) as any;
    expect(c.members[2]).toMatchObject({ arbiterOnly: true, priority: 0, secondaryDelaySecs: 0, tags: {} });
    expect(c.settings.replicaSetId).toBe('647edd5c454f9ab55a0c8fbf');
  });

  it("reads mongosh's own notation: Timestamp({ t, i }), Long(\"...\"), unquoted keys, single quotes, comments", () => {
    const v = parseShellDocument(`{
      set: 'rs0', // the set
      date: ISODate('2024-12-27T15:13:21.670Z'),
      term: Long('5'), ts: Timestamp({ t: 1735312401, i: 1 }), id: new ObjectId("66be8a1f7c3a9b1d2e4f5a6b"),
      h: Binary.createFromBase64('AAAA', 0), d: Decimal128("1.5"), i: Int32(3), neg: -1.5e2,
    }`) as any;
    expect(v).toMatchObject({ set: 'rs0', term: 5, id: '66be8a1f7c3a9b1d2e4f5a6b', h: 'AAAA', d: 1.5, i: 3, neg: -150 });
    expect(v.ts).toEqual(new BsonTimestamp(1735312401, 1));
    expect(v.date.getTime()).toBe(Date.parse('2024-12-27T15:13:21.670Z'));
  });

  it('says where it could not read', () => {
    expect(() => parseShellDocument('{ "a" : Frobnicate(1) }')).toThrow(MongoParseError);
    expect(() => parseShellDocument('{ "a" : 1 ')).toThrow(/expected/);
    expect(() => parseShellDocument('{ } x')).toThrow(/after the document/);
  });
});

describe('parseProbeOutput', () => {
  it('finds the marker line among banner lines and decodes canonical EJSON', () => {
    const out = parseProbeOutput(read('ejson-canonical-hidden-delayed.probe.txt'), PROBE_MARKER)!;
    expect(out.version).toBe('7.0.12');
    const status = out.status as any;
    expect(status.date).toEqual(new Date('2024-08-15T23:06:13.978Z'));
    expect(status.members[3].optime.ts).toBeInstanceOf(BsonTimestamp);
    expect((out.config as any).members[3]).toMatchObject({ hidden: true, secondaryDelaySecs: 3600, priority: 0 });
  });

  it('decodes the legacy-shell encoding ($numberLong fields) the same way', () => {
    const a = parseProbeOutput(read('e2e/healthy.json'), PROBE_MARKER)!;
    const b = parseProbeOutput(read('e2e/healthy.legacy.json'), PROBE_MARKER)!;
    expect((b.status as any).members).toEqual((a.status as any).members);
  });

  it('is undefined without a marker line, and an error for a broken one', () => {
    expect(parseProbeOutput('MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017\n', PROBE_MARKER)).toBeUndefined();
    expect(() => parseProbeOutput(`${PROBE_MARKER}{"probe":`, PROBE_MARKER)).toThrow(MongoParseError);
  });
});
