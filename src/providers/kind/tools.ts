// kind itself: found through the KIND setting, PATH, or the managed copy in
// TOOLS_DIR; and `local-up tools install kind`, which downloads the pinned
// release for this OS/arch and keeps it only when its SHA-256 matches.
import { chmod, mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Settings } from '../../config/settings.js';
import type { ToolFact } from '../../doctor/tools.js';
import { ExitCode, LocalUpError, unavailableError } from '../../errors.js';
import { DownloadError, downloadToFile, hashFile } from '../../exec/download.js';
import type { Fetcher } from '../../exec/download.js';
import type { Runner } from '../../exec/runner.js';
import { findExecutable } from '../../exec/which.js';
import { KIND_SHA256, KIND_VERSION, kindAssetName, kindDownloadUrl, managedKindFile } from './release.js';

const KIND_VERSION_TIMEOUT_MS = 10_000;
/** A kind binary is about 10 MiB; a slow mirror gets five minutes. */
export const KIND_DOWNLOAD_TIMEOUT_MS = 300_000;
/** More than any kind release; stops a wrong URL from filling the disk. */
const MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024;

export type KindSource = 'KIND setting' | 'PATH' | 'TOOLS_DIR cache';

/** Where kind is, without running it. A KIND setting that names nothing is reported, not skipped. */
export function locateKind(settings: Pick<Settings, 'kindBinary' | 'toolsDir'>, env: Readonly<Record<string, string | undefined>>): { path: string | null; source: KindSource | null; problem: string | null } {
  if (settings.kindBinary !== '') {
    const path = findExecutable(settings.kindBinary, env, []);
    return path === null
      ? { path: null, source: null, problem: `KIND=${settings.kindBinary} is not an executable file (nor a command on PATH)` }
      : { path, source: 'KIND setting', problem: null };
  }
  const onPath = findExecutable('kind', env, []);
  if (onPath !== null) return { path: onPath, source: 'PATH', problem: null };
  const managed = findExecutable(managedKindFile(settings.toolsDir), env, []);
  if (managed !== null) return { path: managed, source: 'TOOLS_DIR cache', problem: null };
  return { path: null, source: null, problem: null };
}

/** kind located and asked for its version, as a doctor fact. */
export async function probeKind(settings: Pick<Settings, 'kindBinary' | 'toolsDir'>, runner: Runner, env: Readonly<Record<string, string | undefined>>): Promise<ToolFact> {
  const found = locateKind(settings, env);
  if (found.path === null) return { name: 'kind', path: null, foundVia: null, versionText: null, failure: found.problem };
  const result = await runner.run(found.path, ['version'], { timeoutMs: KIND_VERSION_TIMEOUT_MS });
  if (result.exitCode !== 0) {
    const why = result.timedOut ? `timed out after ${KIND_VERSION_TIMEOUT_MS / 1000}s` : `exited with ${result.exitCode ?? result.signal}`;
    return { name: 'kind', path: found.path, foundVia: found.source, versionText: null, failure: `${found.path} version ${why}: ${(result.stderr || result.stdout).trim().split('\n')[0] ?? ''}` };
  }
  return { name: 'kind', path: found.path, foundVia: found.source, versionText: result.stdout.trim().split('\n')[0] ?? '', failure: null };
}

/** What to do by hand when kube-local-up cannot download kind. */
export function manualKindInstall(settings: Pick<Settings, 'kindDownloadBase' | 'toolsDir'>, asset: string): string {
  const url = kindDownloadUrl(settings.kindDownloadBase, asset);
  const target = managedKindFile(settings.toolsDir);
  return `download ${url}, check that its SHA-256 is ${KIND_SHA256[asset] ?? '(see its .sha256sum)'}, then \`chmod +x\` it and move it to ${target} (or put kind on PATH, or set KIND=/path/to/kind)`;
}

export interface InstallResult {
  readonly path: string;
  readonly url: string;
  readonly sha256: string;
  /** false when the cached copy was already there. */
  readonly downloaded: boolean;
}

