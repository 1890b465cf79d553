// smoke's checks, in order, as one run over a deployed namespace: /proxyMode on
// every node, the IPVS state of every smoke Service, the headless Service, spread,
// affinity, NodePort, UDP, DNS and scaling to 1. Each check is a named case with
// its evidence (src/smoke/run.ts deploys, runs this and reports).
import type { ResolvedSettings } from '../config/resolve.js';
import type { Io } from '../io/io.js';
import { ExitCode, LocalUpError, formatError, isLocalUpError } from '../errors.js';
import type { Host } from '../exec/host.js';
import { describeFailure, tail } from '../exec/runner.js';
import type { NodeCheck } from '../ipvs/diff.js';
import { checkLiveNode, readNodeAddresses, readNodeIpvs } from '../ipvs/live.js';
import type { IpvsTable } from '../ipvs/model.js';
import { virtualServerKey } from '../ipvs/model.js';
import { readProcIpvs } from '../ipvs/read-proc.js';
import type { IpFamily } from '../kube/ip.js';
import { ipFamilyOf } from '../kube/ip.js';
import type { KubeNode } from '../kube/kubectl.js';
import { Kubectl, NO_CLIENT_VALIDATION } from '../kube/kubectl.js';
import { readClusterJson } from '../kube/read.js';
import type { ClusterState as KubeClusterState } from '../kube/types.js';
import { assertOptionsOf, proxyModeEndpointOf, readProxyModeEndpoint } from '../steps/cluster.js';
import { interrupted, pollUntil } from '../exec/wait.js';
import { expectedSpread, judgePersistence, virtualServersReaching } from './analysis.js';
import type { CheckOutcome, TableSource, Target } from './checks.js';
import { checkAnswers, checkSpread, seconds, waitForAnswer, waitForRemoval } from './checks.js';
import type { SmokePod, SmokeService } from './kube.js';
import { readClusterIP, readDigShort, readNameservers, readSmokePods, readSmokeServices } from './kube.js';
import { AFFINITY_TIMEOUT_SECONDS, BACKEND_DEPLOYMENT, BACKEND_REPLICAS, BACKEND_SELECTOR, CLIENT_POD, PART_OF_LABEL, PART_OF_VALUE, SERVICE_PORT, SMOKE_SERVICES, UDP_PORT, smokeManifests } from './manifests.js';
import type { CaseStatus, SmokeCase } from './report.js';
import { caseLine } from './report.js';
import { ClientPodDialer } from './pod-dial.js';
import { smokeGroups } from './service-groups.js';

/** A node and the way smoke reads its kernel state. */
export interface SmokeNode {
  readonly name: string;
  readonly host: Host;
  /** HZ to use when the node's own kernel config is not readable (kind and local nodes run on this machine's kernel). */
  readonly hzFallback: number | null;
  /** Where kube-proxy answers /proxyMode when not on 10249 (the provider says). */
  readonly proxyModePort?: number;
  /** The address /proxyMode answers on when not 127.0.0.1 (an IPv6 node: [::1]). */
  readonly proxyModeAddress?: string;
}

/** What a caller may look at while the smoke workloads run with all their backends (before the scale-down). */
export interface SmokeWorkloads {
  readonly namespace: string;
  readonly nodes: readonly SmokeNode[];
  /** The backends' pod names (what they answer with). */
  readonly backends: readonly string[];
  readonly services: ReadonlyMap<string, SmokeService>;
  readonly kubeNodes: readonly KubeNode[];
}

/** Runs between the traffic checks and the scale-down (compare-modes probes from the nodes and reads the cluster then). */
export type SmokeHook = (workloads: SmokeWorkloads) => Promise<void>;

interface NodeReading {
  readonly table: IpvsTable;
  readonly hzNote: string;
}

/** How often waits re-read the cluster or the IPVS tables. */
const POLL_INTERVAL_MS = 2_000;
const AFFINITY_REQUESTS = 10;
const UDP_REQUESTS = 6;
const NODEPORT_REQUESTS = 3;
const DNS_REQUESTS = 3;
const AFTER_SCALE_REQUESTS = 6;
/** dig gives up after +time=2 +tries=3 per name in the search list; kubectl exec gets this plus KUBECTL_TIMEOUT. */
const DIG_WORK_MS = 60_000;
/** kube-dns is the Service every kubeadm/kind cluster names its DNS ClusterIP after. */
const KUBE_DNS = { namespace: 'kube-system', name: 'kube-dns' } as const;


