// `local-up tools images`: the images a local cluster needs, built here without pulling
// anything, for machines that cannot reach a registry: the pause image (build/pause of
// the Kubernetes module, a static C program), CoreDNS (github.com/coredns/coredns at
// the version kubeadm pins for that Kubernetes release) and agnhost (the smoke suite's
// backends, k8s.io/kubernetes/test/images/agnhost). Each is one static binary in a
// minimal OCI archive (src/tools/oci.ts) in IMAGES_DIR, then imported into containerd
// with `ctr -n k8s.io images import` so the kubelet finds it and never pulls.
//
// Upstream facts (k8s.io/kubernetes at the release built):
// - cmd/kubeadm/app/constants/constants.go: PauseVersion and CoreDNSVersion, the
//   images kubeadm (and so a kubeadm or kind cluster of that release) runs.
// - build/pause/Makefile: CFLAGS = -Os -Wall -Werror -static -DVERSION=v$(TAG)-$(REV);
//   build/pause/Dockerfile: ADD the binary as /pause, USER 65535:65535, ENTRYPOINT ["/pause"].
// - test/images/agnhost/Dockerfile: ENTRYPOINT ["/agnhost"], CMD ["pause"].
// - coredns Dockerfile (github.com/coredns/coredns): the binary is /coredns, ENTRYPOINT ["/coredns"].
//   It runs as root here: our manifest grants NET_BIND_SERVICE (src/providers/local/coredns.ts),
//   where upstream sets a file capability that a plain tar layer does not carry.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeVersion } from '../config/kube-version.js';
import { formatKubeVersion } from '../config/kube-version.js';
import { unavailableError, usageError } from '../errors.js';
import type { Runner } from '../exec/runner.js';
import { findExecutable } from '../exec/which.js';
import { describeFailure, tail } from '../exec/runner.js';
import { KUBERNETES_MODULE, kubernetesBuildGoMod, readGoMod } from './go-build.js';
import type { GoTool, ToolsContext } from './install.js';
import { GO_BUILD_TIMEOUT_MS, archOf, findGo, goModDownload, runGo } from './install.js';
import type { ImageFile, ImageSpec } from './oci.js';
import { buildOciArchive, splitReference } from './oci.js';

export const IMAGE_NAMES = ['pause', 'coredns', 'agnhost'] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

const GCC_TIMEOUT_MS = 5 * 60_000;
const CTR_TIMEOUT_MS = 5 * 60_000;
const LDD_TIMEOUT_MS = 30_000;
const COREDNS_MODULE = 'github.com/coredns/coredns';
const AGNHOST_PACKAGE = `${KUBERNETES_MODULE}/test/images/agnhost`;

export interface KubeadmImagePins {
  /** "3.10.1" */
  readonly pause: string;
  /** "v1.12.1" */
  readonly coredns: string;
}

/** PauseVersion and CoreDNSVersion from kubeadm's constants.go; null when either is missing. */
export function readKubeadmImagePins(constantsGo: string): KubeadmImagePins | null {
  const pause = /^\s*PauseVersion\s*=\s*"([^"]+)"/m.exec(constantsGo)?.[1];
  const coredns = /^\s*CoreDNSVersion\s*=\s*"([^"]+)"/m.exec(constantsGo)?.[1];
  return pause === undefined || coredns === undefined ? null : { pause, coredns };
}

/** The pause image kubeadm's release runs: registry.k8s.io/pause:<PauseVersion>. */
export const pauseReference = (pins: KubeadmImagePins): string => `registry.k8s.io/pause:${pins.pause}`;

/** A file name for a reference's archive: registry.k8s.io/pause:3.10.1 → registry.k8s.io_pause_3.10.1.oci.tar. */
export function archiveFileName(reference: string): string {
  const { name, tag } = splitReference(reference);
  return `${`${name}_${tag}`.replace(/[^A-Za-z0-9._-]/g, '_')}.oci.tar`;
}