export interface InstallOptions {
  readonly platform?: string;
  readonly arch?: string;
  readonly signal?: AbortSignal;
  /** The HTTP client (tests); Node's fetch otherwise. */
  readonly fetcher?: Fetcher;
  /** Replaces the pinned checksums (tests serving a stand-in binary); never set from user input. */
  readonly expectedSha256?: Readonly<Record<string, string>>;
}

/**
 * Installs the pinned kind into TOOLS_DIR/kind-<version>: downloads it, checks its SHA-256
 * against the pinned value, and only then moves it into place (executable). A mismatch or a
 * failed download leaves nothing behind.
 */
export async function installKind(settings: Pick<Settings, 'kindDownloadBase' | 'toolsDir'>, env: Readonly<Record<string, string | undefined>>, options: InstallOptions = {}): Promise<InstallResult> {
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const asset = kindAssetName(platform, arch);
  if (asset === null) {
    throw unavailableError(`kube-local-up pins kind ${KIND_VERSION} for linux and darwin on amd64/arm64, not ${platform}/${arch}`, {
      hint: 'install kind yourself (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and set KIND to its path',
    });
  }
  const expected = (options.expectedSha256 ?? KIND_SHA256)[asset] ?? '';
  const target = managedKindFile(settings.toolsDir);
  const url = kindDownloadUrl(settings.kindDownloadBase, asset);
  const existing = findExecutable(target, env, []);
  if (existing !== null) {
    // A cached copy is trusted only while it still has the pinned hash.
    const cachedDigest = await hashFile(target, 'sha256');
    if (cachedDigest === expected) return { path: target, url, sha256: expected, downloaded: false };
    await rm(target, { force: true });
  }

  const timeout = AbortSignal.timeout(KIND_DOWNLOAD_TIMEOUT_MS);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
  const createdDir = await mkdirTracked(dirname(target)).catch((error: unknown) => {
    throw unavailableError(`cannot create ${dirname(target)}: ${(error as Error).message}`, { hint: 'set TOOLS_DIR to a writable folder' });
  });
  const partial = `${target}.${process.pid}.partial`;
  let result: { bytes: number; digest: string };
  try {
    result = await downloadToFile({ url, file: partial, maxBytes: MAX_DOWNLOAD_BYTES, algorithm: 'sha256', expectedDigest: expected, signal }, options.fetcher);
  } catch (error) {
    if (createdDir !== null) await rm(createdDir, { recursive: true, force: true });
    if (options.signal?.aborted === true) throw new LocalUpError(ExitCode.interrupted, 'interrupted while downloading kind; nothing was cached');
    if (error instanceof DownloadError && error.kind === 'digest') {
      throw unavailableError(`the kind downloaded from ${url} does not have the pinned SHA-256; nothing was cached`, {
        details: `expected ${expected}\nactual   ${error.actualDigest ?? '?'}`,
        hint: `check KIND_DOWNLOAD_BASE (${settings.kindDownloadBase}) serves the official ${KIND_VERSION} release; or: ${manualKindInstall(settings, asset)}`,
      });
    }
    if (error instanceof DownloadError && error.kind === 'write') {
      throw unavailableError(`cannot write ${partial}: ${error.message}; nothing was cached`, { hint: 'free some disk space or set TOOLS_DIR to a writable folder' });
    }
    const reason = timeout.aborted ? `no answer within ${KIND_DOWNLOAD_TIMEOUT_MS / 1000}s` : (error as Error).message;
    throw unavailableError(`cannot download kind ${KIND_VERSION} from ${url}: ${reason}`, { hint: `nothing was cached. By hand: ${manualKindInstall(settings, asset)}; or set KIND_DOWNLOAD_BASE to a mirror` });
  }
  try {
    await chmod(partial, 0o755);
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw unavailableError(`cannot write ${target}: ${(error as Error).message}`, { hint: 'set TOOLS_DIR to a writable folder' });
  }
  return { path: target, url, sha256: result.digest, downloaded: true };
}

/** mkdir -p that returns the first folder it created (null when all existed), so a failure can take it back. */
async function mkdirTracked(dir: string): Promise<string | null> {
  return (await mkdir(dir, { recursive: true })) ?? null;
}
