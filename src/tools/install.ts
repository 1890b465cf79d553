// `local-up tools install kubernetes|etcd|kind`: real binaries in
// TOOLS_DIR/<tool>-<version>/bin, from an official archive (checksum verified while
// it streams in) or built here with Go from the module proxy at exactly that version.
// Everything is assembled in TOOLS_DIR/.<tool>-<version>.partial-<pid>/ and renamed into
// place only after every binary answered with the right version; an error, a full disk
// or Ctrl-C removes the partial folder, so a later run never trusts half an install.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeVersion } from '../config/kube-version.js';
import { formatKubeVersion } from '../config/kube-version.js';
import { ExitCode, LocalUpError, unavailableError, usageError } from '../errors.js';
import { DownloadError, downloadText, downloadToFile, hashFile } from '../exec/download.js';
import type { Fetcher } from '../exec/download.js';
import type { Runner, RunResult } from '../exec/runner.js';
import { describeFailure, tail } from '../exec/runner.js';
import { findExecutable } from '../exec/which.js';
import type { GoVersion } from './go-build.js';
import {
  KUBERNETES_MODULE, etcdBuildModule, formatGoVersion, goAtLeast, goBuildEnv, kubernetesBuildArgs, kubernetesBuildGoMod, parseEtcdScriptVersion, parseGoVersion, readGoMod,
} from './go-build.js';
import type { InstallManifest, InstalledBinary, ToolSet } from './layout.js';
import { KUBERNETES_BINARIES, MANIFEST_FILE, parseManifest, parseSetFolderName, partialPrefix, toolSetBinDir, toolSetDir } from './layout.js';
import type { ArchiveSource } from './sources.js';
import { digestFromChecksumFile, etcdArchive, goArch, kubernetesServerArchive } from './sources.js';

/** The server archive is about 400 MB; a bad mirror stops here. */
const MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024;
const MAX_CHECKSUM_BYTES = 64 * 1024;
const DOWNLOAD_TIMEOUT_MS = 60 * 60_000;
const GO_QUICK_TIMEOUT_MS = 60_000;
const GO_DOWNLOAD_TIMEOUT_MS = 30 * 60_000;
/** A cold build of all seven components on two cores takes about 25 minutes; a slow machine gets far more. */
export const GO_BUILD_TIMEOUT_MS = 150 * 60_000;
const TAR_TIMEOUT_MS = 10 * 60_000;
const VERSION_TIMEOUT_MS = 30_000;

export interface ToolsContext {
  readonly runner: Runner;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal: AbortSignal;
  readonly toolsDir: string;
  /** Our Go caches: GOCACHE=<dir>/build, GOMODCACHE=<dir>/mod, build modules in <dir>/work. */
  readonly goCacheDir: string;
  /** The GO setting ('' = go on PATH, else /usr/local/go/bin/go). */
  readonly goBinary: string;
  /** One progress line (stderr, or a listr2 task's output). */
  readonly progress: (line: string) => void;
  readonly fetcher?: Fetcher;
  readonly arch?: string;
}

export interface InstallOutcome {
  readonly tool: ToolSet;
  readonly version: string;
  readonly binDir: string;
  readonly installed: boolean;
  readonly manifest: InstallManifest;
  readonly seconds: number;
}

