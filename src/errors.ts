/**
 * Typed errors and the stable exit codes of kubectl-sts. Every failure that reaches the
 * top-level handler is one of these; anything else is a bug and is reported as such.
 */
export const ExitCode = {
  /** Everything is fine / the check found nothing. */
  Ok: 0,
  /** A check found problems, or an operation failed. */
  Problems: 1,
  /** The command line is wrong (unknown command, unknown or invalid flag). */
  Usage: 2,
  /** The cluster cannot be reached or the credentials are rejected (or there is no usable kubeconfig). */
  Unreachable: 3,
  /**
   * Could not check: the command found no problem in what it could read, but part of what it was
   * asked to decide could not be decided (a read was forbidden, an exec was refused, no member
   * answered). Never a clean bill of health. Problems found take precedence (exit 1).
   */
  Incomplete: 4,
  /** Interrupted by Ctrl-C (SIGINT), as shells report it (128 + 2). */
  Interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The binary carries two bundles (CLI and the lazily loaded API layer), each with its own copy
 * of these classes. Instances are branded through the global symbol registry and `instanceof`
 * checks the brand, so an error thrown in one bundle is recognised in the other.
 */
const BRAND = Symbol.for('kubectl-sts.error-kinds');

function branded(x: unknown, kind: string): boolean {
  return typeof x === 'object' && x !== null && Array.isArray((x as Record<symbol, unknown>)[BRAND]) && ((x as Record<symbol, string[]>)[BRAND]!).includes(kind);
}

/** An error that carries its exit code and a message written for a person. */
export class CliError extends Error {
  readonly exitCode: ExitCodeValue;
  /** Extra lines printed under the message: what to do about it. */
  readonly hints: string[];
  constructor(message: string, exitCode: ExitCodeValue = ExitCode.Problems, hints: string[] = []) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.hints = hints;
    // Every class in the chain adds its name: new.target's prototype chain decides.
    const kinds: string[] = [];
    for (let p = new.target.prototype; p && p !== Error.prototype; p = Object.getPrototypeOf(p)) kinds.push(p.constructor.name);
    Object.defineProperty(this, BRAND, { value: kinds, enumerable: false });
  }
  static override [Symbol.hasInstance](x: unknown): boolean {
    return branded(x, this.name);
  }
}

export class UsageError extends CliError {
  constructor(message: string, hints: string[] = []) {
    super(message, ExitCode.Usage, hints);
    this.name = 'UsageError';
  }
}

/** Raised when an API call fails; built by src/kube/errors.ts from the HTTP status. */
export class KubeApiError extends CliError {
  readonly status: number | undefined;
  readonly reason: string | undefined;
  constructor(message: string, opts: { status?: number; reason?: string; exitCode?: ExitCodeValue; hints?: string[] }) {
    super(message, opts.exitCode ?? ExitCode.Problems, opts.hints ?? []);
    this.name = 'KubeApiError';
    this.status = opts.status;
    this.reason = opts.reason;
  }
}

/** The user interrupted (Ctrl-C) or declined a confirmation. */
export class AbortedError extends CliError {
  constructor(message: string, hints: string[] = []) {
    super(message, ExitCode.Problems, hints);
    this.name = 'AbortedError';
  }
}

/**
 * Ctrl-C (SIGINT) or SIGTERM stopped the command (exit 130). The message says where it stopped
 * and what was and was not applied; it is printed as "interrupted: <message>".
 */
export class InterruptedError extends CliError {
  constructor(message = 'stopped by Ctrl-C', hints: string[] = []) {
    super(message, ExitCode.Interrupted, hints);
    this.name = 'InterruptedError';
  }
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}
export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}
/** 403: the identity lacks an RBAC verb; a read-only command skips that part and says so. */
export function isForbidden(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 403;
}

/**
 * The exit code of a check: problems found (1) win over "could not check" (4), which wins over 0.
 * `incomplete` is true when anything the command was asked to decide could not be decided.
 */
export function checkExitCode(problems: boolean, incomplete: boolean): ExitCodeValue {
  if (problems) return ExitCode.Problems;
  return incomplete ? ExitCode.Incomplete : ExitCode.Ok;
}
