// Checks, before anything is written, that the folders and files a command will create can be
// created: a setting that points into /proc, at a device or under a regular file is a usage error
// (exit 2) naming the setting, not a hang or a stack trace halfway through.
import { accessSync, constants, statSync, statfsSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LocalUpError, ExitCode } from '../errors.js';
import type { ResolvedSettings } from './resolve.js';
import type { SettingKey } from './settings.js';
import { settingSpecs } from './settings.js';

/** NOTE: Node's recursive mkdir loops forever (in C++, deaf to SIGTERM) on a missing path inside these. */
const PSEUDO_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
]);

export type PathUse = 'folder' | 'file';

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function describe(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  return 'not a folder';
}

function pseudoFileSystem(path: string): string | null {
  try {
    return PSEUDO_FILE_SYSTEMS.get(Number(statfsSync(path).type)) ?? null;
  } catch {
    return null;
  }
}

/** Why `path` cannot be used as a folder (or file) we create, or null when it can. */
export function pathProblem(path: string, use: PathUse): string | null {
  const target = resolve(path);
  const own = statOrNull(target);
  if (own !== null) {
    if (use === 'folder' && !own.isDirectory()) return `${target} is ${describe(own)}, not a folder`;
    if (use === 'file' && !own.isFile()) return `${target} is ${own.isDirectory() ? 'a folder' : describe(own)}, not a regular file`;
  }
  // The nearest existing folder above (or at) the path must be a writable folder on a real file system.
  let existing = use === 'file' || own === null ? dirname(target) : target;
  let stats = statOrNull(existing);
  while (stats === null && dirname(existing) !== existing) {
    existing = dirname(existing);
    stats = statOrNull(existing);
  }
  if (stats === null) return `nothing of ${target} exists, not even /`;
  if (!stats.isDirectory()) return `${existing} is ${describe(stats)}, not a folder, so ${target} cannot be created`;
  const pseudo = pseudoFileSystem(existing);
  if (pseudo !== null) return `${existing} is on the kernel's ${pseudo} file system, where files cannot be created`;
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    return `${existing} is not writable by this user`;
  }
  return null;
}

/** Throws one usage error listing every setting in `uses` whose path cannot be written. */
export function requireWritablePaths(resolved: ResolvedSettings, uses: Partial<Record<SettingKey, PathUse>>): void {
  const specs = settingSpecs({});
  const problems: string[] = [];
  for (const [key, use] of Object.entries(uses) as [SettingKey, PathUse][]) {
    const value = resolved.values[key];
    if (typeof value !== 'string' || value === '') continue;
    const problem = pathProblem(value, use);
    if (problem === null) continue;
    const source = resolved.sources[key];
    const from = source.source === 'default' ? 'the default' : source.source === 'flag' ? `from --${specs[key].flag}` : source.source === 'env' ? 'from the environment' : `from ${source.origin ?? '.env'}`;
    problems.push(`${specs[key].env}=${JSON.stringify(value)} (${from}): ${problem}`);
  }
  if (problems.length === 0) return;
  throw new LocalUpError(ExitCode.usage, problems.length === 1 ? (problems[0] as string) : `these paths cannot be written:\n  ${problems.join('\n  ')}`, {
    hint: 'point the setting at a folder you can write to (nothing was changed)',
  });
}
