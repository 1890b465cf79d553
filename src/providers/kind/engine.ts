// The container engine, chosen the way kind chooses it, so kube-local-up checks
// the engine kind will really use: KIND_EXPERIMENTAL_PROVIDER when it names a
// known provider, else the first of docker, nerdctl (or finch), podman whose
// `<engine> -v` prints exactly one line starting with its own "<Name> version"
// (a podman-docker shim on PATH as `docker` is therefore not taken for Docker).
// Source: kind pkg/cluster/provider.go DetectNodeProvider and
// pkg/cluster/internal/providers/{docker,nerdctl,podman}/util.go IsAvailable;
// pkg/internal/runtime/runtime.go for KIND_EXPERIMENTAL_PROVIDER.
import type { ToolFact } from '../../doctor/tools.js';
import type { Runner } from '../../exec/runner.js';
import { tail } from '../../exec/runner.js';
import { findExecutable } from '../../exec/which.js';
import type { EngineInfo } from './engine-kernel.js';
import { engineInfoArgs, parseEngineInfo } from './engine-kernel.js';

const ENGINE_VERSION_TIMEOUT_MS = 10_000;
const ENGINE_INFO_TIMEOUT_MS = 20_000;

/** kind's autodetection order. */
export const KIND_ENGINE_ORDER = ['docker', 'nerdctl', 'finch', 'podman'] as const;
/** Values KIND_EXPERIMENTAL_PROVIDER accepts, and the executable each one runs. */
const FORCED: Readonly<Record<string, string>> = { docker: 'docker', podman: 'podman', nerdctl: 'nerdctl', finch: 'finch', 'nerdctl.lima': 'nerdctl.lima' };
/** The first word `<engine> -v` prints ("Docker version 27.3.1, build ..."). */
const VERSION_PREFIX: Readonly<Record<string, string>> = { docker: 'Docker version', nerdctl: 'nerdctl version', finch: 'finch version', podman: 'podman version' };

export interface EngineFact {
  readonly tool: ToolFact;
  /** The engine answered `info` (daemon or service up, and this user may use it). */
  readonly running: boolean;
  /** Why it is not usable, with the engine's own words. */
  readonly problem: string | null;
  /** How it was chosen. */
  readonly via: 'KIND_EXPERIMENTAL_PROVIDER' | 'autodetect';
  /** A KIND_EXPERIMENTAL_PROVIDER value kind ignores. */
  readonly ignoredSetting: string | null;
  /** What `<engine> info` said about its kernel and mode; null when not running or not readable. */
  readonly info: EngineInfo | null;
}

const missingTool = (name: string): ToolFact => ({ name, path: null, foundVia: null, versionText: null, failure: null });

export async function detectKindEngine(runner: Runner, env: Readonly<Record<string, string | undefined>>): Promise<EngineFact> {
  const forcedValue = env.KIND_EXPERIMENTAL_PROVIDER ?? '';
  const forced = FORCED[forcedValue];
  const ignoredSetting = forcedValue !== '' && forced === undefined ? forcedValue : null;
  if (forced !== undefined) {
    const path = findExecutable(forced, env, []);
    if (path === null) return { tool: missingTool(forced), running: false, problem: `KIND_EXPERIMENTAL_PROVIDER=${forcedValue}, but ${forced} is not on PATH`, via: 'KIND_EXPERIMENTAL_PROVIDER', ignoredSetting, info: null };
    return checkRunning({ name: forced, path, foundVia: 'KIND_EXPERIMENTAL_PROVIDER', versionText: null, failure: null }, runner, 'KIND_EXPERIMENTAL_PROVIDER', ignoredSetting);
  }
  const seen: string[] = [];
  for (const name of KIND_ENGINE_ORDER) {
    const path = findExecutable(name, env, []);
    if (path === null) continue;
    const version = await runner.run(path, ['-v'], { timeoutMs: ENGINE_VERSION_TIMEOUT_MS });
    const lines = version.stdout.trimEnd().split('\n').filter((l) => l !== '');
    const prefix = VERSION_PREFIX[name] ?? '';
    if (version.exitCode === 0 && lines.length === 1 && (lines[0] ?? '').startsWith(prefix)) {
      return checkRunning({ name, path, foundVia: 'PATH', versionText: lines[0] ?? null, failure: null }, runner, 'autodetect', ignoredSetting);
    }
    seen.push(`${path} -v printed ${JSON.stringify(lines[0] ?? version.stderr.trim().split('\n')[0] ?? '')}, not "${prefix} ..."`);
  }
  return {
    tool: missingTool('docker'),
    running: false,
    problem: seen.length === 0 ? null : `no usable engine: ${seen.join('; ')}`,
    via: 'autodetect',
    ignoredSetting,
    info: null,
  };
}

async function checkRunning(tool: ToolFact, runner: Runner, via: EngineFact['via'], ignoredSetting: string | null): Promise<EngineFact> {
  // The JSON form kind itself reads, which also names the engine's kernel and whether it is rootless.
  const info = await runner.run(tool.path as string, engineInfoArgs(tool.name), { timeoutMs: ENGINE_INFO_TIMEOUT_MS });
  if (info.exitCode === 0) return { tool, running: true, problem: null, via, ignoredSetting, info: parseEngineInfo(tool.name, info.stdout) };
  const why = info.timedOut ? `did not answer within ${ENGINE_INFO_TIMEOUT_MS / 1000}s` : tail(info.stderr || info.stdout || `exit ${info.exitCode ?? info.signal}`, 3).trim();
  return { tool, running: false, problem: `${tool.name} info: ${why}`, via, ignoredSetting, info: null };
}