interface CaseResult {
  readonly status: CaseStatus;
  readonly message: string;
  readonly evidence: readonly string[];
}

const fromOutcome = (outcome: CheckOutcome<unknown>, extra: readonly string[] = []): CaseResult => ({
  status: outcome.ok ? 'passed' : 'failed',
  message: outcome.message,
  evidence: [...extra, ...outcome.evidence],
});

/** What setup learned: the backends, the client and the Services. */
interface Deployed {
  readonly backends: readonly SmokePod[];
  readonly client: SmokePod;
  readonly services: ReadonlyMap<string, SmokeService>;
  readonly cluster: KubeClusterState;
  readonly kubeNodes: readonly KubeNode[];
}

/** The groups of checks, in order, with their titles for "not run" cases. */
// Case names stay the same from run to run (no namespace, no port numbers) so CI history lines up.
const GROUPS: readonly { readonly group: string; readonly title: string }[] = [
  { group: 'setup', title: `setup: ${BACKEND_REPLICAS} backends, a client and 5 Services` },
  { group: 'proxy-mode', title: "kube-proxy's /proxyMode on every node" },
  { group: 'ipvs', title: 'IPVS virtual servers of the smoke Services on every node' },
  { group: 'headless', title: 'headless Service has no virtual server' },
  { group: 'spread', title: 'ClusterIP Service spreads requests over the backends' },
  { group: 'affinity', title: 'ClientIP affinity keeps one client on one backend' },
  { group: 'affinity-ipvs', title: 'IPVS persistence timeout of the affinity Service on every node' },
  { group: 'nodeport', title: 'NodePort answers on every node' },
  { group: 'udp', title: 'UDP Service answers' },
  { group: 'dns', title: 'DNS name of the ClusterIP Service resolves through kube-dns and answers' },
  { group: 'scale-ipvs', title: 'after scaling to 1, removed backends leave IPVS on every node' },
  { group: 'scale-traffic', title: 'after scaling to 1, traffic reaches the remaining backend' },
];

const title = (group: string): string => GROUPS.find((g) => g.group === group)?.title ?? group;

/** Per node: its table as last read and the keys of the virtual servers the smoke Services should have there. */
type NodeTables = Map<string, { readonly table: IpvsTable; readonly expected: ReadonlySet<string> }>;

export class SmokeRun {
  readonly cases: SmokeCase[] = [];
  private readonly dialer: ClientPodDialer;
  private readonly s: ResolvedSettings['values'];
  private readonly families: readonly IpFamily[];

  constructor(
    private readonly io: Io,
    private readonly kubectl: Kubectl,
    private readonly namespace: string,
    private readonly mode: string,
    resolved: ResolvedSettings,
    private readonly progress: (line: string) => void,
  ) {
    this.s = resolved.values;
    this.dialer = new ClientPodDialer(kubectl, namespace);
    this.families = assertOptionsOf(this.s).families;
  }

  private get ipvs(): boolean {
    return this.mode === 'ipvs';
  }

  record(c: SmokeCase): void {
    this.cases.push(c);
    this.progress(caseLine(c));
  }

  /** Runs one case: timed, an expected error becomes an "error" case, Ctrl-C stops everything. */
  private async check(group: string, name: string, work: () => Promise<CaseResult>): Promise<CaseResult> {
    const started = Date.now();
    let result: CaseResult;
    try {
      result = await work();
      // A command cut short by Ctrl-C looks like a failure: it is not one.
      if (this.io.signal.aborted) throw interrupted();
    } catch (error) {
      if (this.io.signal.aborted) throw interrupted();
      if (!isLocalUpError(error)) throw error;
      result = { status: 'error', message: error.message, evidence: formatError(error).split('\n').slice(1) };
    }
    this.record({ group, name, ...result, seconds: (Date.now() - started) / 1000 });
    return result;
  }

