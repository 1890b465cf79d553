// docs/compared-with-local-up-cluster.md from one side-by-side run (docs/compared-with-local-up-cluster.json,
// written by scripts/compare-anchor.mjs). Pure: the same JSON always gives the same document.
import type { AnchorRecord, Leftovers, SideRecord } from './record.js';

export const ANCHOR_RESULT_SCHEMA = 1;

/** The saved run: the guest's record plus how the run was made. */
export interface AnchorResult {
  readonly schema: typeof ANCHOR_RESULT_SCHEMA;
  /** UTC date of the run (YYYY-MM-DD). */
  readonly date: string;
  readonly lab: { readonly memoryMb: number; readonly cpus: number; readonly accel: string; readonly vmSeconds: number };
  /** The module the script was run from, e.g. k8s.io/kubernetes@v1.34.11. */
  readonly upstreamModule: string;
  /** cfssl/cfssljson the script used (built with go install, it downloads them otherwise). */
  readonly cfssl: string;
  readonly record: AnchorRecord;
}

/** Checks the saved JSON has the shape this renderer reads; names the first thing that is wrong. */
export function readAnchorResult(text: string, source: string): AnchorResult {
  const value = JSON.parse(text) as Partial<AnchorResult>;
  const fail = (what: string): never => {
    throw new Error(`${source}: ${what}`);
  };
  if (value.schema !== ANCHOR_RESULT_SCHEMA) fail(`schema is ${String(value.schema)}, this renderer reads ${ANCHOR_RESULT_SCHEMA}`);
  if (typeof value.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value.date)) fail('date must be YYYY-MM-DD');
  if (typeof value.lab?.memoryMb !== 'number' || typeof value.lab.cpus !== 'number') fail('lab.memoryMb and lab.cpus must be numbers');
  if (typeof value.upstreamModule !== 'string' || typeof value.cfssl !== 'string') fail('upstreamModule and cfssl must be strings');
  if (value.record?.sides?.ours === undefined || value.record.sides.upstream === undefined) fail('the record must hold both sides (ours and upstream)');
  return value as AnchorResult;
}

const seconds = (n: number | null): string => (n === null ? 'not reached' : `${n} s`);
const code = (text: string): string => `\`${text}\``;
const none = (items: readonly string[]): string => (items.length === 0 ? 'none' : items.join(', '));

function assertCell(side: SideRecord): string {
  const a = side.assert;
  if (a === null) return 'not run (the cluster did not start)';
  if (a.ok === null) return `could not check (exit ${a.exitCode ?? '?'}): ${a.error ?? ''}`.trim();
  const verdict = a.ok ? 'pass' : `FAIL (${a.failures} failure${a.failures === 1 ? '' : 's'})`;
  return `${verdict}: ${a.matchedVirtualServers} of ${a.expectedVirtualServers} expected virtual servers match, for ${a.servicePorts} Service ports; the table had ${a.actualVirtualServers}${a.warnings ? `; ${a.warnings} warning(s)` : ''}`;
}

function leftoverCells(l: Leftovers | null): { vs: string; ipsets: string; chains: string; link: string; processes: string } {
  if (l === null) return { vs: 'not checked', ipsets: 'not checked', chains: 'not checked', link: 'not checked', processes: 'not checked' };
  const chainCount = l.chains.reduce((n, c) => n + c.names.length, 0);
  return {
    vs: String(l.virtualServers),
    ipsets: l.ipsets.length === 0 ? 'none' : `${l.ipsets.length}: ${l.ipsets.map(code).join(', ')}`,
    chains: chainCount === 0 ? 'none' : l.chains.map((c) => `${c.names.length} (${code(c.tool)})`).join(', '),
    link: l.kubeIpvs0 === null ? 'gone' : `still there, ${l.kubeIpvs0.length} address(es)`,
    processes: l.processes.length === 0 ? 'none' : l.processes.map((p) => `${p.name} x${p.count}`).join(', '),
  };
}

function budgetCell(side: SideRecord, what: string): string {
  const budget = side.readyBudget === null ? 'no limit recorded' : `${what} ${side.readyBudget} s`;
  return side.apiServerTries === null ? budget : `${budget}; \`WAIT_FOR_URL_API_SERVER=${side.apiServerTries}\` (its default, 60 tries of about a second, is too short under emulation)`;
}

function kubeletCell(l: Leftovers | null): string {
  if (l === null) return 'not checked';
  const names = [...new Set(l.kubeletChains.flatMap((c) => c.names))].sort();
  return names.length === 0 ? 'none' : names.map(code).join(', ');
}

