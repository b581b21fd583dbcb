/**
 * `kubectl sts rollout`: staged StatefulSet rollouts by stepping the partition.
 *   rollout NAME --step [N] | --to P | --auto     lower the partition and wait (watch, not polling)
 *   rollout status|hold|diff|history|undo NAME
 * The work lives in rollout-step.ts, rollout-status.ts and rollout-revisions.ts.
 */
import type { Argv } from 'yargs';
import { defineCommand, type GlobalArgs } from './command.js';
import { runStep, type StepArgs } from './rollout-step.js';
import { runHold, runStatus, type HoldArgs, type StatusArgs } from './rollout-status.js';
import { runDiff, runHistory, runUndo, type DiffArgs, type HistoryArgs, type UndoArgs } from './rollout-revisions.js';

const dryRunOption = {
  type: 'string',
  describe: 'client: print the patch and what would change; server: also have the API server validate it (nothing is persisted)',
  coerce: (v: unknown) => (v === true ? 'client' : v),
} as const;

const nameArg = (y: Argv<GlobalArgs>) => y.positional('name', { type: 'string', describe: 'StatefulSet name', demandOption: true });

const statusCommand = defineCommand<StatusArgs>({
  command: 'status <name>',
  describe: 'Show the rollout of a StatefulSet: partition, revisions, and each pod\'s revision and readiness',
  builder: (y) =>
    nameArg(y)
      .option('watch', { alias: 'w', type: 'boolean', default: false, describe: 'Follow the rollout live until the pods at or above the partition are updated and Ready' })
      .option('timeout', { type: 'string', default: '0', describe: 'With -w: give up after this long (e.g. 5m; 0 waits as long as it takes); exit 1' })
      .option('all-contexts', { type: 'boolean', default: false, describe: 'Run against every context of the kubeconfig at once (or name several: --context a,b,c); not with -w' })
      .example('kubectl sts rollout status web', 'Where the rollout of web stands')
      .example('kubectl sts rollout status web -w', 'Follow it until the partitioned rollout is done') as never,
  fleet: { refuse: (a) => (a.watch ? '-w cannot be used' : undefined) },
  run: runStatus,
});

const holdCommand = defineCommand<HoldArgs>({
  command: 'hold <name>',
  describe: 'Set the partition to replicas so a template change rolls nothing until stepped (the canary prelude)',
  builder: (y) =>
    nameArg(y)
      .option('image', { type: 'string', array: true, describe: 'CONTAINER=IMAGE to set in the same change (repeatable)' })
      .option('dry-run', dryRunOption)
      .example('kubectl sts rollout hold web --image nginx=registry.k8s.io/nginx-slim:0.9', 'Hold every pod, then change the image')
      .example('kubectl sts rollout web --step 1', 'Then canary the highest ordinal') as never,
  run: runHold,
});

const diffCommand = defineCommand<DiffArgs>({
  command: 'diff <name>',
  describe: 'Show the pod template diff between the current and the update revision (from ControllerRevisions)',
  builder: (y) =>
    nameArg(y)
      .option('revision', { type: 'number', describe: 'Compare this revision (instead of the current one) with the update revision' })
      .example('kubectl sts rollout diff web', 'What the pending rollout changes') as never,
  run: runDiff,
});

const historyCommand = defineCommand<HistoryArgs>({
  command: 'history <name>',
  describe: 'List the revisions of a StatefulSet (its ControllerRevisions), or show one with --revision',
  builder: (y) =>
    nameArg(y)
      .option('revision', { type: 'number', describe: 'Show the pod template of this revision' })
      .example('kubectl sts rollout history web', 'Revisions, their images and pods')
      .example('kubectl sts rollout history web --revision 2', 'The pod template of revision 2') as never,
  run: runHistory,
});

const undoCommand = defineCommand<UndoArgs>({
  command: 'undo <name>',
  describe: 'Restore the pod template of an earlier revision (template only: strategy and partition stay)',
  builder: (y) =>
    nameArg(y)
      .option('to-revision', { type: 'number', default: 0, describe: 'The revision to restore; 0 is the one before the update revision' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'Forced rollback for OrderedReady sets stuck on a broken revision: after restoring the template, delete the pods created from the bad revision',
      })
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask for confirmation' })
      .option('dry-run', dryRunOption)
      .example('kubectl sts rollout undo web', 'Back to the previous template')
      .example('kubectl sts rollout undo web --force --yes', 'Recover a set stuck on a pod that never becomes Ready') as never,
  run: runUndo,
});

/** The stepping flags, shared by `rollout NAME` and its explicit form `rollout step NAME`. */
function stepOptions(y: Argv<any>): Argv<any> {
  return y
    .option('step', { type: 'string', describe: 'Lower the partition by N (default 1, never below 0), then wait for the pods it releases' })
    .option('to', { type: 'number', describe: 'Set the partition to exactly P, then wait' })
    .option('auto', { type: 'boolean', default: false, describe: 'Step (by --step N, default 1) until partition 0; stop at the first pod that fails' })
    .option('interval', { type: 'string', default: '10s', describe: 'With --auto: watch updated pods this long between steps; a restart or lost Ready stops the rollout' })
    .option('timeout', { type: 'string', default: '5m', describe: 'How long one step may wait for its pods (0: no limit); exit 1 naming the pod' })
    .option('wait', { type: 'boolean', default: true, describe: 'Wait for the pods (--no-wait: change the partition and return)' })
    .option('delete-pods', { type: 'boolean', default: false, describe: 'For OnDelete sets: delete outdated pods from the highest ordinal down, waiting for each' })
    .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask before deleting pods (--delete-pods)' })
    .option('dry-run', dryRunOption);
}

const NAMES_NOTE =
  'A StatefulSet whose name is also a subcommand (status, hold, diff, history, undo, step) is named after "step" or after "--": ' +
  'kubectl sts rollout step status --step, or kubectl sts rollout --step -- status. Any other name works in every form.';

const stepCommand = defineCommand<StepArgs>({
  command: 'step <name>',
  describe: 'Lower the partition and wait: the explicit form of `rollout NAME` (one step unless --step N, --to P or --auto)',
  builder: (y) =>
    stepOptions(nameArg(y))
      .example('kubectl sts rollout step web', 'Lower the partition of web by one and wait for that pod')
      .example('kubectl sts rollout step status --to 0', 'Finish the rollout of a set named "status"')
      .epilogue(NAMES_NOTE) as never,
  run: (args, deps) => runStep({ ...args, step: args.step ?? (args.to === undefined && !args.auto ? '' : undefined) }, deps),
});

export const rolloutCommand = defineCommand<StepArgs>({
  command: 'rollout [name]',
  describe: 'Staged StatefulSet rollouts by stepping the partition: status, step, auto, hold, diff, history, undo',
  subcommands: [statusCommand, holdCommand, diffCommand, historyCommand, undoCommand, stepCommand],
  defaultSubcommand: 'step',
  builder: (y) =>
    stepOptions(y.positional('name', { type: 'string', describe: 'StatefulSet name' }))
      .example('kubectl sts rollout web --step', 'Lower the partition of web by one and wait for that pod')
      .example('kubectl sts rollout web --step 2', 'Release two more ordinals')
      .example('kubectl sts rollout web --to 0', 'Finish the rollout')
      .example('kubectl sts rollout web --auto --interval 30s', 'Step one pod at a time, watching each for 30s')
      .example('kubectl sts rollout step status --step', 'Step a set named "status" (also: kubectl sts rollout --step -- status)')
      .epilogue(NAMES_NOTE) as never,
  run: runStep,
});