/** The installed set, when its manifest is ours and every binary it names is there with its size. */
export function readInstalledSet(toolsDir: string, tool: ToolSet, version: string): InstallManifest | null {
  const dir = toolSetDir(toolsDir, tool, version);
  let manifest: InstallManifest | null;
  try {
    manifest = parseManifest(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
  } catch {
    return null;
  }
  if (manifest === null || manifest.tool !== tool || manifest.version !== version) return null;
  for (const b of manifest.binaries) {
    try {
      const s = statSync(join(dir, 'bin', b.name));
      if (!s.isFile() || s.size !== b.bytes) return null;
    } catch {
      return null;
    }
  }
  return manifest;
}

export interface ListedSet {
  readonly tool: ToolSet;
  readonly version: string;
  readonly binDir: string;
  readonly source: InstallManifest['source'];
  readonly origin: string;
  readonly binaries: readonly string[];
  readonly installedAt: string;
}

/** Every complete set in TOOLS_DIR (folders without a valid manifest are not listed). */
export function listInstalled(toolsDir: string): ListedSet[] {
  let names: string[];
  try {
    names = readdirSync(toolsDir);
  } catch {
    return [];
  }
  const sets: ListedSet[] = [];
  for (const name of names.sort()) {
    const parsed = parseSetFolderName(name);
    if (parsed === null) continue;
    const { tool, version } = parsed;
    const manifest = readInstalledSet(toolsDir, tool, version);
    if (manifest === null) continue;
    sets.push({ tool, version, binDir: toolSetBinDir(toolsDir, tool, version), source: manifest.source, origin: manifest.origin, binaries: manifest.binaries.map((b) => b.name), installedAt: manifest.installedAt });
  }
  return sets;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

export interface KubernetesInstallOptions {
  readonly fromSource: boolean;
  readonly downloadBase: string;
}

export async function installKubernetes(ctx: ToolsContext, version: KubeVersion, options: KubernetesInstallOptions): Promise<InstallOutcome> {
  if (version.patch === null) throw usageError(`tools install kubernetes needs an exact release such as ${version.major}.${version.minor}.0, not ${formatKubeVersion(version)}`);
  const v = formatKubeVersion(version);
  return installSet(ctx, 'kubernetes', v, async (staging) => {
    if (options.fromSource) return buildKubernetes(ctx, version, staging);
    const arch = archOf(ctx);
    const source = kubernetesServerArchive(options.downloadBase, version, arch);
    const origin = await fetchArchive(ctx, source, staging, KUBERNETES_BINARIES.map((b) => `kubernetes/server/bin/${b}`), {
      what: `Kubernetes ${v}`,
      notFoundHint: `check that ${v} is a Kubernetes release (https://kubernetes.io/releases) and that KUBE_DOWNLOAD_BASE (${options.downloadBase}) mirrors dl.k8s.io's layout`,
      offlineHint: `offline? build the same release here instead: local-up tools install kubernetes --k8s-version ${v} --from-source (needs Go and the Go module proxy), or point KUBE_BIN_DIR at binaries you already have`,
    });
    return { origin, source: 'download' };
  }, (dir) => verifyKubernetes(ctx, dir, v));
}

async function buildKubernetes(ctx: ToolsContext, version: KubeVersion, staging: string): Promise<Partial<InstallManifest> & Pick<InstallManifest, 'origin' | 'source'>> {
  const v = formatKubeVersion(version);
  const go = await findGo(ctx);
  const module = await goModDownload(ctx, go, KUBERNETES_MODULE, `v${v}`, `Kubernetes ${v}`);
  const facts = readGoMod(await readFile(module.goMod, 'utf8'));
  requireGo(go, facts.go, `Kubernetes ${v}`);
  let etcdVersion: string | null = null;
  try {
    etcdVersion = parseEtcdScriptVersion(await readFile(join(module.dir, 'hack', 'lib', 'etcd.sh'), 'utf8'));
  } catch {
    etcdVersion = null;
  }
  const work = join(ctx.goCacheDir, 'work', `kubernetes-${v}`);
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'go.mod'), kubernetesBuildGoMod(version, facts));
  ctx.progress(`building ${KUBERNETES_BINARIES.join(', ')} ${v} with ${formatGoVersion(go.version)} (a first build takes many minutes; Go's caches are in ${ctx.goCacheDir})`);
  await runGo(ctx, go, kubernetesBuildArgs(version, module.time, KUBERNETES_BINARIES, join(staging, 'bin')), work, GO_BUILD_TIMEOUT_MS, `build Kubernetes ${v}`);
  return { origin: `${KUBERNETES_MODULE}@v${v}`, source: 'source', go: formatGoVersion(go.version), ...(etcdVersion === null ? {} : { etcdVersion }) };
}

