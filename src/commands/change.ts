/**
 * The one mutation path. Every change the plugin makes — a partition step, a template restore, a
 * pod, claim or volume delete, a finalizer removal, an ephemeral debug container — goes through
 * here, in this order:
 *
 *   read → plan (pure, src/core) → show exactly what changes → confirm (`confirmChange`) →
 *   `--dry-run=client` stops → send (`--dry-run=server`: dryRun=All) with the preconditions the
 *   plan carries → on a conflict (409), or an answer lost after sending: read again, plan again,
 *   send again — or stop, when the fresh plan says the change no longer applies.
 *
 * `confirmChange` is the gate (one refusal text for "no terminal and no --yes"); `writeOne` is the
 * apply loop for one object. Runs of writes stay in their commands, which report per object what
 * was and was not done (pvc-orphans' result table, finalize-localpv's actions, rollout's standing).
 */
import type { Deps } from '../deps.js';
import type { DryRun } from '../kube/index.js';
import { AbortedError, CliError, ExitCode, isConflict, isNotFound } from '../errors.js';
import { retryability } from '../kube/retry.js';
import type { Planned } from '../core/plan.js';

// ---------------------------------------------------------------- confirm

/** The refusal for "no terminal and no --yes", word for word the same in every command. */
function noTerminalRefusal(action: string, lines: string[]): CliError {
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

/**
 * The confirmation gate: resolves when the change may go ahead; throws the refusal or an
 * AbortedError otherwise. A dry run never asks (nothing is persisted); -y/--yes does not ask.
 */
export async function confirmChange(deps: Deps, r: ConfirmRequest): Promise<void> {
  if (r.yes || (r.dryRun !== undefined && r.dryRun !== 'none')) return;
  if (!deps.interactive) throw noTerminalRefusal(r.action, r.lines);
  for (const l of r.lines) deps.log(l);
  if (!(await deps.confirm(r.question ?? `${r.action}?`))) throw new AbortedError(`declined: nothing was changed (${r.action})`);
}

// ---------------------------------------------------------------- apply

export type { Planned } from '../core/plan.js';

export interface Write<S, W, R> {
  /** Reads the state the plan judges (a GET, or the lists a re-diagnosis needs). */
  read(): Promise<S>;
  /** Pure: the write for this state, its preconditions inside it — or why there is none. May throw a refusal. */
  plan(state: S): Planned<W>;
  /** Sends the write (mode none or server). */
  send(write: W, mode: 'none' | 'server'): Promise<R>;
  /** After an answer lost in transit: whether the write landed, judged from a fresh read. */
  landed?(write: W, now: S, before: S): boolean;
  /** A 404 on send means the object is gone: the change no longer applies (default: an error). */
  goneIsNone?: string;
}

export type WriteOutcome<S, W, R> =
  /** `state` is what the write was planned on; after a lost answer `response` is absent and `now` is the re-read that showed it landed. */
  | { result: 'applied'; write: W; state: S; response: R | undefined; now?: S; attempts: number }
  | { result: 'accepted'; write: W; state: S; response: R; attempts: number } // --dry-run=server
  | { result: 'planned'; write: W; state: S; attempts: number } // --dry-run=client
  | { result: 'none'; reason: string; state: S | undefined; attempts: number }
  | { result: 'refused'; reason: string; state: S; attempts: number };

/** Conflicts (or lost answers) re-planned before giving up: each one means the object changed meanwhile. */
export const MAX_ATTEMPTS = 5;

/** A write whose outcome is unknown: the server (or the connection) failed after it may have been applied. */
function lostAnswer(e: unknown): boolean {
  const r = retryability(e);
  return r.retry && !r.notApplied;
}

/**
 * Plans and sends one write. A 409 (the precondition failed: the object changed since it was read)
 * or a lost answer re-reads and re-plans; after a lost answer a write that already landed is not
 * sent again. Errors other than those propagate unchanged; a conflict that persists through
 * MAX_ATTEMPTS re-plans propagates as the last 409.
 */
export async function writeOne<S, W, R>(w: Write<S, W, R>, mode: DryRun, first?: S): Promise<WriteOutcome<S, W, R>> {
  let state = first ?? (await w.read());
  for (let attempt = 1; ; attempt++) {
    const p = w.plan(state);
    if ('none' in p) return { result: 'none', reason: p.none, state, attempts: attempt };
    if ('refuse' in p) return { result: 'refused', reason: p.refuse, state, attempts: attempt };
    if (mode === 'client') return { result: 'planned', write: p.write, state, attempts: attempt };
    try {
      const response = await w.send(p.write, mode);
      return mode === 'server' ? { result: 'accepted', write: p.write, state, response, attempts: attempt } : { result: 'applied', write: p.write, state, response, attempts: attempt };
    } catch (e) {
      if (w.goneIsNone !== undefined && isNotFound(e)) return { result: 'none', reason: w.goneIsNone, state, attempts: attempt };
      const lost = lostAnswer(e);
      if ((!isConflict(e) && !lost) || attempt >= MAX_ATTEMPTS) throw e;
      const before = state;
      state = await w.read();
      if (lost && mode === 'none' && w.landed?.(p.write, state, before)) return { result: 'applied', write: p.write, state: before, response: undefined, now: state, attempts: attempt };
    }
  }
}