export interface ImageRequest {
  readonly name: ImageName;
  readonly reference: string;
}

/** Which images to build, and under which names: the cluster's own references. */
export function planImages(input: { readonly pins: KubeadmImagePins; readonly corednsImage: string; readonly agnhostImage: string; readonly only: readonly ImageName[] }): ImageRequest[] {
  const all: ImageRequest[] = [
    { name: 'pause', reference: pauseReference(input.pins) },
    { name: 'coredns', reference: input.corednsImage },
    { name: 'agnhost', reference: input.agnhostImage },
  ];
  for (const request of all) {
    try {
      splitReference(request.reference);
    } catch (error) {
      throw usageError(`tools images: ${(error as Error).message}`, 'COREDNS_IMAGE and SMOKE_IMAGE must be name:tag references');
    }
  }
  return input.only.length === 0 ? all : all.filter((r) => input.only.includes(r.name));
}

/**
 * The files `ldd` names for a dynamically linked program: the libraries it resolved and the
 * loader, as absolute paths (linux-vdso is in the kernel, not a file). A library ldd could not
 * find is an error: the image would not run.
 */
export function parseLdd(text: string): string[] {
  const paths: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || /^linux-(vdso|gate)\.so/.test(line) || line === 'statically linked' || line === 'not a dynamic executable') continue;
    if (/=>\s*not found/.test(line)) throw new Error(`ldd: ${line}`);
    const resolved = /=>\s*(\/\S+)/.exec(line)?.[1] ?? /^(\/\S+)/.exec(line)?.[1];
    if (resolved !== undefined && !paths.includes(resolved)) paths.push(resolved);
  }
  return paths;
}

/**
 * Host programs the agnhost image carries besides agnhost: upstream's image has curl and dig
 * (apk bind-tools curl, test/images/agnhost/Dockerfile) and busybox's cat (its Alpine base), and
 * the smoke suite runs all three in its client pod (test/smoke-stand-ins.test.ts checks that list
 * against what it execs; without cat the DNS check failed in the lab). They are this machine's own
 * (Debian: curl, bind9-dnsutils, coreutils), with their libraries.
 */
export const AGNHOST_HOST_TOOLS = ['curl', 'dig', 'cat'] as const;

/** The image around one static binary, as its upstream Dockerfile describes it (see the header); `extra` files go beside it. */
export function imageSpecFor(name: ImageName, reference: string, binary: Uint8Array, architecture: string, origin: string, extra: readonly ImageFile[] = []): ImageSpec {
  const labels = { 'io.kube-local-up.built-from': origin };
  switch (name) {
    case 'pause':
      return { reference, architecture, labels, files: [{ path: 'pause', content: binary, mode: 0o755 }], entrypoint: ['/pause'], user: '65535:65535' };
    case 'coredns':
      return { reference, architecture, labels, files: [{ path: 'coredns', content: binary, mode: 0o755 }], entrypoint: ['/coredns'] };
    case 'agnhost':
      return { reference, architecture, labels, files: [{ path: 'agnhost', content: binary, mode: 0o755 }, ...extra], entrypoint: ['/agnhost'], cmd: ['pause'] };
  }
}

export interface BuiltImage {
  readonly name: ImageName;
  readonly reference: string;
  readonly archive: string;
  readonly origin: string;
  /** false: the archive was already in IMAGES_DIR. */
  readonly built: boolean;
  readonly bytes: number;
}

export interface ImagesBuildOptions {
  readonly version: KubeVersion;
  readonly imagesDir: string;
  readonly corednsImage: string;
  readonly agnhostImage: string;
  readonly only: readonly ImageName[];
  /** Build again even when the archive exists. */
  readonly rebuild: boolean;
  /** The C compiler for the pause image ('' = gcc). */
  readonly cc: string;
}

