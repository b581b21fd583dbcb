/**
 * `kubectl sts doctor [NAME]`: is this StatefulSet (or every set in scope) healthy, and if not,
 * what to do. One report of findings, each with severity, evidence and the fix command, from
 * the checks the other commands make: rollout, availability (placement, disruption budgets),
 * storage (orphaned and Pending claims, stuck volumes, retention), network identity (static DNS
 * checks) and, for MongoDB sets, the replica set (mongo-status, which execs in a pod).
 *
 * Cost: one paginated LIST per resource type for the whole scope (doctor-read.ts), whatever the
 * number of sets; the only execs are the MongoDB probes (sets that run mongod, or --mongo) and,
 * with --live, dns-check's lookups from inside the pods.
 */
import { defineCommand, type CommandResult, type GlobalArgs } from './command.js';
import { durationFlag } from './flags.js';
import type { Deps } from '../deps.js';
import type { Kube } from '../kube/index.js';
import { checkExitCode } from '../errors.js';
import { diagnoseSets, liveDnsFindings, mongoFindings, runsMongo, setKey, summarize, type DoctorFinding } from '../core/doctor.js';
import { podsOfSet } from '../core/pods.js';
import { mapSelectorMatches } from '../core/labels.js';
import { renderStructured } from '../render/output.js';
import { renderDoctor, type DoctorOutput } from '../render/doctor.js';
import { readScope } from './doctor-read.js';
import { refreshLoop } from './refresh.js';

export interface DoctorArgs {
  name?: string | undefined;
  stuckAfter: string;
  mongo: boolean;
  live: boolean;
  watch: boolean;
  interval: string;
}

interface Options {
  namespace: string | undefined;
  stuckAfterMs: number;
}

/** Findings made with execs (MongoDB, --live), by set: diagnoseSets adds them to the set's own. */
type Extra = Map<string, { findings: DoctorFinding[]; unchecked: string[] }>;

function addExtra(into: Extra, key: string, more: { findings: DoctorFinding[]; unchecked: string[] }): void {
  const have = into.get(key) ?? { findings: [], unchecked: [] };
  into.set(key, { findings: [...have.findings, ...more.findings], unchecked: [...have.unchecked, ...more.unchecked] });
}

/** The MongoDB findings of the sets that run mongod (or every set with --mongo): one probe each, asked in a Ready pod. */
async function mongoExtra(kube: Kube, data: Awaited<ReturnType<typeof readScope>>, args: DoctorArgs): Promise<Extra> {
  const out: Extra = new Map();
  const sets = data.statefulSets.filter((s) => args.mongo || runsMongo(s));
  if (!sets.length) return out;
  if (!data.pods) {
    for (const s of sets) out.set(setKey(s), { findings: [], unchecked: ['data store: MongoDB not asked (the pods could not be read)'] });
    return out;
  }
  const { askSet } = await import('./mongo-status.js');
  const { mapBounded } = await import('../kube/index.js');
  await mapBounded(sets, 4, async (s) => {
    const ns = s.metadata.namespace ?? '';
    const report = await askSet({ kube, ns, maxLagMs: 10_000, timeoutMs: 30_000, probe: { authDb: 'admin', tls: false } }, s, data.pods!, { each: false });
    out.set(setKey(s), mongoFindings(s, report));
  });
  return out;
}

/** --live: dns-check's lookups from inside each set's pods (execs), from the objects already listed. */
async function liveExtra(kube: Kube, deps: Deps, data: Awaited<ReturnType<typeof readScope>>, into: Extra): Promise<void> {
  const { liveChecks } = await import('./dns-check.js');
  const { silentSpinner } = await import('../render/spinner.js');
  for (const sts of data.statefulSets) {
    const ns = sts.metadata.namespace ?? '';
    if (!sts.spec.serviceName || !data.services) continue; // the static checks already say why
    if (!data.pods) {
      addExtra(into, setKey(sts), { findings: [], unchecked: ['network identity: live DNS checks not run (the pods could not be read)'] });
      continue;
    }
    const service = data.services.find((s) => (s.metadata.namespace ?? '') === ns && s.metadata.name === sts.spec.serviceName);
    const selectedPods = service?.spec.selector && Object.keys(service.spec.selector).length ? data.pods.filter((p) => (p.metadata.namespace ?? '') === ns && mapSelectorMatches(service.spec.selector, p.metadata.labels)) : [];
    const live = await liveChecks(kube, deps, silentSpinner, {
      sts,
      service,
      pods: podsOfSet(sts, data.pods),
      selectedPods,
      ns,
      args: { concurrency: 8, execTimeout: '20s' },
      mode: { kind: 'default' },
      timeoutMs: 20_000,
      debugDryRun: 'none',
    });
    addExtra(into, setKey(sts), liveDnsFindings(sts, live.rows));
  }
}