  private skip(group: string, name: string, reason: string): void {
    this.record({ group, name, status: 'skipped', message: reason, evidence: [], seconds: 0 });
  }

  /** Every group that has no case yet becomes one skipped case. */
  skipRemaining(reason: string): void {
    const done = new Set(this.cases.map((c) => c.group));
    for (const { group, title } of GROUPS) if (!done.has(group)) this.skip(group, title, reason);
  }

  async all(nodes: readonly SmokeNode[], beforeScaleDown?: SmokeHook): Promise<void> {
    const deployed = await this.setup();
    if (deployed === null) {
      this.skipRemaining('not run: setup failed');
      return;
    }
    await this.proxyModes(nodes);
    const tables = await this.ipvsServices(nodes, deployed);
    await this.headless(nodes, deployed, tables);
    await this.traffic(nodes, deployed);
    if (beforeScaleDown !== undefined) {
      await beforeScaleDown({ namespace: this.namespace, nodes, backends: deployed.backends.map((b) => b.name), services: deployed.services, kubeNodes: deployed.kubeNodes });
    }
    await this.scaleDown(nodes, deployed);
  }

  // ---- setup ---------------------------------------------------------------

  private async setup(): Promise<Deployed | null> {
    let deployed: Deployed | null = null;
    const ns = this.namespace;
    await this.check('setup', title('setup'), async () => {
      const deadline = Date.now() + this.s.smokeReadyTimeout * 1000;
      const left = () => Math.max(1, Math.round((deadline - Date.now()) / 1000));
      const manifests = smokeManifests(ns, this.s.smokeImage);
      this.progress(`smoke: creating namespace ${ns} (label ${PART_OF_LABEL}=${PART_OF_VALUE})`);
      await this.kubectl.text(['create', NO_CLIENT_VALIDATION, '-f', '-'], `creating namespace ${ns}`, { input: JSON.stringify(manifests.namespace) });
      await this.kubectl.text(['apply', NO_CLIENT_VALIDATION, '-f', '-'], `creating the smoke workloads in ${ns}`, { input: JSON.stringify(manifests.workloads) });
      this.progress(`smoke: waiting for ${BACKEND_REPLICAS} backends and the client (${this.s.smokeImage}; SMOKE_READY_TIMEOUT ${this.s.smokeReadyTimeout}s)`);
      const rollout = await this.kubectl.run(['-n', ns, 'rollout', 'status', `deployment/${BACKEND_DEPLOYMENT}`, `--timeout=${left()}s`], { timeoutMs: this.kubectl.deadline(left() * 1000) });
      if (rollout.exitCode !== 0) return this.notReady(`the backends did not become ready within ${this.s.smokeReadyTimeout}s (SMOKE_READY_TIMEOUT)`, rollout.stderr || rollout.stdout);
      const client = await this.kubectl.run(['-n', ns, 'wait', '--for=condition=Ready', `pod/${CLIENT_POD}`, `--timeout=${left()}s`], { timeoutMs: this.kubectl.deadline(left() * 1000) });
      if (client.exitCode !== 0) return this.notReady(`the client pod did not become ready within ${this.s.smokeReadyTimeout}s (SMOKE_READY_TIMEOUT)`, client.stderr || client.stdout);

      const pods = readSmokePods(await this.getJson(['-n', ns, 'pods'], `listing the pods of ${ns}`));
      const backends = pods.filter((p) => p.name !== CLIENT_POD && p.ready && !p.terminating && p.ip !== '');
      const clientPod = pods.find((p) => p.name === CLIENT_POD);
      if (clientPod === undefined || backends.length !== BACKEND_REPLICAS) {
        return { status: 'failed', message: `expected ${BACKEND_REPLICAS} ready backends and the client, found ${backends.length} and ${clientPod === undefined ? 'no client' : 'the client'}`, evidence: pods.map(describePod) };
      }
      const services = new Map(readSmokeServices(await this.getJson(['-n', ns, 'services'], `listing the Services of ${ns}`)).map((svc) => [svc.name, svc]));
      for (const name of Object.values(SMOKE_SERVICES)) if (!services.has(name)) return { status: 'failed', message: `Service ${ns}/${name} was not created`, evidence: [...services.keys()] };

      // kube-proxy programs what the EndpointSlices say: wait until they list exactly the backends.
      const wanted = backends.map((b) => b.ip).sort().join(',');
      const slices = await pollUntil(
        async () => {
          const cluster = readClusterJson(await this.kubectl.text(['-n', ns, 'get', 'services,endpointslices', '-o', 'json'], `reading the Services and EndpointSlices of ${ns}`), `${ns} Services and EndpointSlices`);
          const lagging = Object.values(SMOKE_SERVICES).filter((name) => readyAddresses(cluster, ns, name).join(',') !== wanted);
          return { done: lagging.length === 0, value: { cluster, lagging } };
        },
        { timeoutMs: left() * 1000, intervalMs: POLL_INTERVAL_MS, signal: this.io.signal },
      );
      if (!slices.done) {
        return { status: 'failed', message: `the EndpointSlices of ${slices.value.lagging.map((n) => `${ns}/${n}`).join(', ')} do not list the ${BACKEND_REPLICAS} ready backends within ${this.s.smokeReadyTimeout}s`, evidence: backends.map(describePod) };
      }
      const kubeNodes = await this.kubectl.nodes();
      deployed = { backends, client: clientPod, services, cluster: slices.value.cluster, kubeNodes };
      const evidence = [
        ...backends.map(describePod),
        describePod(clientPod),
        ...[...services.values()].map((svc) => `Service ${svc.name}: ${svc.clusterIP} ${svc.ports.map((p) => `${p.port}/${p.protocol}${p.nodePort > 0 ? ` nodePort ${p.nodePort}` : ''}`).join(', ')}`),
      ];
      return { status: 'passed', message: `${BACKEND_REPLICAS} backends and the client are ready in ${ns}; the EndpointSlices list the backends`, evidence };
    });
    return deployed;
  }

