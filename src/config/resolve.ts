// Resolves settings with one precedence for everything:
// command-line flag > real environment > .env file > default.
// Pure: the caller passes the flags, the environment and the .env values.
import { usageError } from '../errors.js';
import { SettingValueError, cidrsOverlap } from './parsers.js';
import type { SettingKey, SettingSpec, Settings } from './settings.js';
import { settingSpecs } from './settings.js';

export type SettingSource = 'flag' | 'env' | '.env' | 'default';

export interface ResolvedSetting {
  readonly key: SettingKey;
  readonly env: string;
  readonly flag: string;
  /** The text the value was parsed from. */
  readonly raw: string;
  readonly source: SettingSource;
  /** For source '.env': the file it came from. */
  readonly origin?: string;
}

export interface DotenvValues {
  readonly path: string;
  readonly values: Readonly<Record<string, string>>;
}

export interface ResolveInput {
  /** Raw flag values keyed by setting (booleans already turned into "true"/"false"). */
  readonly flags: Readonly<Partial<Record<SettingKey, string>>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly dotenv: DotenvValues | null;
}

export interface ResolvedSettings {
  readonly values: Settings;
  readonly sources: Readonly<Record<SettingKey, ResolvedSetting>>;
  /** Non-fatal findings, such as a likely typo in .env. */
  readonly warnings: readonly string[];
}

/** Variables other tools own that may sensibly sit in our .env (not typos). */
const FOREIGN_VARIABLES = new Set(['KIND_EXPERIMENTAL_PROVIDER', 'KUBECONFIG', 'KIND', 'KUBECTL', 'DOCKER_HOST', 'CONTAINER_RUNTIME_ENDPOINT']);

export function resolveSettings(input: ResolveInput): ResolvedSettings {
  const specs = settingSpecs(input.env);
  const values: Record<string, unknown> = {};
  const sources: Partial<Record<SettingKey, ResolvedSetting>> = {};
  const rawByEnv: Record<string, string> = {};
  const problems: string[] = [];

  for (const key of Object.keys(specs) as SettingKey[]) {
    const spec = specs[key] as SettingSpec<unknown>;
    const flagValue = input.flags[key];
    const envValue = nonEmpty(input.env[spec.env]);
    const dotenvValue = input.dotenv === null ? undefined : nonEmpty(input.dotenv.values[spec.env]);
    let chosen: Omit<ResolvedSetting, 'key' | 'env' | 'flag'>;
    if (flagValue !== undefined) chosen = { raw: flagValue, source: 'flag' };
    else if (envValue !== undefined) chosen = { raw: envValue, source: 'env' };
    else if (dotenvValue !== undefined && input.dotenv !== null) {
      chosen = { raw: dotenvValue, source: '.env', origin: input.dotenv.path };
    } else {
      const raw = typeof spec.default === 'function' ? spec.default({ env: input.env, resolved: rawByEnv }) : spec.default;
      chosen = { raw, source: 'default' };
    }
    try {
      values[key] = spec.parse(chosen.raw);
    } catch (error) {
      if (!(error instanceof SettingValueError)) throw error;
      problems.push(`${spec.env}=${JSON.stringify(chosen.raw)} (${describeSource(chosen.source, spec, chosen.origin)}) ${error.message}`);
    }
    rawByEnv[spec.env] = chosen.raw;
    sources[key] = { key, env: spec.env, flag: spec.flag, ...chosen };
  }

  const service = values.serviceCidr;
  const pods = values.clusterCidr;
  if (typeof service === 'string' && typeof pods === 'string' && cidrsOverlap(service, pods)) {
    const where = (key: SettingKey) => describeSource((sources[key] as ResolvedSetting).source, specs[key] as SettingSpec<unknown>, sources[key]?.origin);
    problems.push(`SERVICE_CLUSTER_IP_RANGE=${JSON.stringify(service)} (${where('serviceCidr')}) overlaps CLUSTER_CIDR=${JSON.stringify(pods)} (${where('clusterCidr')}); Services and Pods need ranges of their own`);
  }

  if (problems.length > 0) {
    throw usageError(
      problems.length === 1 ? `invalid setting: ${problems[0]}` : `invalid settings:\n  ${problems.join('\n  ')}`,
      'fix the value where it came from (flag, environment or .env); `local-up config show` lists every setting',
    );
  }

  return {
    values: values as Settings,
    sources: sources as Record<SettingKey, ResolvedSetting>,
    warnings: input.dotenv === null ? [] : dotenvWarnings(input.dotenv, Object.values(specs).map((s) => s.env)),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function describeSource(source: SettingSource, spec: SettingSpec<unknown>, origin: string | undefined): string {
  switch (source) {
    case 'flag':
      return `from --${spec.flag}`;
    case 'env':
      return 'from the environment';
    case '.env':
      return `from ${origin ?? '.env'}`;
    case 'default':
      return 'the default';
  }
}

function dotenvWarnings(dotenv: DotenvValues, known: readonly string[]): string[] {
  const warnings: string[] = [];
  for (const name of Object.keys(dotenv.values)) {
    if (known.includes(name) || FOREIGN_VARIABLES.has(name)) continue;
    const close = known.find((candidate) => editDistance(candidate, name) <= 2);
    if (close !== undefined) warnings.push(`${dotenv.path} sets ${name}, which is not a setting; did you mean ${close}?`);
  }
  return warnings;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min(current + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] as number;
}
