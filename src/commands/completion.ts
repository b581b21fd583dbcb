/**
 * `kubectl sts completion bash|zsh|fish` prints a completion script for the standalone
 * `kubectl-sts` binary; `kubectl sts completion install` writes the `kubectl_complete-sts`
 * helper that kubectl (>= 1.26) runs to complete `kubectl sts ...`. Both ask the binary's
 * hidden `__complete` command, which speaks cobra's protocol (candidates, then `:<directive>`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { defineCommand } from './command.js';
import { ExitCode, UsageError } from '../errors.js';

export const COMPLETE_HELPER = 'kubectl_complete-sts';

export function helperScript(): string {
  return '#!/usr/bin/env sh\n# Shell completion for `kubectl sts`: kubectl runs this with the words typed so far.\nexec kubectl-sts __complete "$@"\n';
}

export function shellScript(shell: 'bash' | 'zsh' | 'fish'): string {
  switch (shell) {
    case 'bash':
      return `# bash completion for kubectl-sts; load with: source <(kubectl-sts completion bash)
_kubectl_sts() {
  local cur words out directive
  cur="\${COMP_WORDS[COMP_CWORD]}"
  words=("\${COMP_WORDS[@]:1:COMP_CWORD-1}")
  out=$(kubectl-sts __complete "\${words[@]}" "$cur" 2>/dev/null)
  directive=$(printf '%s\\n' "$out" | tail -n1)
  COMPREPLY=($(compgen -W "$(printf '%s\\n' "$out" | sed '$d' | cut -f1)" -- "$cur"))
}
complete -F _kubectl_sts kubectl-sts
`;
    case 'zsh':
      return `#compdef kubectl-sts
# zsh completion for kubectl-sts; load with: source <(kubectl-sts completion zsh)
_kubectl_sts() {
  local -a cands
  local out
  out=$(kubectl-sts __complete "\${words[@]:1:CURRENT-2}" "\${words[CURRENT]}" 2>/dev/null)
  cands=("\${(@f)$(printf '%s\\n' "$out" | sed '$d' | sed 's/\\t.*//')}")
  compadd -a cands
}
compdef _kubectl_sts kubectl-sts
`;
    case 'fish':
      return `# fish completion for kubectl-sts; load with: kubectl-sts completion fish | source
function __kubectl_sts_complete
  set -l words (commandline -opc)[2..-1]
  kubectl-sts __complete $words (commandline -ct) 2>/dev/null | sed '$d'
end
complete -c kubectl-sts -f -a '(__kubectl_sts_complete)'
`;
  }
}

/**
 * Where kubectl found this plugin: the helper must sit in a PATH directory next to it. A Krew
 * install runs through a symlink ($KREW_ROOT/bin/kubectl-sts -> store/...), so the invoked path
 * (argv[0]; kubectl passes the full path) counts, not the resolved executable.
 */
export function installDir(argv0 = process.argv0, execPath = process.execPath, envPath = process.env.PATH ?? ''): string {
  if (argv0.includes('/') || argv0.includes('\\')) return path.dirname(path.resolve(argv0));
  const self = fs.realpathSync(execPath);
  for (const d of envPath.split(path.delimiter)) {
    if (!d) continue;
    try {
      if (fs.realpathSync(path.join(d, argv0)) === self) return path.resolve(d);
    } catch {
      // not in this PATH entry
    }
  }
  return path.dirname(self);
}

export const completionCommand = defineCommand<{ shell?: string; dir?: string }>({
  command: 'completion <shell>',
  describe: 'Print a shell completion script (bash, zsh, fish), or "install" the kubectl_complete-sts helper',
  builder: (y) =>
    y
      .positional('shell', { choices: ['bash', 'zsh', 'fish', 'install'] as const, describe: 'Shell, or "install"' })
      .option('dir', {
        type: 'string',
        describe: 'With install: the directory to write kubectl_complete-sts into (default: next to this binary)',
      }) as never,
  run: async (args) => {
    if (args.shell === 'install') {
      const dir = args.dir ?? installDir();
      if (!fs.existsSync(dir)) throw new UsageError(`directory ${dir} does not exist`);
      const target = path.join(dir, COMPLETE_HELPER);
      try {
        fs.writeFileSync(target, helperScript(), { mode: 0o755 });
      } catch (e) {
        throw new UsageError(`cannot write ${target}: ${(e as Error).message}`, ['Pass --dir with a directory on your PATH that you can write to.']);
      }
      return {
        output: `Wrote ${target}.\nkubectl >= 1.26 now completes \`kubectl sts <TAB>\` when ${dir} is on your PATH.\n`,
        exitCode: ExitCode.Ok,
      };
    }
    return { output: shellScript(args.shell as 'bash' | 'zsh' | 'fish'), exitCode: ExitCode.Ok };
  },
});
