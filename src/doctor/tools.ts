// Finds a user-space tool and reads its version, without ever failing: the
// result is evidence for a check.
import type { Runner } from '../exec/runner.js';
import { findExecutable, pathWithSbin } from '../exec/which.js';

const VERSION_TIMEOUT_MS = 10_000;

export interface ToolFact {
  readonly name: string;
  /** Full path, or null when not found. */
  readonly path: string | null;
  /** Where it was found: "PATH", or the setting that named it. */
  readonly foundVia: string | null;
  /** First line of the version output, when the tool was run. */
  readonly versionText: string | null;
  /** Exit code and stderr when running it failed. */
  readonly failure: string | null;
}

export interface ProbeToolOptions {
  /** Arguments that print the version; null to only locate the tool (ipvsadm fails without IPVS). */
  readonly versionArgs: readonly string[] | null;
  /** A setting (e.g. KIND) that names the executable explicitly. */
  readonly override?: { readonly setting: string; readonly value: string | undefined };
}

export async function probeTool(name: string, runner: Runner, env: Readonly<Record<string, string | undefined>>, options: ProbeToolOptions): Promise<ToolFact> {
  const override = options.override?.value;
  const path = override !== undefined && override !== '' ? findExecutable(override, env) : findExecutable(name, env);
  const foundVia = path === null ? null : override !== undefined && override !== '' ? (options.override?.setting ?? null) : 'PATH';
  if (path === null || options.versionArgs === null) return { name, path, foundVia, versionText: null, failure: null };
  const result = await runner.run(path, options.versionArgs, { timeoutMs: VERSION_TIMEOUT_MS, env: { PATH: pathWithSbin(env), LC_ALL: 'C' } });
  const text = `${result.stdout}\n${result.stderr}`.trim();
  if (result.exitCode !== 0) {
    const why = result.timedOut ? `timed out after ${VERSION_TIMEOUT_MS / 1000}s` : `exited with ${result.exitCode ?? result.signal}`;
    return { name, path, foundVia, versionText: null, failure: `${path} ${options.versionArgs.join(' ')} ${why}: ${text.split('\n')[0] ?? ''}`.trim() };
  }
  return { name, path, foundVia, versionText: text.split('\n')[0] ?? '', failure: null };
}

/** "ipset v7.17, protocol version: 7" → [7, 17]. */
export function parseDottedVersion(text: string): [number, number] | null {
  const match = /v?(\d+)\.(\d+)/.exec(text);
  return match === null ? null : [Number(match[1]), Number(match[2])];
}