  private async notReady(message: string, output: string): Promise<CaseResult> {
    const pods = await this.kubectl.run(['-n', this.namespace, 'get', 'pods', '-o', 'wide']);
    const events = await this.kubectl.run(['-n', this.namespace, 'get', 'events', '--sort-by=.lastTimestamp']);
    return { status: 'failed', message, evidence: [tail(output, 5), pods.stdout.trimEnd(), tail(events.stdout, 15)].filter((t) => t.trim() !== '') };
  }

  /** `kubectl get ARGS -o json`; a missing object is a failure here. */
  private async getJson(args: readonly string[], what: string): Promise<unknown> {
    const value = await this.kubectl.getJson(args, what);
    if (value === null) throw new LocalUpError(ExitCode.failed, `${what}: not found`);
    return value;
  }

  // ---- kube-proxy mode -------------------------------------------------------

  private async proxyModes(nodes: readonly SmokeNode[]): Promise<void> {
    for (const node of nodes) {
      await this.check('proxy-mode', `kube-proxy /proxyMode on ${node.name}`, async () => {
        const answer = await readProxyModeEndpoint(node.host, node.proxyModePort, node.proxyModeAddress);
        const evidence = [`GET http://${proxyModeEndpointOf(node)}/proxyMode on ${node.host.description}: ${answer.mode ?? `no answer (${answer.error ?? ''})`}`];
        if (answer.mode === this.mode) return { status: 'passed', message: `kube-proxy runs in ${this.mode} mode`, evidence };
        return { status: 'failed', message: answer.mode === null ? 'kube-proxy did not answer /proxyMode' : `kube-proxy runs in "${answer.mode}" mode, not "${this.mode}"`, evidence };
      });
    }
  }

  // ---- IPVS ------------------------------------------------------------------

  private async readTable(node: SmokeNode): Promise<NodeReading> {
    const reading = await readNodeIpvs(node.host);
    if (reading.hz !== null) return { table: reading.table, hzNote: `HZ ${reading.hz} from node ${node.name}'s kernel config` };
    if (node.hzFallback !== null) return { table: readProcIpvs(reading.text, { hz: node.hzFallback }), hzNote: `HZ ${node.hzFallback} from this machine's kernel config (the node runs on it)` };
    return { table: reading.table, hzNote: 'HZ unknown: persistence timeouts stay in jiffies' };
  }