async function evaluate(kube: Kube, deps: Deps, args: DoctorArgs & GlobalArgs, o: Options): Promise<{ out: DoctorOutput; exitCode: number; lines: string[] }> {
  const data = await readScope(kube, o.namespace, args.name);
  const extra = await mongoExtra(kube, data, args);
  if (args.live) await liveExtra(kube, deps, data, extra);
  const sets = diagnoseSets({ ...data, now: deps.now(), stuckAfterMs: o.stuckAfterMs, extra });
  const complete = data.warnings.lines.length === 0 && sets.every((s) => s.unchecked.length === 0);
  const out: DoctorOutput = {
    kind: 'DoctorReport',
    apiVersion: 'kubectl-sts/v1',
    namespace: o.namespace ?? null,
    statefulSet: args.name ?? null,
    complete,
    warnings: [...data.warnings.lines, ...data.notes.lines],
    summary: summarize(sets),
    statefulSets: sets,
  };
  const problems = out.summary.errors + out.summary.warnings > 0;
  if (args.verbose >= 1) deps.log(`doctor: ${kube.client.requestCount} API requests for ${sets.length} StatefulSets`);
  return { out, exitCode: checkExitCode(problems, !complete), lines: out.warnings };
}

function format(out: DoctorOutput, args: DoctorArgs & GlobalArgs, deps: Deps): string {
  if (args.output === 'json' || args.output === 'yaml') return renderStructured(out, args.output);
  if (args.output === 'name') return out.statefulSets.map((s) => `statefulset.apps/${s.name}\n`).join('');
  return renderDoctor(out, { wide: args.output === 'wide', color: deps.color });
}

export const doctorCommand = defineCommand<DoctorArgs>({
  command: 'doctor [name]',
  describe: 'Is this StatefulSet healthy, and if not, what to do: findings with evidence and the fix, for one set or every set in scope',
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'StatefulSet to check (default: every StatefulSet in the namespace, or everywhere with -A)' })
      .option('stuck-after', { type: 'string', default: '5m', describe: 'Report a pod not Ready for no known reason after this long (image pull errors, crash loops, unschedulable pods are reported at once)' })
      .option('mongo', { type: 'boolean', default: false, describe: 'Ask the replica set of every set checked, as mongo-status does (default: only sets that run mongod)' })
      .option('live', { type: 'boolean', default: false, describe: 'Also resolve every pod\'s stable DNS name from inside the pods, as dns-check does (execs)' })
      .option('watch', { alias: 'w', type: 'boolean', default: false, describe: 'Re-evaluate every --interval until interrupted' })
      .option('interval', { type: 'string', default: '5s', describe: 'Refresh interval for --watch' })
      .option('all-contexts', { type: 'boolean', default: false, describe: 'Run against every context of the kubeconfig at once (or name several: --context a,b,c)' })
      .example('kubectl sts doctor -A --context prod-eu,prod-us', 'Every StatefulSet of two clusters, one table with a CONTEXT column')
      .example('kubectl sts doctor web', 'Findings for StatefulSet web, each with its evidence and fix')
      .example('kubectl sts doctor -A', 'Every StatefulSet in the cluster')
      .example('kubectl sts doctor -n shop -o json', 'The same as JSON (DoctorReport)')
      .example('kubectl sts doctor web -w', 'Re-evaluate every 5s while you fix things') as never,
  fleet: { refuse: (a) => (a.watch ? '-w cannot be used' : undefined) },
  run: async (args, deps): Promise<CommandResult> => {
    const stuckAfterMs = durationFlag('stuck-after', args.stuckAfter);
    const intervalMs = durationFlag('interval', args.interval);
    const kube = await deps.kube();
    const namespace = args.allNamespaces && !args.name ? undefined : (args.namespace ?? kube.namespace);
    const o: Options = { namespace, stuckAfterMs };
    if (!args.watch) {
      const spinner = await deps.spinner();
      spinner.start(`checking ${args.name ? `statefulset ${args.name}` : 'StatefulSets'}`);
      let r: Awaited<ReturnType<typeof evaluate>>;
      try {
        r = await evaluate(kube, deps, args, o);
      } finally {
        spinner.stop();
      }
      for (const l of r.lines) deps.log(`warning: ${l}`);
      return { output: format(r.out, args, deps), exitCode: r.exitCode };
    }
    let lastWarnings = '';
    const exitCode = await refreshLoop(deps, {
      intervalMs,
      structured: args.output === 'json' || args.output === 'yaml',
      header: (stamp) => `Every ${args.interval}: kubectl sts doctor${args.name ? ` ${args.name}` : ''}${namespace === undefined ? ' -A' : ` -n ${namespace}`}   ${stamp}`,
      round: async () => {
        const r = await evaluate(kube, deps, args, o);
        // The same warnings every round are said once.
        const w = r.lines.join('\n');
        if (w !== lastWarnings) for (const l of r.lines) deps.log(`warning: ${l}`);
        lastWarnings = w;
        return { body: format(r.out, args, deps), exitCode: r.exitCode };
      },
    });
    return { output: '', exitCode };
  },
});
