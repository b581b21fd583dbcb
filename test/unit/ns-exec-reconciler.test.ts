/**
 * scripts/cluster/ns-exec.sh (the test cluster's namespace reconciler) against a scripted fake
 * kubectl: the order of its writes (a namespace's ClusterExec before its ServiceAccount), batching,
 * the retry of a failed ClusterExec, deletions and garbage collection. The e2e suite
 * (exec-any-namespace.test.ts) runs it against the real control plane.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const script = path.join(root, 'scripts/cluster/ns-exec.sh');

// The fake kubectl: logs each call as one line (args, then the names it read on stdin), answers
// from files in $FAKE_DIR, and plays watch.N as the N-th namespace watch (then holds it open
// $FAKE_HOLD seconds); with no watch.N left it removes the kubeconfig, which ends the reconciler.
const FAKE = String.raw`#!/usr/bin/env bash
d=$FAKE_DIR
args="$*"
case "$args" in
  *" get namespaces --watch "*)
    n=$(( $(cat "$d/watches" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$d/watches"
    echo "WATCH $n" >>"$d/log"
    if [ -f "$d/watch.$n" ]; then cat "$d/watch.$n"; sleep "$FAKE_HOLD"; else rm -f "$d/kubeconfig"; fi
    exit 0 ;;
  *" get namespaces "*) cat "$d/namespaces"; exit 0 ;;
  *" get clusterexecs "*) cat "$d/clusterexecs"; exit 0 ;;
esac
in=""
case "$args" in *" -f -"*) in=$(cat) ;; esac
case "$args" in
  *" apply -f -"*)
    names=$(printf '%s\n' "$in" | sed -n 's/^  name: "ns-\(.*\)"$/\1/p' | tr '\n' ' ')
    echo "APPLY $names" >>"$d/log"
    for n in $names; do
      if grep -qx "$n" "$d/fail-once" 2>/dev/null; then
        sed -i "/^$n\$/d" "$d/fail-once"
        echo "Error from server (InternalError): error when creating \"STDIN\": clusterexec ns-$n: etcd timeout"
      else
        echo "clusterexec.kwok.x-k8s.io/ns-$n created"
      fi
    done ;;
  *" create -f -"*)
    names=$(printf '%s\n' "$in" | sed -n 's/^  namespace: "\(.*\)"$/\1/p' | tr '\n' ' ')
    echo "CREATE-SA $names" >>"$d/log"
    for n in $names; do echo "serviceaccount/default created"; done ;;
  *" delete clusterexec "*) echo "DELETE $(printf '%s' "$args" | sed 's/.* delete clusterexec //')" >>"$d/log" ;;
  *) echo "UNEXPECTED $args" >>"$d/log"; exit 1 ;;
esac
`;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksts-nsexec-'));
  fs.writeFileSync(path.join(dir, 'kubectl'), FAKE, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'kubeconfig'), '');
  fs.writeFileSync(path.join(dir, 'log'), '');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function reconcile(files: Record<string, string>, hold = 0): Promise<string[]> {
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  await promisify(execFile)('bash', [script, path.join(dir, 'kubeconfig'), path.join(dir, 'kubectl'), path.join(dir, 'pid')], {
    env: { ...process.env, FAKE_DIR: dir, FAKE_HOLD: String(hold) },
    timeout: 20_000,
  });
  return fs.readFileSync(path.join(dir, 'log'), 'utf8').trim().split('\n');
}

const events = (...e: string[]) => e.map((l) => `${l}\n`).join('');

describe('ns-exec.sh, the namespace reconciler', () => {
  it('stores each namespace\'s ClusterExec, then its ServiceAccount, one batch for what arrived together; removes deleted namespaces\' ClusterExecs', async () => {
    const log = await reconcile({
      namespaces: 'default\nkube-system\nshop\n',
      clusterexecs: 'ns-default\nns-gone-while-down\n',
      'watch.1': events('ADDED default Active', 'ADDED kube-system Active', 'ADDED shop Active', 'ADDED 123 Active', 'MODIFIED old Terminating', 'DELETED old-one Terminating'),
    });
    expect(log[0]).toBe('DELETE ns-gone-while-down --ignore-not-found');
    expect(log[1]).toBe('WATCH 1');
    expect(log).toContain('DELETE ns-old-one --ignore-not-found');
    const apply = log.findIndex((l) => l.startsWith('APPLY'));
    const create = log.findIndex((l) => l.startsWith('CREATE-SA'));
    expect(apply).toBeGreaterThan(0);
    expect(create).toBe(apply + 1);
    expect(log[apply]!.split(' ').slice(1).filter(Boolean).sort()).toEqual(['123', 'default', 'kube-system', 'shop']);
    expect(log[create]!.split(' ').slice(1).filter(Boolean).sort()).toEqual(['123', 'default', 'kube-system', 'shop']);
    expect(log.filter((l) => l.startsWith('APPLY'))).toHaveLength(1);
    expect(log.some((l) => l.includes('old ') || l.endsWith(' old'))).toBe(false); // terminating: left alone
    expect(log.at(-1)).toBe('WATCH 2'); // the watch ended, was restarted, and the kubeconfig was gone
    expect(fs.readFileSync(path.join(dir, 'pid'), 'utf8').trim()).toMatch(/^\d+$/);
  }, 20_000);

  it('gives a namespace whose ClusterExec failed no ServiceAccount, and retries it until it succeeds', async () => {
    const log = await reconcile(
      {
        namespaces: 'shop\nbad\n',
        clusterexecs: '',
        'fail-once': 'bad\n',
        'watch.1': events('ADDED shop Active', 'ADDED bad Active'),
      },
      3,
    );
    const writes = log.filter((l) => /^(APPLY|CREATE-SA)/.test(l)).map((l) => l.trim().split(/ +/).sort().join(' '));
    expect(writes).toEqual(['APPLY bad shop', 'CREATE-SA shop', 'APPLY bad', 'CREATE-SA bad']);
  }, 20_000);
});
