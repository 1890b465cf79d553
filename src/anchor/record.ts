// Reads what hack/lab-local/anchor-guest.sh printed in the lab VM ("@@anchor SIDE KEY VALUE"
// facts and "@@begin SIDE NAME" ... "@@end SIDE NAME" blocks) into one record per side:
// our local provider and upstream's hack/local-up-cluster.sh, measured the same way. Pure.

export type SideName = 'ours' | 'upstream';
export const SIDE_NAMES: readonly SideName[] = ['ours', 'upstream'];

/** What the kernel's own tools showed after a side was stopped (hack/lab-local/node.sh's leftovers). */
export interface Leftovers {
  /** Nothing of kube-proxy's or the cluster's processes left. */
  readonly clean: boolean;
  readonly processes: readonly { readonly name: string; readonly count: number }[];
  readonly virtualServers: number;
  /** `ipvsadm -Sn` lines of what is left (empty when none). */
  readonly ipvsTable: readonly string[];
  readonly ipsets: readonly string[];
  /** kube-proxy's chains (any KUBE-* chain but the kubelet's), per save tool. */
  readonly chains: readonly { readonly tool: string; readonly names: readonly string[] }[];
  /** The kubelet's own chains, which it never removes: listed, not leftovers. */
  readonly kubeletChains: readonly { readonly tool: string; readonly names: readonly string[] }[];
  /** kube-ipvs0's addresses when the interface is left, else null. */
  readonly kubeIpvs0: readonly string[] | null;
}

export interface AssertOutcome {
  readonly exitCode: number | null;
  readonly ok: boolean | null;
  readonly failures: number | null;
  readonly warnings: number | null;
  readonly expectedVirtualServers: number | null;
  readonly actualVirtualServers: number | null;
  readonly matchedVirtualServers: number | null;
  readonly servicePorts: number | null;
  /** "FAIL|WARN <service label>: <message>", as `assert` prints them. */
  readonly findings: readonly string[];
  /** assert's stderr when it printed no JSON (it could not read the cluster or the node). */
  readonly error: string | null;
}

export interface SideRecord {
  readonly side: SideName;
  readonly nodeName: string | null;
  /** "0", or why the command did not reach "running": a non-zero exit code, "timeout", "exited". */
  readonly commandExit: string | null;
  /** From the start of the command until it said the cluster is usable. */
  readonly commandSeconds: number | null;
  /** From the start of the command until the node's Ready condition turned True. */
  readonly readySeconds: number | null;
  /** How long the side was given to start (ours: READY_TIMEOUT; upstream: how long it was waited for). */
  readonly readyBudget: number | null;
  /** upstream only: the WAIT_FOR_URL_API_SERVER it ran with (null: its default). */
  readonly apiServerTries: number | null;
  /** What kube-proxy's /proxyMode answered ("none" when it did not). */
  readonly proxyMode: string | null;
  readonly virtualServers: number | null;
  readonly assert: AssertOutcome | null;
  readonly stopExit: string | null;
  readonly stopSeconds: number | null;
  /** Seconds from the stop until no component process was left; null: they were still there at the end of the wait. */
  readonly componentsGoneSeconds: number | null;
  readonly leftovers: Leftovers | null;
  /** Not kube-proxy's state: the CNI bridge, CNI config files and containers left in containerd. */
  readonly cni0: boolean | null;
  readonly cniConfig: readonly string[];
  readonly containers: number | null;
  /** The tail of what the command printed (upstream: its output; ours: `up`'s progress). */
  readonly commandOutput: readonly string[];
  readonly stopOutput: readonly string[];
}

export interface AnchorNode {
  readonly kubernetes: string | null;
  readonly etcd: string | null;
  readonly containerd: string | null;
  readonly runc: string | null;
  readonly kernel: string | null;
  readonly cpus: number | null;
  readonly memoryMib: number | null;
  readonly images: readonly string[];
}

export interface AnchorRecord {
  readonly node: AnchorNode;
  readonly sides: Readonly<Partial<Record<SideName, SideRecord>>>;
}

const FACT = /^@@anchor (\S+) (\S+) ?(.*)$/;
const BEGIN = /^@@begin (\S+) (\S+)$/;
const END = /^@@end (\S+) (\S+)$/;

