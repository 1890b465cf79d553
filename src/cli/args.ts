// Command-line parsing on node:util parseArgs (strict, no framework): every
// command declares its options; commands that use settings also accept one
// flag per setting, resolved with the same precedence everywhere.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseDotenv } from 'dotenv';
import { usageError } from '../errors.js';
import type { DotenvValues, ResolvedSettings } from '../config/resolve.js';
import { resolveSettings } from '../config/resolve.js';
import type { SettingKey, SettingSpec, Settings } from '../config/settings.js';
import type { PathUse } from '../config/writable-paths.js';
import { requireWritablePaths } from '../config/writable-paths.js';
import { settingSpecs } from '../config/settings.js';
import type { Io } from '../io/io.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  /** Shown in --help, e.g. "FILE". */
  readonly value?: string;
  readonly description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export type ParsedValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface ParsedCommandLine {
  readonly values: ParsedValues;
  readonly positionals: string[];
  /** Settings flags given on the command line, as raw text. */
  readonly settingFlags: Partial<Record<SettingKey, string>>;
  readonly envFile: string | undefined;
}

export const GLOBAL_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  // NOTE: not --env-file: Node 20 takes that from anywhere in argv, before our code runs.
  dotenv: { type: 'string', value: 'FILE', description: 'read settings from this .env file instead of the project root .env' },
};

/** Node's own option, refused by name when it reaches us (a newer Node, or a file Node already loaded). */
const NODE_ENV_FILE = /^--env-file(=|$)/;

/**
 * Where a pass-through command line starts: the first word that is neither an option nor the value
 * of a string option (or the word after `--`). Returns argv.length when there is none.
 */
export function commandStart(argv: readonly string[], options: OptionSpecs, settings: boolean): number {
  const takesValue = new Set(Object.entries({ ...GLOBAL_OPTIONS, ...options }).filter(([, spec]) => spec.type === 'string').map(([name]) => name));
  if (settings) for (const spec of Object.values(settingSpecs({})) as SettingSpec<unknown>[]) if (spec.boolean !== true) takesValue.add(spec.flag);
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') return i + 1;
    if (!word.startsWith('-') || word === '-') return i;
    if (word.startsWith('--') && !word.includes('=') && takesValue.has(word.slice(2))) i++;
  }
  return argv.length;
}

/** Parses argv for a command. With `settings`, every setting's flag is accepted too. */
export function parseCommandLine(argv: readonly string[], options: OptionSpecs, settings: boolean): ParsedCommandLine {
  const specs = settingSpecs({});
  const config: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, spec] of Object.entries({ ...GLOBAL_OPTIONS, ...options })) {
    config[name] = { type: spec.type, ...(spec.multiple === true ? { multiple: true } : {}), ...(spec.short === undefined ? {} : { short: spec.short }) };
  }
  const settingFlagNames = new Map<string, SettingKey>();
  if (settings) {
    for (const [key, spec] of Object.entries(specs) as [SettingKey, SettingSpec<unknown>][]) {
      if (config[spec.flag] !== undefined) continue;
      settingFlagNames.set(spec.flag, key);
      if (spec.boolean === true) {
        config[spec.flag] = { type: 'boolean' };
        config[`no-${spec.flag}`] = { type: 'boolean' };
        settingFlagNames.set(`no-${spec.flag}`, key);
      } else {
        config[spec.flag] = { type: 'string' };
      }
    }
  }
  const nodeOption = argv.find((word) => NODE_ENV_FILE.test(word));
  if (nodeOption !== undefined) {
    throw usageError('--env-file is an option of Node itself (Node 20 reads it before kube-local-up starts)', 'use --dotenv FILE to read settings from a .env file');
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(cleanParseError((error as Error).message), 'run the command with --help to see its options');
  }
  const values = parsed.values as ParsedValues;
  const settingFlags: Partial<Record<SettingKey, string>> = {};
  for (const [flag, key] of settingFlagNames) {
    const value = values[flag];
    if (value === undefined) continue;
    settingFlags[key] = typeof value === 'boolean' ? String(flag.startsWith('no-') ? !value : value) : String(value);
  }
  const envFile = values.dotenv;
  return { values, positionals: parsed.positionals, settingFlags, envFile: typeof envFile === 'string' ? envFile : undefined };
}

function cleanParseError(message: string): string {
  // node's messages carry a sentence of advice about "--" that does not fit here.
  return message.replace(/\. To specify a positional argument starting with a '-'.*$/s, '').replace(/^Unknown option/, 'unknown option');
}

/** Reads the .env file: --dotenv (must exist) or the project root's .env (optional). */
export function loadDotenv(io: Io, envFile: string | undefined): DotenvValues | null {
  const path = envFile === undefined ? join(io.projectRoot, '.env') : resolve(io.cwd, envFile);
  if (!existsSync(path)) {
    if (envFile !== undefined) throw usageError(`--dotenv ${envFile}: no such file`, 'give the path of an existing .env file');
    return null;
  }
  try {
    return { path, values: parseDotenv(readFileSync(path)) };
  } catch (error) {
    throw usageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/**
 * Resolves settings for a command and prints their warnings. `writes` names the path settings the
 * command creates (given the resolved values); they are checked before anything runs.
 */
export function settingsFor(io: Io, commandLine: ParsedCommandLine, writes?: (settings: Settings) => Partial<Record<SettingKey, PathUse>>): ResolvedSettings {
  const resolved = resolveSettings({ flags: commandLine.settingFlags, env: io.env, dotenv: loadDotenv(io, commandLine.envFile) });
  for (const warning of resolved.warnings) io.err(`warning: ${warning}\n`);
  if (writes !== undefined) requireWritablePaths(resolved, writes(resolved.values));
  return resolved;
}

/** The paths every command that keeps cluster state writes: the state folder and the logs. */
export const STATE_PATHS = (): Partial<Record<SettingKey, PathUse>> => ({ stateDir: 'folder', logDir: 'folder' });

/** The string value of an option, or undefined. */
export function stringOption(values: ParsedValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listOption(values: ParsedValues, name: string): string[] {
  const value = values[name];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

export const flagOption = (values: ParsedValues, name: string): boolean => values[name] === true;
