/**
 * The one confirmation gate every change passes (rollout undo / --delete-pods, pvc-orphans
 * --delete, finalize-localpv, dns-check --debug-image): the exact list of what will change goes
 * to stderr, then a yes/no on the terminal. A dry run never asks (nothing is persisted);
 * `-y/--yes` does not ask; without a terminal and without --yes every command refuses with the
 * same message and changes nothing.
 */
import type { Deps } from '../deps.js';
import type { DryRun } from '../kube/index.js';
import { AbortedError, CliError, ExitCode } from '../errors.js';

/** The refusal for "no terminal and no --yes", word for word the same in every command. */
export function noTerminalRefusal(action: string, lines: string[]): CliError {
  return new CliError(`refusing to ${action} without confirmation: there is no terminal to ask on`, ExitCode.Problems, [
    ...lines,
    'Nothing was changed. Pass -y/--yes to proceed without asking, or --dry-run=server to have the API server check it first.',
  ]);
}

export interface ConfirmRequest {
  /** What will be done, as a verb phrase: "delete 3 object(s)", "roll back web to revision 2". */
  action: string;
  /** Exactly what changes, one line each (shown before the question, and in the refusal). */
  lines: string[];
  /** The question; default "<action>?". */
  question?: string;
  yes?: boolean | undefined;
  dryRun?: DryRun | undefined;
}

/** Resolves when the change may go ahead; throws the refusal or an AbortedError otherwise. */
export async function confirmChange(deps: Deps, r: ConfirmRequest): Promise<void> {
  if (r.yes || (r.dryRun !== undefined && r.dryRun !== 'none')) return;
  if (!deps.interactive) throw noTerminalRefusal(r.action, r.lines);
  for (const l of r.lines) deps.log(l);
  if (!(await deps.confirm(r.question ?? `${r.action}?`))) throw new AbortedError(`declined: nothing was changed (${r.action})`);
}