function sentenceOnTime(ours: SideRecord, upstream: SideRecord): string {
  if (ours.readySeconds === null || upstream.readySeconds === null) return 'One side never had a Ready node, so their start-up times cannot be compared.';
  const diff = ours.readySeconds - upstream.readySeconds;
  const ready =
    diff === 0 ? `Both had a Ready node after ${ours.readySeconds} s.`
    : diff < 0 ? `Our node was Ready ${-diff} s sooner (${ours.readySeconds} s against ${upstream.readySeconds} s).`
    : `Our node was Ready ${diff} s LATER (${ours.readySeconds} s against ${upstream.readySeconds} s): here we are slower.`;
  if (ours.commandSeconds === null || upstream.commandSeconds === null) return ready;
  const cdiff = ours.commandSeconds - upstream.commandSeconds;
  const done =
    cdiff <= 0 ? `\`local-up up --detach\` returned ${-cdiff} s before the script said the cluster was running (${ours.commandSeconds} s against ${upstream.commandSeconds} s).`
    : `\`local-up up --detach\` returned ${cdiff} s after the script said the cluster was running (${ours.commandSeconds} s against ${upstream.commandSeconds} s): here we are slower.`;
  return `${ready} ${done}`;
}

function sentenceOnLeftovers(side: SideRecord, name: string): string {
  const l = side.leftovers;
  if (l === null) return `${name}: the kernel was not checked.`;
  if (l.clean) return `${name} left nothing of kube-proxy's in the kernel and no process of the cluster.`;
  const parts: string[] = [];
  if (l.virtualServers > 0) parts.push(`${l.virtualServers} IPVS virtual server(s)`);
  if (l.ipsets.length > 0) parts.push(`${l.ipsets.length} ipset(s)`);
  const chains = l.chains.reduce((n, c) => n + c.names.length, 0);
  if (chains > 0) parts.push(`${chains} KUBE-* chain(s)`);
  if (l.kubeIpvs0 !== null) parts.push('the kube-ipvs0 interface');
  if (l.processes.length > 0) parts.push(`processes (${l.processes.map((p) => p.name).join(', ')})`);
  return `${name} left ${parts.join(', ')}.`;
}

const fence = (lines: readonly string[]): string[] => ['```', ...lines, '```'];