/** Each binary must say it is exactly this release (an unstamped build says v0.0.0-master). */
async function verifyKubernetes(ctx: ToolsContext, binDir: string, v: string): Promise<void> {
  for (const name of KUBERNETES_BINARIES) {
    const path = join(binDir, name);
    const args = name === 'kubectl' ? ['version', '--client'] : name === 'kubeadm' ? ['version', '-o', 'short'] : ['--version'];
    const result = await ctx.runner.run(path, args, { timeoutMs: VERSION_TIMEOUT_MS, signal: ctx.signal });
    const text = `${result.stdout}\n${result.stderr}`;
    const found = /v(\d+\.\d+\.\d+\S*)/.exec(name === 'kubectl' ? (/Client Version:\s*(\S+)/.exec(text)?.[1] ?? '') : text)?.[1] ?? null;
    if (result.exitCode !== 0 || found !== v) {
      throw unavailableError(`${name} does not report Kubernetes v${v}: \`${result.command}\` ${result.exitCode === 0 ? `printed ${JSON.stringify(text.trim().split('\n')[0] ?? '')}` : describeFailure(result)}`, {
        details: tail(text),
        hint: 'nothing was installed; run the install again, and report it if it repeats',
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// etcd

export async function installEtcd(ctx: ToolsContext, version: string, options: { fromSource: boolean; downloadBase: string }): Promise<InstallOutcome> {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw usageError(`tools install etcd: ${JSON.stringify(version)} is not an etcd release such as 3.6.5`);
  return installSet(ctx, 'etcd', version, async (staging) => {
    if (!options.fromSource) {
      const arch = archOf(ctx);
      const source = etcdArchive(options.downloadBase, version, arch);
      const origin = await fetchArchive(ctx, source, staging, source.members, {
        what: `etcd ${version}`,
        notFoundHint: `check that ${version} is an etcd release and that ETCD_DOWNLOAD_BASE (${options.downloadBase}) mirrors its release layout`,
        offlineHint: `offline? build it here instead: local-up tools install etcd --version ${version} --from-source (needs Go and the Go module proxy)`,
      });
      return { origin, source: 'download' };
    }
    const go = await findGo(ctx);
    const module = await goModDownload(ctx, go, 'go.etcd.io/etcd/server/v3', `v${version}`, `etcd ${version}`);
    const facts = readGoMod(await readFile(module.goMod, 'utf8'));
    requireGo(go, facts.go, `etcd ${version}`);
    const work = join(ctx.goCacheDir, 'work', `etcd-${version}`);
    await mkdir(work, { recursive: true });
    const files = etcdBuildModule(version, facts.go ?? '1.22');
    await writeFile(join(work, 'go.mod'), files.goMod);
    await writeFile(join(work, 'main.go'), files.mainGo);
    ctx.progress(`building etcd ${version} with ${formatGoVersion(go.version)}`);
    await runGo(ctx, go, ['build', '-trimpath', '-ldflags', '-s -w', '-o', join(staging, 'bin', 'etcd'), '.'], work, GO_BUILD_TIMEOUT_MS, `build etcd ${version}`);
    return { origin: `go.etcd.io/etcd/server/v3@v${version}`, source: 'source', go: formatGoVersion(go.version) };
  }, async (binDir) => {
    const result = await ctx.runner.run(join(binDir, 'etcd'), ['--version'], { timeoutMs: VERSION_TIMEOUT_MS, signal: ctx.signal });
    const found = /^etcd Version:\s*v?(\S+)/m.exec(result.stdout)?.[1];
    if (result.exitCode !== 0 || found !== version) {
      throw unavailableError(`etcd does not report version ${version}: \`${result.command}\` ${describeFailure(result)}`, { details: tail(`${result.stdout}\n${result.stderr}`), hint: 'nothing was installed' });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// kind, built from the pinned release

export async function buildKind(ctx: ToolsContext, version: string): Promise<InstallOutcome> {
  return installSet(ctx, 'kind', version, async (staging) => {
    const go = await findGo(ctx);
    const module = await goModDownload(ctx, go, 'sigs.k8s.io/kind', version, `kind ${version}`);
    const facts = readGoMod(await readFile(module.goMod, 'utf8'));
    requireGo(go, facts.go, `kind ${version}`);
    ctx.progress(`building kind ${version} with ${formatGoVersion(go.version)}`);
    const work = join(ctx.goCacheDir, 'work');
    await mkdir(work, { recursive: true });
    await runGo(ctx, go, ['install', '-trimpath', '-ldflags', '-s -w', `sigs.k8s.io/kind@${version}`], work, GO_BUILD_TIMEOUT_MS, `build kind ${version}`, { GOBIN: join(staging, 'bin'), GOFLAGS: '' });
    return { origin: `sigs.k8s.io/kind@${version}`, source: 'source', go: formatGoVersion(go.version) };
  }, async (binDir) => {
    const result = await ctx.runner.run(join(binDir, 'kind'), ['version'], { timeoutMs: VERSION_TIMEOUT_MS, signal: ctx.signal });
    if (result.exitCode !== 0 || !result.stdout.startsWith(`kind ${version} `)) {
      throw unavailableError(`the kind built does not report ${version}: ${JSON.stringify(result.stdout.trim())}`, { details: tail(result.stderr), hint: 'nothing was installed' });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The common frame: partial folder, verification, manifest, atomic rename

type Produced = Partial<InstallManifest> & Pick<InstallManifest, 'origin' | 'source'>;

async function installSet(ctx: ToolsContext, tool: ToolSet, version: string, produce: (staging: string) => Promise<Produced>, verify: (binDir: string) => Promise<void>): Promise<InstallOutcome> {
  const started = Date.now();
  const final = toolSetDir(ctx.toolsDir, tool, version);
  const binDir = toolSetBinDir(ctx.toolsDir, tool, version);
  const existing = readInstalledSet(ctx.toolsDir, tool, version);
  if (existing !== null) return { tool, version, binDir, installed: false, manifest: existing, seconds: 0 };
  if (existsSync(final)) {
    throw unavailableError(`${final} exists but is not an install kube-local-up finished (no valid ${MANIFEST_FILE}); it was left alone`, {
      hint: `move it away or delete it yourself (rm -r ${final}), then install again`,
    });
  }
  let createdToolsDir: string | null = null;
  try {
    createdToolsDir = (await mkdir(ctx.toolsDir, { recursive: true })) ?? null;
  } catch (error) {
    throw unavailableError(`cannot create TOOLS_DIR ${ctx.toolsDir}: ${(error as Error).message}`, { hint: 'set TOOLS_DIR to a writable folder' });
  }
  await removeStalePartials(ctx.toolsDir, tool, version);
  const staging = join(ctx.toolsDir, `${partialPrefix(tool, version)}${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, 'bin'), { recursive: true });
  try {
    const produced = await produce(staging);
    const stagedBin = join(staging, 'bin');
    await verify(stagedBin);
    const binaries: InstalledBinary[] = [];
    for (const name of readdirSync(stagedBin).sort()) {
      const path = join(stagedBin, name);
      await chmod(path, 0o755);
      binaries.push({ name, sha256: await hashFile(path), bytes: (await stat(path)).size });
    }
    const manifest: InstallManifest = { tool, version, binaries, installedAt: new Date().toISOString(), ...produced };
    await writeFile(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(staging, final);
    return { tool, version, binDir, installed: true, manifest, seconds: Math.round((Date.now() - started) / 1000) };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // A TOOLS_DIR this run created holds nothing now: take it back too.
    if (createdToolsDir !== null && readdirSync(ctx.toolsDir).length === 0) await rm(createdToolsDir, { recursive: true, force: true });
    if (ctx.signal.aborted) throw new LocalUpError(ExitCode.interrupted, `interrupted: ${tool} ${version} was not installed, and nothing half-done was kept`);
    // The steps' own errors are final (a full disk already said so where it was met); a raw file-system error is translated here.
    if (!(error instanceof LocalUpError) && isNoSpace(error)) throw noSpace(ctx.toolsDir, error);
    throw error;
  }
}

/** Partial folders of installs whose process is gone (killed, or the machine restarted). */
async function removeStalePartials(toolsDir: string, tool: ToolSet, version: string): Promise<void> {
  const prefix = partialPrefix(tool, version);
  for (const name of readdirSync(toolsDir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) {
      throw unavailableError(`another install of ${tool} ${version} is running (process ${pid}, folder ${join(toolsDir, name)})`, { hint: 'wait for it to finish, or stop it' });
    }
    await rm(join(toolsDir, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isNoSpace(error: unknown): boolean {
  return error instanceof Error && ((error as NodeJS.ErrnoException).code === 'ENOSPC' || /no space left on device/i.test(error.message));
}

function noSpace(dir: string, error: unknown): LocalUpError {
  return unavailableError(`the disk is full (no space left on device) while installing into ${dir}; nothing half-done was kept`, {
    details: error instanceof Error ? error.message : String(error),
    hint: 'free some space (a full set of Kubernetes binaries needs about 600 MB, a build from source several GB of Go cache in GO_CACHE_DIR), or point TOOLS_DIR / GO_CACHE_DIR at a larger disk',
  });
}

export function archOf(ctx: ToolsContext): string {
  const arch = goArch(ctx.arch ?? process.arch);
  if (arch === null || process.platform !== 'linux') {
    throw unavailableError(`there are no official Linux server binaries for ${process.platform}/${ctx.arch ?? process.arch}`, { hint: 'build them with --from-source, or set KUBE_BIN_DIR' });
  }
  return arch;
}

// ---------------------------------------------------------------------------------------------
// Downloads

async function fetchArchive(ctx: ToolsContext, source: ArchiveSource, staging: string, members: readonly string[], words: { what: string; notFoundHint: string; offlineHint: string }): Promise<string> {
  const timeout = AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS);
  const signal = AbortSignal.any([timeout, ctx.signal]);
  const fail = (url: string, error: unknown): never => {
    if (ctx.signal.aborted) throw new LocalUpError(ExitCode.interrupted, `interrupted while downloading ${words.what}`);
    if (error instanceof DownloadError && error.kind === 'http' && /^HTTP 404\b/.test(error.message)) {
      throw usageError(`${words.what} is not at ${url} (${error.message})`, words.notFoundHint);
    }
    if (error instanceof DownloadError && error.kind === 'write') throw error.message.includes('ENOSPC') ? noSpace(staging, error) : unavailableError(`cannot write the download: ${error.message}`, { hint: 'set TOOLS_DIR to a writable folder' });
    const reason = timeout.aborted ? `no answer within ${DOWNLOAD_TIMEOUT_MS / 60_000} minutes` : (error as Error).message;
    throw unavailableError(`cannot download ${words.what} from ${url}: ${reason}`, { hint: words.offlineHint });
  };
  ctx.progress(`fetching the published ${source.algorithm.toUpperCase()} of ${words.what} from ${source.checksumUrl}`);
  let checksumText = '';
  try {
    checksumText = await downloadText(source.checksumUrl, MAX_CHECKSUM_BYTES, signal, ctx.fetcher);
  } catch (error) {
    fail(source.checksumUrl, error);
  }
  const expected = digestFromChecksumFile(checksumText, source.checksumEntry, source.algorithm);
  if (expected === null) {
    throw unavailableError(`${source.checksumUrl} does not hold a ${source.algorithm.toUpperCase()} for ${source.checksumEntry}`, { details: tail(checksumText, 5), hint: words.notFoundHint });
  }
  const archive = join(staging, 'archive.tar.gz');
  ctx.progress(`downloading ${source.url}`);
  let lastReport = 0;
  try {
    await downloadToFile({
      url: source.url, file: archive, maxBytes: MAX_ARCHIVE_BYTES, algorithm: source.algorithm, expectedDigest: expected, signal,
      onProgress: (received, total) => {
        if (received - lastReport < 32 * 1024 * 1024) return;
        lastReport = received;
        ctx.progress(`  ${Math.round(received / 1048576)} MiB${total === null ? '' : ` of ${Math.round(total / 1048576)} MiB`}`);
      },
    }, ctx.fetcher);
  } catch (error) {
    if (error instanceof DownloadError && error.kind === 'digest') {
      throw unavailableError(`${words.what} from ${source.url} does not match its published ${source.algorithm.toUpperCase()}; it was deleted unread`, {
        details: `expected ${expected}\nactual   ${error.actualDigest ?? '?'}`,
        hint: `check the mirror: ${words.notFoundHint}`,
      });
    }
    fail(source.url, error);
  }
  ctx.progress(`${source.algorithm.toUpperCase()} verified; unpacking`);
  const tar = findExecutable('tar', ctx.env) ?? 'tar';
  const result = await ctx.runner.run(tar, ['-xzf', archive, '-C', join(staging, 'bin'), `--strip-components=${source.stripComponents}`, '--', ...members], { timeoutMs: TAR_TIMEOUT_MS, signal: ctx.signal });
  await rm(archive, { force: true });
  if (result.exitCode !== 0) {
    if (/no space left/i.test(result.stderr)) throw noSpace(staging, new Error(result.stderr));
    throw unavailableError(`cannot unpack ${source.url}: ${describeFailure(result, TAR_TIMEOUT_MS)}`, { details: tail(result.stderr), hint: 'the archive matched its checksum but does not hold what an official release holds; check the mirror' });
  }
  return source.url;
}

// ---------------------------------------------------------------------------------------------
// Go

export interface GoTool {
  readonly path: string;
  readonly version: GoVersion;
}

export async function findGo(ctx: ToolsContext): Promise<GoTool> {
  const candidates = ctx.goBinary !== '' ? [ctx.goBinary] : ['go', '/usr/local/go/bin/go'];
  const path = candidates.map((c) => findExecutable(c, ctx.env, [])).find((p) => p !== null) ?? null;
  if (path === null) {
    throw unavailableError(ctx.goBinary !== '' ? `GO=${ctx.goBinary} is not an executable` : 'Go is not installed (no go on PATH, nor /usr/local/go/bin/go)', {
      hint: 'install Go (https://go.dev/doc/install; Debian: apt-get install golang-go only if it is new enough), or set GO=/path/to/go; or use the official archives: drop --from-source',
    });
  }
  const result = await ctx.runner.run(path, ['env', 'GOVERSION'], { timeoutMs: GO_QUICK_TIMEOUT_MS, signal: ctx.signal, env: { GOTOOLCHAIN: ctx.env.GOTOOLCHAIN ?? 'local', GOFLAGS: '' } });
  const version = parseGoVersion(result.stdout);
  if (result.exitCode !== 0 || version === null) {
    throw unavailableError(`${path} does not work: ${describeFailure(result, GO_QUICK_TIMEOUT_MS)}`, { details: tail(result.stderr), hint: 'check the Go installation, or set GO=/path/to/go' });
  }
  return { path, version };
}

function requireGo(go: GoTool, needed: string | null, what: string): void {
  if (needed === null) return;
  const need = parseGoVersion(`go${needed}`);
  if (need === null || goAtLeast(go.version, need)) return;
  throw unavailableError(`${what} needs Go ${needed} or later (the go directive of its go.mod); ${go.path} is ${formatGoVersion(go.version)}`, {
    hint: `install a newer Go, or let this one fetch it from the module proxy: GOTOOLCHAIN=go${needed} local-up tools install ... --from-source`,
  });
}

export interface DownloadedModule {
  readonly dir: string;
  readonly goMod: string;
  /** The module version's commit time, used as the build date (reproducible). */
  readonly time: string;
}

/** `go mod download -json module@version`: proves the version exists and brings its source. */
export async function goModDownload(ctx: ToolsContext, go: GoTool, module: string, version: string, what: string): Promise<DownloadedModule> {
  const work = join(ctx.goCacheDir, 'work');
  await mkdir(work, { recursive: true });
  ctx.progress(`fetching ${module}@${version} from the Go module proxy (${ctx.env.GOPROXY ?? 'Go\'s default GOPROXY'})`);
  const result = await runGoRaw(ctx, go, ['mod', 'download', '-json', `${module}@${version}`], work, GO_DOWNLOAD_TIMEOUT_MS, {});
  let info: { Dir?: string; GoMod?: string; Info?: string; Error?: string } = {};
  try {
    info = JSON.parse(result.stdout) as typeof info;
  } catch {
    info = {};
  }
  const problem = info.Error ?? (result.exitCode === 0 ? '' : result.stderr);
  if (problem !== '' || info.Dir === undefined || info.GoMod === undefined) {
    if (ctx.signal.aborted) throw new LocalUpError(ExitCode.interrupted, `interrupted while fetching ${module}@${version}`);
    if (/not available|unknown revision|invalid version|404 Not Found|410 Gone|no matching versions/i.test(problem)) {
      throw usageError(`${what} does not exist: the Go module proxy has no ${module}@${version}`, `list the releases it has: go list -m -versions ${module}`);
    }
    if (/no space left/i.test(problem)) throw noSpace(ctx.goCacheDir, new Error(problem));
    throw unavailableError(`cannot fetch ${module}@${version} from the Go module proxy: ${problem.trim().split('\n').slice(-1)[0] ?? describeFailure(result)}`, {
      details: tail(problem),
      hint: 'check the network and GOPROXY; offline, use the official archives (drop --from-source) from a mirror, or your own binaries through KUBE_BIN_DIR',
    });
  }
  let time = new Date(0).toISOString().replace(/\.\d+Z$/, 'Z');
  try {
    const parsed = JSON.parse(await readFile(info.Info ?? '', 'utf8')) as { Time?: string };
    if (typeof parsed.Time === 'string') time = parsed.Time;
  } catch {
    // No .info: the epoch stands in as the build date.
  }
  return { dir: info.Dir, goMod: info.GoMod, time };
}

async function runGoRaw(ctx: ToolsContext, go: GoTool, args: readonly string[], cwd: string, timeoutMs: number, extraEnv: Record<string, string>): Promise<RunResult> {
  return ctx.runner.run(go.path, args, {
    cwd,
    timeoutMs,
    signal: ctx.signal,
    env: { ...goBuildEnv(ctx.goCacheDir, ctx.env.GOTOOLCHAIN), ...extraEnv },
  });
}

export async function runGo(ctx: ToolsContext, go: GoTool, args: readonly string[], cwd: string, timeoutMs: number, what: string, extraEnv: Record<string, string> = {}): Promise<void> {
  let lines = 0;
  const started = Date.now();
  const ticker = setInterval(() => ctx.progress(`  still building (${Math.round((Date.now() - started) / 60_000)} min)`), 60_000);
  ticker.unref();
  let result: RunResult;
  try {
    result = await ctx.runner.run(go.path, args, {
      cwd,
      timeoutMs,
      signal: ctx.signal,
      env: { ...goBuildEnv(ctx.goCacheDir, ctx.env.GOTOOLCHAIN), ...extraEnv },
      onLine: (line) => {
        lines += 1;
        if (lines <= 200) ctx.progress(`  ${line}`);
      },
    });
  } finally {
    clearInterval(ticker);
  }
  if (result.exitCode === 0) return;
  if (result.aborted || ctx.signal.aborted) throw new LocalUpError(ExitCode.interrupted, `interrupted: ${what} stopped`);
  if (/no space left on device/i.test(result.stderr)) throw noSpace(ctx.goCacheDir, new Error(tail(result.stderr, 3)));
  throw unavailableError(`could not ${what}: ${describeFailure(result, timeoutMs)}`, {
    details: tail(result.stderr, 30),
    hint: `this Go (${formatGoVersion(go.version)}) may be too new or too old for that release; try GOTOOLCHAIN=go<version> as its go.mod asks, or the official archives (drop --from-source)`,
  });
}