function numberOrNull(text: string | undefined): number | null {
  if (text === undefined || !/^-?\d+$/.test(text.trim())) return null;
  return Number(text.trim());
}

const words = (text: string | undefined): string[] => (text ?? '').split(/\s+/).filter((w) => w !== '');

/** node.sh's kernel_leftovers lines into their kinds. */
export function readLeftovers(lines: readonly string[], exitCode: number | null): Leftovers {
  const processes: { name: string; count: number }[] = [];
  const chains: { tool: string; names: string[] }[] = [];
  const kubeletChains: { tool: string; names: string[] }[] = [];
  const procTable: string[] = [];
  const ipvsTable: string[] = [];
  let section: 'proc' | 'save' | null = null;
  let ipsets: string[] = [];
  let kubeIpvs0: string[] | null = null;
  for (const line of lines) {
    if (line === 'ipvs (/proc/net/ip_vs):' || line === 'ipvs (ipvsadm -Sn):') {
      section = line.includes('proc') ? 'proc' : 'save';
      continue;
    }
    const process = /^process (\S+): (.*)$/.exec(line);
    const ipset = /^ipset: (.*)$/.exec(line);
    const chain = /^(\S+) chains: (.*)$/.exec(line);
    const kubelet = /^(\S+): the kubelet's own chains \(not kube-proxy's\): (.*)$/.exec(line);
    // `ip -br addr show kube-ipvs0`: name, state, then the addresses.
    const link = /^link kube-ipvs0:?(.*)$/.exec(line);
    if (process === null && ipset === null && chain === null && kubelet === null && link === null) {
      if (line.trim() !== '') (section === 'proc' ? procTable : section === 'save' ? ipvsTable : []).push(line);
      continue;
    }
    section = null;
    if (process !== null) processes.push({ name: process[1] ?? '', count: words(process[2]).length });
    if (ipset !== null) ipsets = words(ipset[1]);
    if (chain !== null) chains.push({ tool: chain[1] ?? '', names: words(chain[2]) });
    if (kubelet !== null) kubeletChains.push({ tool: kubelet[1] ?? '', names: words(kubelet[2]) });
    if (link !== null) kubeIpvs0 = words(link[1]).filter((w) => w.includes('/'));
  }
  const virtualServers = procTable.filter((l) => /^(TCP|UDP|SCTP|FWM)\b/.test(l)).length;
  const clean = processes.length === 0 && virtualServers === 0 && ipvsTable.length === 0 && ipsets.length === 0 && chains.length === 0 && kubeIpvs0 === null;
  if (exitCode !== null && (exitCode === 0) !== clean) throw new Error(`the leftover check exited ${exitCode} but its lines say ${clean ? 'nothing' : 'something'} is left`);
  return { clean, processes, virtualServers, ipvsTable, ipsets, chains, kubeletChains, kubeIpvs0 };
}

