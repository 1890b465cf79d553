// `logs`: everything needed to debug kube-proxy in IPVS mode, in one folder
// under LOG_DIR: the provider's logs (kind export logs, kube-proxy logs,
// ipsets) and, per node, the IPVS table, the addresses (kube-ipvs0 included)
// and what /proxyMode answers.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ResolvedSettings } from '../config/resolve.js';
import type { Io } from '../io/io.js';
import { withProgress } from './progress.js';
import { ExitCode, usageError } from '../errors.js';
import { tail } from '../exec/runner.js';
import { KUBE_IPVS0, PROC_IP_VS, parseIpAddrOneline } from '../ipvs/live.js';
import { openRunLog } from '../log/run-log.js';
import { loadProvider } from '../providers/provider.js';
import type { Provider, ProviderContext } from '../providers/provider.js';
import { readClusterState } from '../state/state-file.js';
import type { ClusterState } from '../state/state-file.js';
import { providerContext, readProxyModeEndpoint } from './cluster.js';

const NODE_READ_TIMEOUT_MS = 30_000;

export async function runLogs(io: Io, resolved: ResolvedSettings, now: () => Date = () => new Date()): Promise<number> {
  const s = resolved.values;
  const state = await readClusterState(s.stateDir, s.clusterName);
  if (state === null) throw usageError(`no cluster named "${s.clusterName}" recorded in ${s.stateDir}: nothing to collect`, 'give the cluster with --name (see `local-up status`)');
  const dir = join(s.logDir, `collect-${logStamp(now())}`);
  const log = openRunLog(s.logDir, 'logs', now);
  const provider = await loadProvider(state.provider);
  const ctx = providerContext({ io, resolved, log });
  const written = await withProgress(io, `Collect logs of "${state.clusterName}" into ${dir}`, () => collectClusterLogs(provider, ctx, state, dir), { quiet: !io.interactive });
  io.out(`logs of "${state.clusterName}" written to ${dir}\n${written.map((f) => `  ${f}`).join('\n')}\n`);
  return ExitCode.ok;
}

/** The logs stamp for a folder name: 2026-11-26T151802Z. */
export const logStamp = (date: Date): string => date.toISOString().replaceAll(':', '').replace(/\.\d+Z$/, 'Z');

/** The provider's logs, then per node the IPVS table, the addresses and /proxyMode, into dir. Returns the files. */
export async function collectClusterLogs(provider: Provider, ctx: ProviderContext, state: ClusterState, dir: string): Promise<string[]> {
    const files = [...(await provider.collectLogs(ctx, state, dir))];
    for (const node of await provider.nodes(ctx, state)) {
      const nodeDir = join(dir, 'nodes', node.name);
      const ipvs = await node.host.readFile(PROC_IP_VS);
      files.push(await save(join(nodeDir, 'proc-net-ip_vs.txt'), ipvs ?? `(${PROC_IP_VS} is missing on ${node.host.description}: ip_vs is not loaded)\n`));
      const addresses = await node.host.run('ip', ['-o', 'addr', 'show'], { timeoutMs: NODE_READ_TIMEOUT_MS });
      files.push(await save(join(nodeDir, 'ip-addr.txt'), addresses.exitCode === 0 ? addresses.stdout : `(${addresses.command} failed)\n${tail(addresses.stderr, 5)}\n`));
      const bound = parseIpAddrOneline(addresses.stdout).filter((a) => a.ifname === KUBE_IPVS0).map((a) => `${a.address}/${a.prefix}`);
      files.push(await save(join(nodeDir, `${KUBE_IPVS0}.txt`), bound.length === 0 ? `(no addresses on ${KUBE_IPVS0})\n` : `${bound.join('\n')}\n`));
      const mode = await readProxyModeEndpoint(node.host, node.proxyModePort, node.proxyModeAddress);
      files.push(await save(join(nodeDir, 'proxy-mode.txt'), `${mode.mode ?? `(no answer: ${mode.error ?? ''})`}\n`));
    }
    return files;
}

async function save(path: string, text: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  return path;
}
