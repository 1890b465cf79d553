// create() of the local provider: config files, PKI, the user's kubeconfig, then
// every component in order, each started only after the previous one is ready
// (kube-proxy after the node is Ready), recorded in the state file as it starts.
import { readdirSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Settings } from '../../config/settings.js';
import { ExitCode, LocalUpError, isLocalUpError } from '../../errors.js';
import { findExecutable } from '../../exec/which.js';
import { Kubectl, NO_CLIENT_VALIDATION } from '../../kube/kubectl.js';
import { pollUntil } from '../../exec/wait.js';
import type { ProviderContext, ProviderDetails } from '../provider.js';
import type { LocalDetails } from './details.js';
import { renderKubeconfig, serverUrl } from './kubeconfig.js';
import { caCertPath, certPath, ensurePki, keyPath } from './pki.js';
import type { LocalPlan } from './plan.js';
import { componentEnv } from './plan.js';
import { BRIDGE_CONFLIST, renderBridgeConflist } from './preflight.js';
import type { ProcessRecord } from './process.js';
import { Supervisor, readLogTail } from './supervisor.js';
import { requiredVirtualServers } from './required-ipvs.js';
import type { LocalProviderDeps, LocalSession } from './session.js';
import { planFor, launchArgv, kubectlAt, findBinaries, pathsOf } from './session.js';

const READY_POLL_MS = 1_000;

async function writeConfigFiles(plan: LocalPlan, settings: Settings): Promise<string[]> {
  await mkdir(plan.layout.configDir, { recursive: true });
  await mkdir(plan.layout.logDir, { recursive: true });
  const written: string[] = [];
  for (const file of plan.files) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(file.path, file.content, { mode: file.mode });
    await chmod(file.path, file.mode);
    written.push(file.path);
  }
  // containerd reads the CNI config; like local-up-cluster.sh, write a bridge network when there is none.
  const existing = (() => {
    try {
      return readdirSync(settings.cniConfigDir).filter((f) => /\.(conf|conflist|json)$/.test(f));
    } catch {
      return [];
    }
  })();
  if (existing.length === 0) {
    await mkdir(settings.cniConfigDir, { recursive: true });
    const conflist = join(settings.cniConfigDir, BRIDGE_CONFLIST);
    await writeFile(conflist, renderBridgeConflist(settings.clusterCidr));
    written.push(conflist);
  }
  return written;
}

/** KUBECONFIG_OUT: the admin identity with everything embedded, 0600. */
async function writeUserKubeconfig(plan: LocalPlan, settings: Settings): Promise<void> {
  const dir = plan.layout.certDir;
  const [caPem, certPem, keyPem] = await Promise.all([readFile(caCertPath(dir), 'utf8'), readFile(certPath(dir, 'client-admin'), 'utf8'), readFile(keyPath(dir, 'client-admin'), 'utf8')]);
  await mkdir(dirname(plan.layout.kubeconfigOut), { recursive: true });
  const text = renderKubeconfig({ server: serverUrl(settings.apiHost, settings.apiSecurePort), clusterName: settings.clusterName, userName: 'admin', credentials: { kind: 'embedded', caPem, certPem, keyPem } });
  await writeFile(plan.layout.kubeconfigOut, text, { mode: 0o600 });
  await chmod(plan.layout.kubeconfigOut, 0o600);
}

function detailsFrom(plan: LocalPlan, settings: Settings, components: readonly ProcessRecord[], cleanupArgv: readonly string[], sudo: boolean, configFiles: readonly string[]): LocalDetails {
  return {
    kind: 'local',
    version: plan.version,
    nodeName: plan.nodeName,
    serviceCidr: settings.serviceCidr,
    layout: plan.layout,
    components: [...components],
    kubeProxy: { configFile: plan.kubeProxy.configFile, mode: plan.kubeProxy.mode, cleanupArgv: [...cleanupArgv], healthzUrl: plan.kubeProxy.healthzUrl, proxyModeUrl: plan.kubeProxy.proxyModeUrl },
    clusterDns: plan.corednsManifest !== null,
    preserveEtcd: settings.preserveEtcd,
    sudo,
    configFiles: [...configFiles],
    requiredVirtualServers:
      plan.kubeProxy.mode === 'ipvs' ? requiredVirtualServers({ firstServiceIp: plan.firstServiceIp, apiSecurePort: settings.apiSecurePort, dnsServerIp: plan.corednsManifest === null ? null : plan.dnsServerIp }) : [],
  };
}

function withStep(error: unknown, step: string): unknown {
  if (!isLocalUpError(error)) return error;
  return new LocalUpError(error.exitCode, `${step}: ${error.message}`, { ...(error.hint === undefined ? {} : { hint: error.hint }), ...(error.details === undefined ? {} : { details: error.details }), cause: error });
}