interface LiveAssertJson {
  readonly ok?: unknown;
  readonly nodes?: readonly {
    readonly ok?: unknown;
    readonly failures?: unknown;
    readonly warnings?: unknown;
    readonly counts?: { readonly expectedVirtualServers?: unknown; readonly actualVirtualServers?: unknown; readonly matchedVirtualServers?: unknown };
    readonly services?: readonly { readonly label?: unknown; readonly service?: unknown; readonly findings?: readonly { readonly severity?: unknown; readonly message?: unknown }[] }[];
  }[];
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** `local-up assert --host local --json` (live: {"ok", "nodes": [...]}) and its exit code. */
export function readAssertOutcome(jsonText: string, exitCode: number | null, stderr: readonly string[]): AssertOutcome {
  const empty: AssertOutcome = { exitCode, ok: null, failures: null, warnings: null, expectedVirtualServers: null, actualVirtualServers: null, matchedVirtualServers: null, servicePorts: null, findings: [], error: stderr.join('\n').trim() || 'no output' };
  if (jsonText.trim() === '') return empty;
  const parsed = JSON.parse(jsonText) as LiveAssertJson;
  const node = parsed.nodes?.[0];
  if (node === undefined) return empty;
  const services = node.services ?? [];
  const findings = services.flatMap((s) => (s.findings ?? []).map((f) => `${f.severity === 'failure' ? 'FAIL' : 'WARN'} ${String(s.label)}: ${String(f.message)}`));
  return {
    exitCode,
    ok: typeof parsed.ok === 'boolean' ? parsed.ok : null,
    failures: num(node.failures),
    warnings: num(node.warnings),
    expectedVirtualServers: num(node.counts?.expectedVirtualServers),
    actualVirtualServers: num(node.counts?.actualVirtualServers),
    matchedVirtualServers: num(node.counts?.matchedVirtualServers),
    servicePorts: services.filter((s) => s.service !== null).length,
    findings,
    error: null,
  };
}

/** The guest's stdout into one record per side that ran. Unknown lines are ignored (steps print their own output). */
export function readAnchorOutput(stdout: string): AnchorRecord {
  const facts = new Map<string, string>();
  const blocks = new Map<string, string[]>();
  let open: { key: string; lines: string[] } | null = null;
  for (const line of stdout.split('\n')) {
    if (open !== null) {
      const end = END.exec(line);
      if (end !== null && `${end[1]} ${end[2]}` === open.key) {
        blocks.set(open.key, open.lines);
        open = null;
      } else {
        open.lines.push(line);
      }
      continue;
    }
    const begin = BEGIN.exec(line);
    if (begin !== null) {
      open = { key: `${begin[1]} ${begin[2]}`, lines: [] };
      continue;
    }
    const fact = FACT.exec(line);
    if (fact !== null) facts.set(`${fact[1]} ${fact[2]}`, (fact[3] ?? '').trim());
  }
  if (open !== null) throw new Error(`the guest's output ends inside the block "${open.key}"`);
  const f = (side: string, key: string) => facts.get(`${side} ${key}`);
  const b = (side: string, key: string) => blocks.get(`${side} ${key}`) ?? [];
  const sides: Partial<Record<SideName, SideRecord>> = {};
  for (const side of SIDE_NAMES) {
    if (f(side, 'started') === undefined) continue;
    const assertExit = f(side, 'assert_exit');
    const leftoversExit = f(side, 'leftovers_exit');
    const gone = f(side, 'components_gone_seconds');
    sides[side] = {
      side,
      nodeName: f(side, 'node_name') ?? null,
      commandExit: f(side, 'command_exit') ?? null,
      commandSeconds: numberOrNull(f(side, 'command_seconds')),
      readySeconds: numberOrNull(f(side, 'ready_seconds')),
      readyBudget: numberOrNull(f(side, 'ready_budget')),
      apiServerTries: numberOrNull(f(side, 'wait_for_url_api_server')),
      proxyMode: f(side, 'proxy_mode') ?? null,
      virtualServers: numberOrNull(f(side, 'virtual_servers')),
      assert: assertExit === undefined ? null : readAssertOutcome(b(side, 'assert_json').join('\n'), numberOrNull(assertExit), b(side, 'assert_stderr')),
      stopExit: f(side, 'stop_exit') ?? null,
      stopSeconds: numberOrNull(f(side, 'stop_seconds')),
      componentsGoneSeconds: gone === undefined || gone === 'never' ? null : numberOrNull(gone),
      leftovers: leftoversExit === undefined ? null : readLeftovers(b(side, 'leftovers'), numberOrNull(leftoversExit)),
      cni0: f(side, 'cni0') === undefined ? null : f(side, 'cni0') === 'present',
      cniConfig: words(f(side, 'cni_config')),
      containers: numberOrNull(f(side, 'sandboxes')),
      commandOutput: b(side, side === 'ours' ? 'command_stderr' : 'command_output'),
      stopOutput: b(side, side === 'ours' ? 'stop_stderr' : 'stop_output'),
    };
  }
  return {
    node: {
      kubernetes: f('node', 'kubernetes') ?? null,
      etcd: f('node', 'etcd') ?? null,
      containerd: f('node', 'containerd') ?? null,
      runc: f('node', 'runc') ?? null,
      kernel: f('node', 'kernel') ?? null,
      cpus: numberOrNull(f('node', 'cpus')),
      memoryMib: numberOrNull(f('node', 'memory_mib')),
      images: words(f('node', 'images')),
    },
    sides,
  };
}
