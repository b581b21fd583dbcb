/** Every command of kubectl-sts, in the order `--help` lists them. */
import type { CommandSpec } from './command.js';
import { versionCommand } from './version.js';
import { completionCommand } from './completion.js';

export const COMMANDS: CommandSpec<any>[] = [versionCommand, completionCommand];