  /** Reads every node until kube-proxy programmed every smoke Service (or SMOKE_SYNC_TIMEOUT), then one case per node and Service. */
  private async ipvsServices(nodes: readonly SmokeNode[], deployed: Deployed): Promise<NodeTables> {
    const tables: NodeTables = new Map();
    if (!this.ipvs) {
      this.skip('ipvs', title('ipvs'), `skipped: KUBE_PROXY_MODE=${this.mode} programs no IPVS table`);
      return tables;
    }
    const ns = this.namespace;
    const started = Date.now();
    type Round = { readonly node: SmokeNode; readonly check: NodeCheck | null; readonly error: LocalUpError | null };
    let rounds: Round[] = [];
    try {
      const settled = await pollUntil(
        async () => {
          const cluster = readClusterJson(await this.kubectl.text(['-n', ns, 'get', 'services,endpointslices', '-o', 'json'], `reading the Services and EndpointSlices of ${ns}`), `${ns} Services and EndpointSlices`);
          const value: Round[] = [];
          tables.clear();
          for (const node of nodes) {
            try {
              const [reading, addresses] = await Promise.all([this.readTable(node), readNodeAddresses(node.host)]);
              const check = checkLiveNode({ cluster, nodeName: node.name, table: reading.table, addresses, ...assertOptionsOf(this.s), families: this.families });
              tables.set(node.name, { table: reading.table, expected: new Set(check.expected.virtualServers.map((vs) => virtualServerKey(vs))) });
              value.push({ node, check, error: null });
            } catch (error) {
              if (!isLocalUpError(error)) throw error;
              value.push({ node, check: null, error });
            }
          }
          return { done: value.every((r) => r.check !== null && smokeGroups(r.check, deployed.services).every((g) => g.ok)), value };
        },
        { timeoutMs: this.s.smokeSyncTimeout * 1000, intervalMs: POLL_INTERVAL_MS, signal: this.io.signal },
      );
      rounds = settled.value;
    } catch (error) {
      if (this.io.signal.aborted || !isLocalUpError(error)) throw error;
      await this.check('ipvs', title('ipvs'), async () => {
        throw error;
      });
      return tables;
    }
    const waited = `read ${seconds(Date.now() - started)} after setup (SMOKE_SYNC_TIMEOUT ${this.s.smokeSyncTimeout}s)`;
    for (const round of rounds) {
      if (round.check === null) {
        const error = round.error;
        await this.check('ipvs', `IPVS on ${round.node.name}`, async () => {
          throw error ?? new Error('no reading');
        });
        continue;
      }
      const table = tables.get(round.node.name)?.table;
      for (const group of smokeGroups(round.check, deployed.services)) {
        await this.check('ipvs', `IPVS on ${round.node.name}: ${group.label}`, async () => {
          const evidence = [...group.evidence(table), waited];
          if (group.ok) return { status: 'passed', message: `${group.virtualServers} virtual server${group.virtualServers === 1 ? '' : 's'} as kube-proxy must program them`, evidence };
          return { status: 'failed', message: group.problems[0] ?? 'differs', evidence: [...group.problems.slice(1), ...evidence] };
        });
      }
    }
    return tables;
  }