/** The whole document. */
export function renderAnchorDoc(result: AnchorResult): string {
  const { record } = result;
  const ours = record.sides.ours as SideRecord;
  const upstream = record.sides.upstream as SideRecord;
  const n = record.node;
  const lo = leftoverCells(ours.leftovers);
  const lu = leftoverCells(upstream.leftovers);
  const rows: [string, string, string][] = [
    ['started with', '`local-up up --detach`', `\`hack/local-up-cluster.sh -o <bin>\` from ${code(result.upstreamModule)}`],
    ['node name', code(ours.nodeName ?? '?'), code(upstream.nodeName ?? '?')],
    ['command result', ours.commandExit === '0' ? 'exit 0' : `failed (${ours.commandExit ?? '?'})`, upstream.commandExit === '0' ? '"Local Kubernetes cluster is running"' : `failed (${upstream.commandExit ?? '?'})`],
    ['time it was given to start', budgetCell(ours, 'READY_TIMEOUT'), budgetCell(upstream, 'waited for')],
    ['start to node Ready', seconds(ours.readySeconds), seconds(upstream.readySeconds)],
    ['start to "cluster usable" (command returned / script said running)', seconds(ours.commandSeconds), seconds(upstream.commandSeconds)],
    ["kube-proxy's /proxyMode (127.0.0.1:10249)", code(ours.proxyMode ?? '?'), code(upstream.proxyMode ?? '?')],
    ['IPVS virtual servers after start', String(ours.virtualServers ?? '?'), String(upstream.virtualServers ?? '?')],
    ['`local-up assert --host local` on that table', assertCell(ours), assertCell(upstream)],
    ['stopped with', '`local-up down`', 'Ctrl-C (SIGINT to the script\'s process group)'],
    ['stop command result', `exit ${ours.stopExit ?? '?'} after ${seconds(ours.stopSeconds)}`, `exit ${upstream.stopExit ?? '?'} after ${seconds(upstream.stopSeconds)}`],
    ['component processes gone', ours.componentsGoneSeconds === null ? 'NOT within the wait' : `after ${ours.componentsGoneSeconds} s`, upstream.componentsGoneSeconds === null ? 'NOT within the wait' : `after ${upstream.componentsGoneSeconds} s`],
    ['left: IPVS virtual servers', lo.vs, lu.vs],
    ['left: ipsets', lo.ipsets, lu.ipsets],
    ["left: kube-proxy's KUBE-* chains (iptables, ip6tables; nft and legacy)", lo.chains, lu.chains],
    ["the kubelet's own chains (it never removes them; not counted)", kubeletCell(ours.leftovers), kubeletCell(upstream.leftovers)],
    ['left: kube-ipvs0', lo.link, lu.link],
    ['left: processes (cluster and pods)', lo.processes, lu.processes],
    ['left, not kube-proxy\'s: cni0 bridge / CNI config / containers in containerd', `${ours.cni0 ? 'cni0' : 'no cni0'} / ${none(ours.cniConfig)} / ${ours.containers ?? '?'}`, `${upstream.cni0 ? 'cni0' : 'no cni0'} / ${none(upstream.cniConfig)} / ${upstream.containers ?? '?'}`],
  ];
  const lines: string[] = [
    '# kube-local-up compared with hack/local-up-cluster.sh',
    '',
    '<!-- Generated by hack/gen-anchor-doc.mjs from docs/compared-with-local-up-cluster.json (written by `npm run compare:anchor`); do not edit. -->',
    '',
    `One run on ${result.date}, in one lab VM (${result.lab.memoryMb} MiB, ${result.lab.cpus} CPUs, ${result.lab.accel === 'tcg' ? 'software emulation (qemu TCG): every time below is many times what a real machine takes' : result.lab.accel}; Debian kernel ${n.kernel ?? '?'}): ` +
      `our local provider first, then upstream's own script, on the same node, with the same binaries (Kubernetes ${n.kubernetes ?? '?'}, etcd ${n.etcd ?? '?'}), ` +
      `Debian's containerd ${n.containerd ?? '?'} and runc ${n.runc ?? '?'} with Debian's CNI plugins, and the same locally built images (${n.images.map(code).join(', ')}). ` +
      `Both ran with \`KUBE_PROXY_MODE=ipvs\`. The script ran unmodified from the Go module cache, with cfssl ${result.cfssl} built by \`go install\` (it downloads cfssl otherwise) and its own defaults for everything else.`,
    '',
    'How each number was taken, the same way for both (hack/lab-local/anchor-guest.sh):',
    "- *start to node Ready*: from starting the command to the `lastTransitionTime` of the node's Ready condition, as the kubelet wrote it (nothing polls the cluster meanwhile);",
    "- *start to \"cluster usable\"*: until `local-up up --detach` returned, or until the script printed \"Local Kubernetes cluster is running\" (it then stays in the foreground);",
    "- *left*: after the stop and a wait for the component processes, the kernel's own tools: `/proc/net/ip_vs` and `ipvsadm -Sn`, `ipset list -n`, `iptables-save` and `ip6tables-save` of both backends (nft and legacy; the kubelet's own chains are listed apart), `ip -br addr show kube-ipvs0`, `pgrep` (hack/lab-local/node.sh, shared with `npm run e2e:lab`).",
    'Between the two runs whatever the first left was recorded, then removed, so the script started on the same clean node.',
    '',
    '| | kube-local-up (local provider) | hack/local-up-cluster.sh |',
    '|---|---|---|',
    ...rows.map(([what, a, b]) => `| ${what} | ${a} | ${b} |`),
    '',
    '## What the run shows',
    '',
    `- Start-up: ${sentenceOnTime(ours, upstream)}`,
    `- Proof: \`local-up up\` returns only after CoreDNS is available, the API server's and DNS's virtual servers are in the kernel, kube-proxy answered \`/proxyMode\` with the configured mode, and the whole IPVS table matched every Service port (the same check as \`local-up assert\`); any of these failing fails \`up\` (src/steps/up.ts, src/providers/local/ready.ts). The script waits for the node and for CoreDNS but never asks kube-proxy anything (hack/local-up-cluster.sh at ${result.upstreamModule.replace(/^.*@/, '')}: \`start_kubeproxy\` starts it and moves on); in this run its kube-proxy answered ${code(upstream.proxyMode ?? '?')} and our assert on its table said: ${assertCell(upstream)}.`,
    `- Stopping: ${sentenceOnLeftovers(ours, '`local-up down`')} ${sentenceOnLeftovers(upstream, 'Ctrl-C on the script')}`,
  ];
  if (upstream.leftovers !== null && upstream.leftovers.ipvsTable.length > 0) {
    lines.push('', '## The IPVS table the script left behind (`ipvsadm -Sn` after Ctrl-C)', '', ...fence(upstream.leftovers.ipvsTable));
  }
  if (upstream.leftovers !== null && (upstream.leftovers.ipsets.length > 0 || upstream.leftovers.chains.length > 0)) {
    lines.push('', '## ipsets and chains the script left behind', '');
    if (upstream.leftovers.ipsets.length > 0) lines.push(`- ipsets: ${upstream.leftovers.ipsets.map(code).join(', ')}`);
    for (const c of upstream.leftovers.chains) lines.push(`- ${code(c.tool)}: ${c.names.map(code).join(', ')}`);
  }
  for (const side of [ours, upstream]) {
    if (side.assert !== null && side.assert.findings.length > 0) {
      lines.push('', `## What assert found in the ${side.side === 'ours' ? "local provider's" : "script's"} table`, '', ...side.assert.findings.map((f) => `- ${f}`));
    }
  }
  lines.push(
    '',
    '## Regenerating',
    '',
    '`npm run compare:anchor` (about 30 minutes under emulation) boots the lab VM, runs both sides and writes the JSON and this document;',
    '`node hack/gen-anchor-doc.mjs` renders the document again from the JSON (test/anchor-record.test.ts fails when they disagree).',
    '',
  );
  return lines.join('\n');
}
