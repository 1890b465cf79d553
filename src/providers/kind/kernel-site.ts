// The kind provider's answer to "which kernel runs kube-proxy": the container engine's. When the engine
// shares this machine's kernel (Docker Engine or Podman on Linux, rootless or not) it is this machine's,
// read as doctor always did; when not (Docker Desktop, podman machine, colima, Lima, a remote engine, and
// always on macOS and Windows), it is read through a privileged container of the pinned node image.
import { release } from 'node:os';
import type { Settings } from '../../config/settings.js';
import type { Platform } from '../../io/io.js';
import { LocalHost } from '../../exec/host.js';
import { findKindNodeImage } from '../../kind/images.js';
import { readKernelConfig, readKernelRelease, kernelHz } from '../../kernel/probe.js';
import type { KernelSite } from '../../kernel/site.js';
import type { ProviderContext } from '../provider.js';
import type { EngineFact } from './engine.js';
import { detectKindEngine } from './engine.js';
import { EngineKernelHost, placeEngineKernel, remoteEngineHost } from './engine-kernel.js';

/** The node image kind will boot: KIND_NODE_IMAGE, else the pinned one for KUBE_VERSION; null when none is pinned. */
export function nodeImageOf(settings: Pick<Settings, 'kindNodeImage' | 'kubeVersion'>): string | null {
  return settings.kindNodeImage !== '' ? settings.kindNodeImage : (findKindNodeImage(settings.kubeVersion)?.image ?? null);
}

/** This machine's kernel release: /proc/sys/kernel/osrelease under HOST_ROOT on Linux, else the OS's own release. */
async function thisMachineRelease(platform: Platform, host: LocalHost): Promise<string | null> {
  if (platform.os !== 'linux') return platform.release;
  try {
    return await readKernelRelease(host);
  } catch {
    return null;
  }
}

type SiteContext = Pick<ProviderContext, 'settings' | 'runner' | 'env' | 'platform' | 'progress' | 'signal'>;

/** Where kind's nodes will run, judged from the engine kind would pick (or the one given). */
export async function kindKernelSite(ctx: SiteContext, known?: EngineFact): Promise<KernelSite> {
  const local = new LocalHost(ctx.runner, ctx.settings.hostRoot);
  const engine = known ?? (await detectKindEngine(ctx.runner, ctx.env));
  const platform = ctx.platform ?? { os: process.platform, release: release() };
  const here = { os: platform.os, release: await thisMachineRelease(platform, local) };
  const unreachable = (problem: string): KernelSite => ({
    host: here.os === 'linux' ? local : null,
    problem: here.os === 'linux' ? null : problem,
    shared: here.os === 'linux',
    description: here.os === 'linux' ? local.description : 'the container engine\'s kernel',
    release: here.os === 'linux' ? here.release : null,
    how: here.os === 'linux' ? `${local.description}: /proc, /sys, /lib/modules and /boot read directly` : 'not read',
    why: here.os === 'linux' ? `${problem}; taken to be this machine's kernel (Docker Engine and Podman on Linux share it)` : `${problem}; on ${here.os} the nodes' kernel is the engine VM's, which only a running engine can show`,
    rootless: false,
    modprobeThroughHost: false,
  });
  if (engine.tool.path === null || !engine.running) return unreachable(`no running container engine to ask (${engine.problem ?? 'none found'})`);
  if (engine.info === null) return unreachable(`${engine.tool.name} info did not say which kernel it runs on`);
  const info = engine.info;
  const placement = placeEngineKernel(engine.tool.name, info, here, remoteEngineHost(engine.tool.name, ctx.env));
  if (placement.shared) {
    return {
      host: local,
      problem: null,
      shared: true,
      description: local.description,
      release: here.release ?? info.kernelVersion,
      how: `${local.description}: /proc, /sys, /lib/modules and /boot read directly`,
      why: placement.why,
      rootless: info.rootless,
      modprobeThroughHost: false,
    };
  }
  const image = nodeImageOf(ctx.settings);
  if (image === null) {
    return {
      host: null,
      problem: `no kind node image is pinned for this Kubernetes version, so the engine's kernel cannot be read through one: set KIND_NODE_IMAGE`,
      shared: false, description: placement.where, release: info.kernelVersion, how: 'not read', why: placement.why, rootless: info.rootless, modprobeThroughHost: true,
    };
  }
  const host = new EngineKernelHost(ctx.runner, engine.tool.name, engine.tool.path, image, `Linux ${info.kernelVersion} in ${placement.where}`);
  try {
    await host.ensureImage(ctx.progress, ctx.signal);
  } catch (error) {
    return { host: null, problem: (error as Error).message, shared: false, description: host.description, release: info.kernelVersion, how: host.describe(), why: placement.why, rootless: info.rootless, modprobeThroughHost: true };
  }
  return {
    host,
    problem: null,
    shared: false,
    description: host.description,
    release: info.kernelVersion,
    how: `${host.describe()}: a short-lived privileged container of the node image, which sees the engine kernel's /proc, /sys and module tree and has modprobe`,
    why: placement.why,
    rootless: info.rootless,
    modprobeThroughHost: true,
  };
}

/** HZ of the kernel the nodes run on, and where it was read: for nodes that cannot read a kernel config themselves. */
export async function kindNodesHz(site: KernelSite): Promise<{ readonly hz: number; readonly source: string } | null> {
  if (site.host === null) return null;
  let release = site.release ?? '';
  try {
    release = await readKernelRelease(site.host);
  } catch {
    // keep the engine's word for it
  }
  const config = await readKernelConfig(site.host, release);
  const hz = config === null ? null : kernelHz({ config });
  if (hz === null || config === null) return null;
  return {
    hz,
    source: site.shared ? `this machine's kernel config (${config.source}; the nodes share this kernel)` : `the engine kernel's config (${config.source}, read in ${site.description})`,
  };
}