  private async headless(nodes: readonly SmokeNode[], deployed: Deployed, tables: NodeTables): Promise<void> {
    const ns = this.namespace;
    const name = title('headless');
    if (!this.ipvs) {
      this.skip('headless', name, `skipped: KUBE_PROXY_MODE=${this.mode} programs no IPVS table`);
      return;
    }
    await this.check('headless', name, async () => {
      const headless = deployed.services.get(SMOKE_SERVICES.headless);
      const evidence = [`${ns}/${SMOKE_SERVICES.headless} clusterIP: ${headless?.clusterIP ?? '(missing)'}`];
      if (headless?.clusterIP !== 'None') return { status: 'failed', message: `${ns}/${SMOKE_SERVICES.headless} is not headless`, evidence };
      const problems: string[] = [];
      for (const node of nodes) {
        const read = tables.get(node.name);
        if (read === undefined) {
          problems.push(`node ${node.name}: its IPVS table could not be read (see the IPVS case)`);
          continue;
        }
        const reaching = virtualServersReaching(read.table, deployed.backends.map((b) => b.ip));
        const extra = [...reaching.keys()].filter((key) => !read.expected.has(key));
        evidence.push(`node ${node.name}: ${reaching.size} virtual servers reach the backends, ${extra.length === 0 ? 'all of them for the other smoke Services' : `not expected: ${extra.join(', ')}`}`);
        for (const key of extra) problems.push(`node ${node.name}: ${key} reaches the backends (${(reaching.get(key) ?? []).join(', ')}) but belongs to no smoke Service with a ClusterIP`);
      }
      if (problems.length === 0) return { status: 'passed', message: 'no virtual server beyond those of the other smoke Services reaches the backends', evidence };
      return { status: 'failed', message: problems[0] ?? 'failed', evidence: [...problems.slice(1), ...evidence] };
    });
  }

  // ---- traffic ---------------------------------------------------------------

  private serviceTarget(deployed: Deployed, role: keyof typeof SMOKE_SERVICES, protocol: 'http' | 'udp'): Target {
    const service = deployed.services.get(SMOKE_SERVICES[role]);
    if (service === undefined || ipFamilyOf(service.clusterIP) === null) throw new LocalUpError(ExitCode.failed, `Service ${this.namespace}/${SMOKE_SERVICES[role]} has no ClusterIP`);
    return { protocol, host: service.clusterIP, port: protocol === 'udp' ? UDP_PORT : SERVICE_PORT };
  }

  private async traffic(nodes: readonly SmokeNode[], deployed: Deployed): Promise<void> {
    const ns = this.namespace;
    const names = deployed.backends.map((b) => b.name);
    const sync = { timeoutMs: this.s.smokeSyncTimeout * 1000, intervalMs: POLL_INTERVAL_MS, signal: this.io.signal };

    const spread = expectedSpread(this.mode, this.s.scheduler);
    await this.check('spread', `${title('spread')} (${this.ipvs ? this.s.scheduler : this.mode}: ${spread.rule})`, async () => {
      const target = this.serviceTarget(deployed, 'clusterIP', 'http');
      const first = await waitForAnswer(this.dialer, target, sync);
      if (!first.ok) return fromOutcome(first);
      return fromOutcome(await checkSpread(this.dialer, target, names, spread, this.s.smokeRequests), first.evidence);
    });

    const sticky = expectedSpread(this.mode, this.s.scheduler, true);
    await this.check('affinity', title('affinity'), async () =>
      fromOutcome(await checkSpread(this.dialer, this.serviceTarget(deployed, 'affinity', 'http'), names, sticky, AFFINITY_REQUESTS)),
    );

    const persistenceName = title('affinity-ipvs');
    if (!this.ipvs) this.skip('affinity-ipvs', persistenceName, `skipped: KUBE_PROXY_MODE=${this.mode} programs no IPVS table`);
    else {
      await this.check('affinity-ipvs', persistenceName, async () => {
        const target = this.serviceTarget(deployed, 'affinity', 'http');
        const key = virtualServerKey({ protocol: 'TCP', address: target.host, port: target.port });
        const evidence: string[] = [];
        const failed: string[] = [];
        for (const node of nodes) {
          const reading = await this.readTable(node);
          const verdict = judgePersistence(reading.table, key, AFFINITY_TIMEOUT_SECONDS);
          evidence.push(`node ${node.name}: ${verdict.evidence} (${reading.hzNote})`);
          if (!verdict.ok) failed.push(`node ${node.name}: ${verdict.evidence}`);
        }
        if (failed.length === 0) return { status: 'passed', message: `${key} is persistent ${AFFINITY_TIMEOUT_SECONDS}s on ${nodes.length} node${nodes.length === 1 ? '' : 's'}`, evidence };
        return { status: 'failed', message: failed[0] ?? 'failed', evidence };
      });
    }

    const nodePortService = deployed.services.get(SMOKE_SERVICES.nodePort);
    const nodePort = nodePortService?.ports[0]?.nodePort ?? 0;
    for (const kubeNode of deployed.kubeNodes) {
      const address = kubeNode.internalIPs.find((ip) => this.families.includes(ipFamilyOf(ip) ?? 4));
      await this.check('nodeport', `NodePort answers on ${kubeNode.name}`, async () => {
        if (nodePort === 0) return { status: 'failed', message: `${ns}/${SMOKE_SERVICES.nodePort} has no nodePort`, evidence: [] };
        if (address === undefined) return { status: 'failed', message: `node ${kubeNode.name} has no InternalIP of the cluster's family`, evidence: [] };
        return fromOutcome(await checkAnswers(this.dialer, { protocol: 'http', host: address, port: nodePort }, names, NODEPORT_REQUESTS));
      });
    }

    await this.check('udp', title('udp'), async () =>
      fromOutcome(await checkAnswers(this.dialer, this.serviceTarget(deployed, 'udp', 'udp'), names, UDP_REQUESTS)),
    );

    const dnsName = `${SMOKE_SERVICES.clusterIP}.${ns}.svc`;
    await this.check('dns', title('dns'), async () => this.dns(deployed, dnsName, names));
  }