/** Polls `kubectl get nodes` until the node is Ready, watching for crashes. */
async function waitNodeReady(kubectl: Kubectl, nodeName: string, supervisor: Supervisor, ctx: ProviderContext, kubeletLog: string): Promise<void> {
  let last = 'not registered yet';
  const result = await pollUntil(
    async () => {
      if (supervisor.crashed !== null) return { done: true, value: false };
      try {
        const node = (await kubectl.nodes()).find((n) => n.name === nodeName);
        last = node === undefined ? 'not registered yet' : node.ready ? 'Ready' : 'registered, not Ready';
        return { done: node?.ready === true, value: node?.ready === true };
      } catch (error) {
        if (!isLocalUpError(error) || error.exitCode === ExitCode.interrupted) throw error;
        last = error.message;
        return { done: false, value: false };
      }
    },
    { timeoutMs: ctx.settings.readyTimeout * 1000, intervalMs: READY_POLL_MS, signal: ctx.signal },
  );
  await supervisor.throwIfCrashed(`while kube-local-up waited for node ${nodeName} to become Ready`);
  if (!result.value) {
    const logTail = await readLogTail(kubeletLog);
    throw new LocalUpError(ExitCode.failed, `node ${nodeName} did not become Ready within ${ctx.settings.readyTimeout}s (READY_TIMEOUT): ${last}`, {
      details: logTail === '' ? `(${kubeletLog} is empty)` : `last lines of ${kubeletLog}:\n${logTail}`,
      hint: 'the kubelet log usually names the cause: the container runtime socket, the CNI config, cgroup driver (CGROUP_DRIVER)',
    });
  }
  ctx.progress(`node ${nodeName} is Ready`);
}

async function applyManifest(kubectl: Kubectl, file: string, what: string): Promise<void> {
  await kubectl.text(['apply', NO_CLIENT_VALIDATION, '-f', file], `applying ${what} (${file})`);
}

/** Provider.create for the local provider (see src/providers/provider.ts). */
export async function startLocalCluster(deps: LocalProviderDeps, ctx: ProviderContext, session: LocalSession, record: (details: ProviderDetails) => Promise<void>): Promise<ProviderDetails> {
  const { binaries, verdict } = await findBinaries(ctx, session);
  if (verdict.version === null || verdict.errors.length > 0) {
    throw new LocalUpError(ExitCode.unavailable, 'the local provider cannot use these binaries', { details: verdict.errors.join('\n'), hint: 'fix them and run up again (`local-up up --dry-run` shows where each is looked for)' });
  }
  for (const note of [...verdict.notes, ...verdict.warnings]) ctx.progress(note);
  const plan = planFor(ctx, verdict.version, pathsOf(binaries));
  session.plan = plan;
  const sudo = ctx.uid !== 0;
  const cleanupArgv = launchArgv({ argv: plan.kubeProxy.cleanupArgv, root: true }, ctx.uid, ctx.env);

  const configFiles = await writeConfigFiles(plan, ctx.settings);
  const openssl = findExecutable('openssl', ctx.env);
  if (openssl === null) throw new LocalUpError(ExitCode.unavailable, 'openssl not found on PATH', { hint: 'install it: apt-get install openssl' });
  ctx.progress(`PKI in ${plan.layout.certDir}`);
  const pki = await ensurePki(plan.pki, ctx.settings.reuseCerts, { runner: ctx.runner, openssl, signal: ctx.signal });
  for (const note of pki.notes) ctx.progress(note);
  ctx.log.write(`PKI: generated ${pki.generated.join(', ') || 'nothing'}; reused ${pki.reused.join(', ') || 'nothing'}`);
  await writeUserKubeconfig(plan, ctx.settings);

  const control = deps.control(ctx);
  const supervisor = new Supervisor({ control, http: deps.http, log: (line) => ctx.log.write(line) });
  session.supervisor = supervisor;
  const save = async () => {
    const details = detailsFrom(plan, ctx.settings, supervisor.records, cleanupArgv, sudo, configFiles);
    session.details = details;
    await record(details as unknown as ProviderDetails);
  };
  await save();
  const kubectl = kubectlAt(ctx, plan.layout.adminKubeconfig);
  const timeoutMs = ctx.settings.readyTimeout * 1000;
  supervisor.onCrash((report) => ctx.log.write(`${report.record.name} stopped on its own; up will stop`));

  for (const component of plan.components) {
    if (component.name === 'kube-proxy') {
      try {
        await waitNodeReady(kubectl, plan.nodeName, supervisor, ctx, plan.components.find((c) => c.name === 'kubelet')?.logFile ?? '');
      } catch (error) {
        throw withStep(error, 'before kube-proxy');
      }
    }
    ctx.progress(`starting ${component.name}`);
    const started = supervisor.start(component.name, launchArgv(component, ctx.uid, ctx.env), component.logFile, componentEnv(ctx.env, component));
    await save();
    await supervisor.waitHealthy(started, component.health, { timeoutMs, signal: ctx.signal });
    ctx.progress(`${component.name} is ready (pid ${started.pid})`);
    if (component.name === 'kube-apiserver') await applyManifest(kubectl, plan.bootstrapManifest, 'the kube-apiserver-kubelet-admin ClusterRoleBinding');
  }
  if (plan.corednsManifest !== null) {
    await applyManifest(kubectl, plan.corednsManifest, 'CoreDNS');
    ctx.progress(`applied CoreDNS (kube-dns ${plan.dnsServerIp})`);
  }
  await supervisor.throwIfCrashed('after start-up');
  return session.details as unknown as ProviderDetails;
}
