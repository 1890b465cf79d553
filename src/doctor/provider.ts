// The tools each provider needs, located and (where safe) asked for a version.
// Providers add deeper checks of their own during `up`.
import type { ProviderName } from '../config/settings.js';
import type { Runner } from '../exec/runner.js';
import type { Check } from './check.js';
import { check } from './check.js';
import type { ToolFact } from './tools.js';
import { probeTool } from './tools.js';

const ENGINE_INFO_TIMEOUT_MS = 20_000;

/** kind's own engine choice: KIND_EXPERIMENTAL_PROVIDER, else docker, podman, nerdctl in that order. */
export const KIND_ENGINES = ['docker', 'podman', 'nerdctl'] as const;
export type KindEngine = (typeof KIND_ENGINES)[number];

export interface EngineFact {
  readonly tool: ToolFact;
  /** The engine answered `info` (the daemon or service is up). */
  readonly running: boolean;
  readonly problem: string | null;
}

export interface ProviderFacts {
  readonly provider: ProviderName;
  readonly tools: readonly ToolFact[];
  readonly engine: EngineFact | null;
}

const LOCAL_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'];

export async function gatherProviderFacts(provider: ProviderName, runner: Runner, env: Readonly<Record<string, string | undefined>>): Promise<ProviderFacts> {
  if (provider === 'local') {
    const tools = await Promise.all(LOCAL_BINARIES.map((name) => probeTool(name, runner, env, { versionArgs: null })));
    return { provider, tools, engine: null };
  }
  const [kind, kubectl] = await Promise.all([
    probeTool('kind', runner, env, { versionArgs: ['version'], override: { setting: 'KIND', value: env.KIND } }),
    probeTool('kubectl', runner, env, { versionArgs: ['version', '--client'] }),
  ]);
  return { provider, tools: [kind, kubectl], engine: await gatherEngine(runner, env) };
}

async function gatherEngine(runner: Runner, env: Readonly<Record<string, string | undefined>>): Promise<EngineFact> {
  const forced = env.KIND_EXPERIMENTAL_PROVIDER;
  const candidates: readonly string[] = forced !== undefined && forced !== '' ? [forced] : KIND_ENGINES;
  let first: ToolFact | null = null;
  for (const name of candidates) {
    const tool = await probeTool(name, runner, env, { versionArgs: null });
    first ??= tool;
    if (tool.path === null) continue;
    const info = await runner.run(tool.path, ['info'], { timeoutMs: ENGINE_INFO_TIMEOUT_MS });
    if (info.exitCode === 0) return { tool, running: true, problem: null };
    const why = info.timedOut ? `did not answer within ${ENGINE_INFO_TIMEOUT_MS / 1000}s` : (info.stderr.trim().split('\n').slice(-1)[0] ?? `exit ${info.exitCode}`);
    return { tool, running: false, problem: `${name} info: ${why}` };
  }
  return { tool: first ?? { name: candidates[0] ?? 'docker', path: null, foundVia: null, versionText: null, failure: null }, running: false, problem: null };
}

export function evaluateProvider(facts: ProviderFacts): Check[] {
  const checks: Check[] = [];
  if (facts.provider === 'kind') {
    const engine = facts.engine;
    if (engine === null || engine.tool.path === null) {
      checks.push(check('provider.engine', 'Container engine for kind', 'fail', `none of ${KIND_ENGINES.join(', ')} found (kind picks them in that order; KIND_EXPERIMENTAL_PROVIDER forces one)`, 'install Docker or Podman, or use CLUSTER_PROVIDER=local'));
    } else if (!engine.running) {
      checks.push(check('provider.engine', 'Container engine for kind', 'fail', `${engine.tool.path} found, but the engine is not running: ${engine.problem ?? 'no answer'}`, `start the ${engine.tool.name} engine (e.g. sudo systemctl start ${engine.tool.name}) and check that your user may use it`));
    } else {
      checks.push(check('provider.engine', 'Container engine for kind', 'pass', `${engine.tool.name} at ${engine.tool.path} is running`));
    }
  }
  for (const tool of facts.tools) {
    const id = `provider.${tool.name}`;
    const title = tool.name === 'kind' ? 'kind' : tool.name;
    if (tool.path === null) {
      checks.push(check(id, title, 'fail', `${tool.name} not found${tool.name === 'kind' ? ' (KIND setting or PATH)' : ' on PATH'}`, installHint(tool.name)));
    } else if (tool.failure !== null) {
      checks.push(check(id, title, 'fail', tool.failure, `check that ${tool.path} is a working ${tool.name}`));
    } else {
      checks.push(check(id, title, 'pass', `${tool.path} (found via ${tool.foundVia ?? 'PATH'})${tool.versionText === null ? '' : `: ${tool.versionText}`}`));
    }
  }
  return checks;
}

function installHint(name: string): string {
  switch (name) {
    case 'kind':
      return 'install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) or set KIND to its path';
    case 'kubectl':
      return 'install kubectl (https://kubernetes.io/docs/tasks/tools/)';
    case 'etcd':
      return 'install etcd (Debian: apt-get install etcd-server) or put it on PATH';
    default:
      return `build it from a Kubernetes checkout (make WHAT=cmd/${name}) and put it on PATH`;
  }
}