/** Builds (or finds) each image archive in IMAGES_DIR. */
export async function buildImages(ctx: ToolsContext, options: ImagesBuildOptions): Promise<BuiltImage[]> {
  if (options.version.patch === null) throw usageError(`tools images needs an exact Kubernetes release such as ${options.version.major}.${options.version.minor}.0, not ${formatKubeVersion(options.version)}`);
  const v = formatKubeVersion(options.version);
  const arch = archOf(ctx);
  // Go is needed only to fetch a module that is not in the cache yet, or to build: with every
  // archive already in IMAGES_DIR (an air-gapped machine, the lab VM) nothing is compiled.
  let goTool: GoTool | null = null;
  const go = async (): Promise<GoTool> => (goTool ??= await findGo(ctx));
  const module = await kubernetesModule(ctx, go, v);
  const constantsFile = join(module.dir, 'cmd', 'kubeadm', 'app', 'constants', 'constants.go');
  const pins = readKubeadmImagePins(await readFile(constantsFile, 'utf8'));
  if (pins === null) throw unavailableError(`cannot read PauseVersion and CoreDNSVersion from ${constantsFile}`, { hint: 'report this: kubeadm moved its image pins' });
  const requests = planImages({ pins, corednsImage: options.corednsImage, agnhostImage: options.agnhostImage, only: options.only });
  await mkdir(options.imagesDir, { recursive: true });
  const binDir = join(ctx.goCacheDir, 'work', `images-${v}`);
  await mkdir(binDir, { recursive: true });
  const out: BuiltImage[] = [];
  for (const request of requests) {
    const archive = join(options.imagesDir, archiveFileName(request.reference));
    if (!options.rebuild && existsSync(archive)) {
      ctx.progress(`${request.reference}: ${archive} is already there`);
      out.push({ ...request, archive, origin: 'IMAGES_DIR', built: false, bytes: (await stat(archive)).size });
      continue;
    }
    const binary = join(binDir, request.name);
    let origin: string;
    if (request.name === 'pause') {
      const source = join(module.dir, 'build', 'pause', 'linux', 'pause.c');
      origin = `${KUBERNETES_MODULE}@v${v}/build/pause/linux/pause.c`;
      ctx.progress(`building the pause binary from ${origin} (static, like build/pause/Makefile)`);
      await runChecked(ctx.runner, options.cc === '' ? 'gcc' : options.cc, ['-Os', '-Wall', '-Werror', '-static', `-DVERSION=v${pins.pause}-kube-local-up`, '-o', binary, source], ctx.signal, GCC_TIMEOUT_MS, 'build the pause binary', 'install a C compiler and static libc (Debian: apt-get install gcc libc6-dev), or set CC');
    } else if (request.name === 'coredns') {
      origin = `${COREDNS_MODULE}@${pins.coredns}`;
      ctx.progress(`building CoreDNS ${pins.coredns} (kubeadm's pin for ${v}) with Go`);
      const work = join(ctx.goCacheDir, 'work');
      await runGo(ctx, await go(), ['install', '-trimpath', '-ldflags', '-s -w', origin], work, GO_BUILD_TIMEOUT_MS, `build CoreDNS ${pins.coredns}`, { GOBIN: binDir, GOFLAGS: '' });
    } else {
      origin = `${AGNHOST_PACKAGE}@v${v}`;
      ctx.progress(`building agnhost from ${origin} with Go`);
      const work = join(ctx.goCacheDir, 'work', `kubernetes-${v}`);
      await mkdir(work, { recursive: true });
      await writeFile(join(work, 'go.mod'), kubernetesBuildGoMod(options.version, readGoMod(await readFile(join(module.dir, 'go.mod'), 'utf8'))));
      await runGo(ctx, await go(), ['build', '-trimpath', '-ldflags', '-s -w', '-o', binary, AGNHOST_PACKAGE], work, GO_BUILD_TIMEOUT_MS, 'build agnhost');
    }
    const extra = request.name === 'agnhost' ? await hostToolFiles(ctx, AGNHOST_HOST_TOOLS) : [];
    const { archive: bytes } = buildOciArchive(imageSpecFor(request.name, request.reference, await readFile(binary), arch, origin, extra));
    const partial = `${archive}.partial-${process.pid}`;
    try {
      await writeFile(partial, bytes);
      await rename(partial, archive);
    } finally {
      await rm(partial, { force: true });
    }
    ctx.progress(`${request.reference}: wrote ${archive}`);
    out.push({ ...request, archive, origin, built: true, bytes: bytes.length });
  }
  return out;
}

