/** Every command of kubectl-sts, in the order `--help` lists them. */
import type { CommandSpec } from './command.js';
import { rolloutCommand } from './rollout.js';
import { pvcOrphansCommand } from './pvc-orphans.js';
import { dnsCheckCommand } from './dns-check.js';
import { finalizeLocalPvCommand } from './finalize-localpv.js';
import { mongoStatusCommand } from './mongo-status.js';
import { doctorCommand } from './doctor.js';
import { versionCommand } from './version.js';
import { completionCommand } from './completion.js';

export const COMMANDS: CommandSpec<any>[] = [
  rolloutCommand,
  pvcOrphansCommand,
  dnsCheckCommand,
  finalizeLocalPvCommand,
  mongoStatusCommand,
  doctorCommand,
  versionCommand,
  completionCommand,
];