  private async dns(deployed: Deployed, dnsName: string, names: readonly string[]): Promise<CaseResult> {
    const ns = this.namespace;
    const clusterIP = this.serviceTarget(deployed, 'clusterIP', 'http').host;
    const kubeDns = readClusterIP(await this.getJson(['-n', KUBE_DNS.namespace, 'service', KUBE_DNS.name], `reading Service ${KUBE_DNS.namespace}/${KUBE_DNS.name}`));
    const resolvConf = await this.kubectl.text(['-n', ns, 'exec', CLIENT_POD, '--', 'cat', '/etc/resolv.conf'], `reading ${ns}/${CLIENT_POD}'s /etc/resolv.conf`);
    const nameservers = readNameservers(resolvConf);
    const evidence = [`${KUBE_DNS.namespace}/${KUBE_DNS.name} ClusterIP ${kubeDns}; the client's nameservers: ${nameservers.join(', ') || '(none)'}`];
    if (!nameservers.includes(kubeDns)) return { status: 'failed', message: `the client pod does not use kube-dns (${kubeDns}) as its nameserver`, evidence: [...evidence, resolvConf.trimEnd()] };
    const dig = await this.kubectl.run(['-n', ns, 'exec', CLIENT_POD, '--', 'dig', '+short', '+search', '+time=2', '+tries=3', dnsName], { timeoutMs: this.kubectl.deadline(DIG_WORK_MS) });
    const addresses = readDigShort(dig.stdout);
    evidence.push(`dig +short +search ${dnsName} (through ${kubeDns}): ${addresses.join(', ') || `no address${dig.exitCode === 0 ? '' : ` (${describeFailure(dig)}: ${tail(dig.stderr || dig.stdout, 2)})`}`}`);
    if (!addresses.includes(clusterIP)) return { status: 'failed', message: `${dnsName} does not resolve to its ClusterIP ${clusterIP}`, evidence };
    const outcome = await checkAnswers(this.dialer, { protocol: 'http', host: dnsName, port: SERVICE_PORT }, names, DNS_REQUESTS);
    return { ...fromOutcome(outcome, evidence), message: outcome.ok ? `${dnsName} resolves to ${clusterIP} through kube-dns and ${outcome.message}` : outcome.message };
  }

  // ---- scale down --------------------------------------------------------------

