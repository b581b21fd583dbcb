/**
 * What an exec's outcome means, whichever runtime ran it. Pure: used by the exec layer when it
 * reads the final Status, and by the commands that interpret results (dns-check, mongo-status).
 */

const MISSING = /executable file not found|not found in \$PATH|no such file or directory|command not found/i;

/**
 * The exit code a runtime reported only inside its failure message ("... exit status 1", as
 * KWOK's local exec does; "exit code 1" elsewhere), or undefined when the message has none.
 */
export function exitCodeFromMessage(message: string | undefined): number | undefined {
  const m = message ? /exit (?:status|code) (\d+)/.exec(message) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * Whether an exec result means the program does not exist in the container: exit 127, or a
 * runtime's "executable file not found" (Docker-based runtimes print the OCI error on stdout
 * with exit 126/127; KWOK and containerd put it in the failure message).
 */
export function isMissingExecutable(r: { stdout?: string; stderr: string; exitCode: number; failure?: string | undefined }): boolean {
  if (r.exitCode === 0) return false;
  if (r.exitCode === 127) return true;
  const text = `${r.failure ?? ''}\n${r.stderr}\n${r.exitCode === 126 ? (r.stdout ?? '') : ''}`;
  return MISSING.test(text);
}

interface StatusLike {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** Exit code from the exec channel's final Status object; -1 with `failure` when it never ran. */
export function exitCodeFromStatus(s: StatusLike): { exitCode: number; failure?: string } {
  if (s.status === 'Success') return { exitCode: 0 };
  const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message !== undefined && /^\d+$/.test(cause.message)) return { exitCode: Number(cause.message) };
  // Some runtimes (KWOK's local exec among them) report a non-zero exit only inside the message.
  const fromMessage = exitCodeFromMessage(s.message);
  if (fromMessage !== undefined && !MISSING.test(s.message ?? '')) return { exitCode: fromMessage };
  return { exitCode: -1, failure: s.message ?? s.reason ?? 'command failed to start' };
}
