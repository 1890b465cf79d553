// kind's doctor checks: its tools (kind, kubectl) and the container engine, located and
// (where safe) asked for a version. `up` adds deeper checks of its own.
import type { Settings } from '../../config/settings.js';
import type { Runner } from '../../exec/runner.js';
import { findKubectl } from '../../kube/kubectl.js';
import type { EngineFact } from './engine.js';
import { KIND_ENGINE_ORDER, detectKindEngine } from './engine.js';
import { KIND_VERSION, judgeKindVersion, managedKindFile } from './release.js';
import { probeKind } from './tools.js';
import type { Check } from '../../doctor/check.js';
import { check } from '../../doctor/check.js';
import type { ToolFact } from '../../doctor/tools.js';
import { probeTool } from '../../doctor/tools.js';

/** kind's own engine choice: KIND_EXPERIMENTAL_PROVIDER, else docker, nerdctl (finch), podman in that order. */
export const KIND_ENGINES = KIND_ENGINE_ORDER;

/** What kind's checks are made from (the local provider checks itself: src/providers/local/preflight.ts). */
export interface ProviderFacts {
  readonly provider: 'kind';
  readonly tools: readonly ToolFact[];
  readonly engine: EngineFact | null;
  /** kind only: settings that shape the checks' advice. */
  readonly kind?: { readonly autoInstall: boolean; readonly managedPath: string; readonly nodeImage?: string };
}

const KUBECTL_VERSION_ARGS = ['version', '--client'];

export async function gatherKindFacts(settings: Settings, runner: Runner, env: Readonly<Record<string, string | undefined>>): Promise<ProviderFacts> {
  const kubectlAt = findKubectl(env);
  const [kind, kubectl, engine] = await Promise.all([
    probeKind(settings, runner, env),
    probeTool('kubectl', runner, env, { versionArgs: KUBECTL_VERSION_ARGS, ...(kubectlAt.foundVia === 'KUBECTL' ? { override: { setting: 'KUBECTL', value: env.KUBECTL } } : {}) }),
    detectKindEngine(runner, env),
  ]);
  return { provider: 'kind', tools: [kind, kubectl], engine, kind: { autoInstall: settings.kindAutoInstall, managedPath: managedKindFile(settings.toolsDir), nodeImage: settings.kindNodeImage } };
}

export function evaluateProvider(facts: ProviderFacts): Check[] {
  const checks: Check[] = [];
  if (facts.provider === 'kind') {
    const engine = facts.engine;
    if (engine?.ignoredSetting != null) {
      checks.push(check('provider.engine-setting', 'KIND_EXPERIMENTAL_PROVIDER', 'warn', `"${engine.ignoredSetting}" is not a provider kind knows (docker, podman, nerdctl, finch, nerdctl.lima); kind ignores it and autodetects`, 'unset it or set one of those values'));
    }
    if (engine === null || engine.tool.path === null) {
      checks.push(check('provider.engine', 'Container engine for kind', 'fail', engine?.problem ?? `none of ${KIND_ENGINES.join(', ')} found (kind picks them in that order; KIND_EXPERIMENTAL_PROVIDER forces one)`, 'install Docker or Podman, or use CLUSTER_PROVIDER=local'));
    } else if (!engine.running) {
      checks.push(check('provider.engine', 'Container engine for kind', 'fail', `${engine.tool.path} found (${engine.via}), but the engine is not usable: ${engine.problem ?? 'no answer'}`, `start the ${engine.tool.name} engine (e.g. sudo systemctl start ${engine.tool.name}) and check that your user may use it`));
    } else {
      checks.push(check('provider.engine', 'Container engine for kind', 'pass', `${engine.tool.name} at ${engine.tool.path} is running (${engine.via === 'autodetect' ? 'autodetected as kind does' : 'KIND_EXPERIMENTAL_PROVIDER'}${engine.tool.versionText === null ? '' : `; ${engine.tool.versionText}`})`));
      if (engine.info?.rootless === true) checks.push(rootlessCheck(engine.tool.name));
    }
  }
  for (const tool of facts.tools) {
    const id = `provider.${tool.name}`;
    const title = tool.name;
    if (tool.path === null) {
      if (tool.name === 'kind' && facts.kind?.autoInstall === true && tool.failure === null) {
        checks.push(check(id, title, 'warn', `kind not found (KIND setting, PATH, ${facts.kind.managedPath}); up will download the pinned kind ${KIND_VERSION} there (KIND_AUTO_INSTALL=true)`, 'or install it now: local-up tools install kind'));
      } else {
        checks.push(check(id, title, 'fail', tool.failure ?? `${tool.name} not found${tool.name === 'kind' ? ` (KIND setting, PATH, ${facts.kind?.managedPath ?? 'TOOLS_DIR'})` : ' on PATH'}`, installHint(tool.name)));
      }
    } else if (tool.failure !== null) {
      checks.push(check(id, title, 'fail', tool.failure, `check that ${tool.path} is a working ${tool.name}`));
    } else {
      checks.push(check(id, title, 'pass', `${tool.path} (found via ${tool.foundVia ?? 'PATH'})${tool.versionText === null ? '' : `: ${tool.versionText}`}`));
      if (tool.name === 'kind') {
        const verdict = judgeKindVersion(tool.versionText, facts.kind?.nodeImage ?? '', facts.kind?.managedPath ?? 'TOOLS_DIR');
        checks.push(check('provider.kind-version', `kind release matches the node images (${KIND_VERSION})`, verdict.status, verdict.detail, verdict.status === 'pass' ? null : verdict.fix));
      }
    }
  }
  return checks;
}

/** The modules a rootless engine's nodes need loaded by the host: IPVS's, conntrack, ip_set, and the nat tables kind's rootless guide lists. */
export const ROOTLESS_PRELOAD = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack', 'ip_set', 'iptable_nat', 'ip6table_nat'] as const;

/**
 * Rootless Docker or Podman: the node containers run in a user namespace and cannot load kernel modules
 * (not on demand either), so the host must have them loaded. kind's rootless guide
 * (kind site/content/docs/user/rootless.md, "Host requirements") asks for /etc/modules-load.d entries.
 */
function rootlessCheck(engine: string): Check {
  return check(
    'provider.engine-rootless',
    'Rootless engine: kernel modules come from the host',
    'warn',
    `${engine} runs rootless (its info lists the rootless security option): kind's nodes cannot load ip_vs, its schedulers, nf_conntrack or ip_set themselves; \`up\` loads them on this host with sudo, and they must be loaded again after every reboot`,
    `preload them at boot: printf '%s\\n' ${ROOTLESS_PRELOAD.join(' ')} | sudo tee /etc/modules-load.d/kube-local-up-ipvs.conf && sudo systemctl restart systemd-modules-load.service (add your IPVS_SCHEDULER's ip_vs_<name> if it is not rr, wrr or sh)`,
  );
}

function installHint(name: string): string {
  switch (name) {
    case 'kind':
      return `run \`local-up tools install kind\` (downloads the pinned kind ${KIND_VERSION}, checksum verified), install kind yourself (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), or set KIND to its path`;
    case 'kubectl':
      return 'install kubectl (https://kubernetes.io/docs/tasks/tools/) or set KUBECTL to its path';
    case 'etcd':
      return 'install etcd (Debian: apt-get install etcd-server) or put it on PATH';
    default:
      return `build it from a Kubernetes checkout (make WHAT=cmd/${name}) and put it on PATH`;
  }
}