  private async scaleDown(nodes: readonly SmokeNode[], deployed: Deployed): Promise<void> {
    const ipvsName = title('scale-ipvs');
    const trafficName = title('scale-traffic');
    let scaled: { remaining: SmokePod; removed: SmokePod[] } | null = null;
    let scaleError: CaseResult | null = null;
    try {
      scaled = await this.scaleToOne(deployed);
    } catch (error) {
      if (this.io.signal.aborted || !isLocalUpError(error)) throw error;
      scaleError = { status: 'error', message: error.message, evidence: formatError(error).split('\n').slice(1) };
    }
    const sync = { timeoutMs: this.s.smokeSyncTimeout * 1000, intervalMs: POLL_INTERVAL_MS, signal: this.io.signal };
    const scaledEvidence = scaled === null ? [] : [`remaining: ${describePod(scaled.remaining)}`, ...scaled.removed.map((p) => `removed: ${p.name} ${p.ip}`)];

    if (!this.ipvs) this.skip('scale-ipvs', ipvsName, `skipped: KUBE_PROXY_MODE=${this.mode} programs no IPVS table`);
    else {
      await this.check('scale-ipvs', ipvsName, async () => {
        if (scaled === null) return scaleError ?? { status: 'error', message: 'not scaled', evidence: [] };
        const sources: TableSource[] = nodes.map((node) => ({ node: node.name, read: async () => (await this.readTable(node)).table }));
        return fromOutcome(await waitForRemoval(sources, scaled.removed.map((p) => p.ip), sync), scaledEvidence);
      });
    }
    await this.check('scale-traffic', trafficName, async () => {
      if (scaled === null) return scaleError ?? { status: 'error', message: 'not scaled', evidence: [] };
      const remaining = scaled.remaining.name;
      const target = this.serviceTarget(deployed, 'clusterIP', 'http');
      // Other modes have no weight-0 state to look at: wait until only the remaining backend answers.
      const last = await pollUntil(
        async () => {
          const outcome = await checkAnswers(this.dialer, target, [remaining], AFTER_SCALE_REQUESTS);
          return { done: outcome.ok, value: outcome };
        },
        sync,
      );
      return fromOutcome(last.value, scaledEvidence);
    });
  }

  /** Scales the backends to 1 and waits until one is ready and the others terminate (SMOKE_READY_TIMEOUT). */
  private async scaleToOne(deployed: Deployed): Promise<{ remaining: SmokePod; removed: SmokePod[] }> {
    const ns = this.namespace;
    this.progress(`smoke: scaling ${ns}/${BACKEND_DEPLOYMENT} to 1`);
    await this.kubectl.text(['-n', ns, 'scale', `deployment/${BACKEND_DEPLOYMENT}`, '--replicas=1'], `scaling ${ns}/${BACKEND_DEPLOYMENT} to 1`);
    const original = new Map(deployed.backends.map((b) => [b.name, b]));
    const last = await pollUntil(
      async () => {
        const pods = readSmokePods(await this.getJson(['-n', ns, 'pods', '-l', BACKEND_SELECTOR], `listing the backends of ${ns}`));
        const live = pods.filter((p) => !p.terminating);
        return { done: live.length === 1 && live[0]?.ready === true && original.has(live[0].name), value: live };
      },
      { timeoutMs: this.s.smokeReadyTimeout * 1000, intervalMs: POLL_INTERVAL_MS, signal: this.io.signal },
    );
    const remaining = last.value[0];
    if (!last.done || remaining === undefined) {
      throw new LocalUpError(ExitCode.failed, `${ns}/${BACKEND_DEPLOYMENT} did not settle at 1 ready backend within ${this.s.smokeReadyTimeout}s`, { details: last.value.map(describePod).join('\n') });
    }
    return { remaining, removed: deployed.backends.filter((b) => b.name !== remaining.name) };
  }
}

function describePod(pod: SmokePod): string {
  return `pod ${pod.name} ${pod.ip || '(no IP)'} on ${pod.node || '(unscheduled)'}${pod.ready ? ', ready' : `, not ready (${pod.phase || 'unknown phase'})`}${pod.terminating ? ', terminating' : ''}`;
}

/** Ready endpoint addresses of a Service's EndpointSlices, sorted. */
function readyAddresses(cluster: KubeClusterState, namespace: string, service: string): string[] {
  return cluster.endpointSlices
    .filter((slice) => slice.namespace === namespace && slice.serviceName === service)
    .flatMap((slice) => slice.endpoints.filter((e) => e.ready).map((e) => e.addresses[0] ?? ''))
    .filter((a) => a !== '')
    .sort();
}
