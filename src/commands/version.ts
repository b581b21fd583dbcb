/** `kubectl sts version`: the plugin's version and, unless --client, the API server's. */
import { defineCommand, type CommandResult } from './command.js';
import { VERSION } from '../version.js';
import { ExitCode } from '../errors.js';
import { renderStructured } from '../render/output.js';

/** The documented -o json|yaml shape. */
export interface VersionOutput {
  clientVersion: { gitVersion: string; platform: string };
  serverVersion?: { gitVersion: string; platform?: string };
  serverError?: string;
}

export const versionCommand = defineCommand<{ client: boolean }>({
  command: 'version',
  describe: 'Print the plugin version (and the server version unless --client)',
  builder: (y) => y.option('client', { type: 'boolean', default: false, describe: 'Only the plugin version; needs no cluster' }),
  run: async (args, deps): Promise<CommandResult> => {
    const out: VersionOutput = { clientVersion: { gitVersion: `v${VERSION}`, platform: `${process.platform}/${process.arch}` } };
    if (!args.client) {
      const kube = await deps.kube();
      const v = await kube.client.get<{ gitVersion: string; platform?: string }>('/version');
      out.serverVersion = { gitVersion: v.gitVersion, ...(v.platform ? { platform: v.platform } : {}) };
    }
    if (args.output === 'json' || args.output === 'yaml') return { output: renderStructured(out, args.output), exitCode: ExitCode.Ok };
    let text = `Plugin Version: ${out.clientVersion.gitVersion}\n`;
    if (out.serverVersion) text += `Server Version: ${out.serverVersion.gitVersion}\n`;
    return { output: text, exitCode: ExitCode.Ok };
  },
});