/** Each program from PATH at /usr/bin/<name>, with every file ldd names at its own path. */
async function hostToolFiles(ctx: ToolsContext, tools: readonly string[]): Promise<ImageFile[]> {
  const files = new Map<string, ImageFile>();
  for (const tool of tools) {
    const path = findExecutable(tool, ctx.env);
    if (path === null) throw unavailableError(`${tool} is not on PATH: the agnhost image carries it for the smoke suite`, { hint: 'Debian: apt-get install curl bind9-dnsutils' });
    const result = await ctx.runner.run('ldd', [path], { timeoutMs: LDD_TIMEOUT_MS, signal: ctx.signal });
    if (result.exitCode !== 0) throw unavailableError(`ldd ${path} failed: ${describeFailure(result, LDD_TIMEOUT_MS)}`, { details: tail(result.stderr), hint: 'ldd comes with libc-bin' });
    let libraries: string[];
    try {
      libraries = parseLdd(result.stdout);
    } catch (error) {
      throw unavailableError(`${path} misses a library: ${(error as Error).message}`, { hint: `reinstall ${tool}` });
    }
    files.set(`usr/bin/${tool}`, { path: `usr/bin/${tool}`, content: await readFile(path), mode: 0o755 });
    for (const library of libraries) {
      const inImage = library.replace(/^\/+/, '');
      if (!files.has(inImage)) files.set(inImage, { path: inImage, content: await readFile(library), mode: 0o755 });
    }
  }
  return [...files.values()];
}

/** k8s.io/kubernetes at v from Go's module cache, fetched with `go mod download` only when it is not there. */
async function kubernetesModule(ctx: ToolsContext, go: () => Promise<GoTool>, v: string): Promise<{ dir: string }> {
  const cached = join(ctx.goCacheDir, 'mod', 'k8s.io', `kubernetes@v${v}`);
  if (existsSync(join(cached, 'go.mod'))) return { dir: cached };
  return goModDownload(ctx, await go(), KUBERNETES_MODULE, `v${v}`, `Kubernetes ${v}`);
}

async function runChecked(runner: Runner, file: string, args: readonly string[], signal: AbortSignal, timeoutMs: number, what: string, hint: string): Promise<void> {
  const result = await runner.run(file, args, { timeoutMs, signal });
  if (result.exitCode !== 0) throw unavailableError(`could not ${what}: ${describeFailure(result, timeoutMs)}`, { details: tail(result.stderr || result.stdout, 20), hint });
}

/** containerd's socket path from CONTAINER_RUNTIME_ENDPOINT (unix:///run/containerd/containerd.sock). */
export function containerdAddress(endpoint: string): string {
  return endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : endpoint;
}

/** `ctr` arguments that import one archive into the namespace the CRI plugin (and so the kubelet) reads. */
export const ctrImportArgs = (address: string, archive: string): string[] => ['--address', address, '--namespace', 'k8s.io', 'images', 'import', archive];

/** Imports each archive into containerd. */
export async function importImages(runner: Runner, signal: AbortSignal, input: { readonly ctr: string; readonly address: string; readonly archives: readonly string[] }): Promise<void> {
  for (const archive of input.archives) {
    await runChecked(runner, input.ctr, ctrImportArgs(input.address, archive), signal, CTR_TIMEOUT_MS, `import ${archive} into containerd at ${input.address}`, 'is containerd running, and is this user allowed on its socket? (Debian: apt-get install containerd; systemctl start containerd)');
  }
}
