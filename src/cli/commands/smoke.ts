// `local-up smoke`: the quick proof after `up` that Service networking works
// in the chosen proxy mode (src/smoke/run.ts does the work).
import { DEFAULT_NODE_POD_IMAGE, NODE_POD_NAMESPACE } from '../../kube/node-pod-defaults.js';
import { AFFINITY_TIMEOUT_SECONDS, NAMESPACE_PREFIX, PART_OF_LABEL, PART_OF_VALUE } from '../../smoke/manifests.js';
import { flagOption, settingsFor, stringOption } from '../args.js';
import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  usage: '[--kubeconfig FILE] [--junit FILE] [--json] [--keep] [--pod-image IMAGE]',
  description: `Proves Service networking works in the cluster's kube-proxy mode. In a namespace of its own
(${NAMESPACE_PREFIX}<random>, labelled ${PART_OF_LABEL}=${PART_OF_VALUE} so leftovers are findable) it runs
3 backends and a client (SMOKE_IMAGE, agnhost netexec: each answers with its pod name over HTTP
and UDP) and the Services clusterip, affinity (ClientIP, ${AFFINITY_TIMEOUT_SECONDS}s), nodeport, udp and headless, then
checks, each as a named case with its evidence:
  - kube-proxy's /proxyMode on every node equals KUBE_PROXY_MODE;
  - ipvs mode: every smoke Service's virtual servers and kube-ipvs0 address on every node, as
    \`assert\` computes them (waiting up to SMOKE_SYNC_TIMEOUT for kube-proxy), and no virtual
    server for the headless Service;
  - SMOKE_REQUESTS requests to the ClusterIP from the client (a new connection each) reach the
    backends as the scheduler implies: rr/wrr an equal share each within max(1, ceil(n/4k));
    sh/dh/lblc/lblcr one backend; lc/wlc/mh/twos (and iptables/nftables modes) every backend;
    sed/nq/fo/ovf only "answered by a backend";
  - the affinity Service keeps the client on one backend, and (ipvs) every node shows it
    persistent ${AFFINITY_TIMEOUT_SECONDS}s (/proc/net/ip_vs jiffies read with the kernel's HZ);
  - the NodePort answers on every node's address; the UDP Service answers;
  - clusterip.<namespace>.svc resolves to its ClusterIP through kube-dns and answers;
  - after scaling the backends to 1, the removed ones leave IPVS or drain at weight 0 on every
    node within SMOKE_SYNC_TIMEOUT (ipvs), and traffic reaches the remaining one.
Checks that need IPVS are skipped with the reason in other modes.

The cluster: the one \`up\` made (its state file's kubeconfig; nodes through the provider), or any
cluster with --kubeconfig (nodes through a short-lived host-network pod each in ${NODE_POD_NAMESPACE}, as
\`assert --all-nodes\`). The namespace is deleted afterwards, also after a failure or Ctrl-C,
unless --keep.

Exit status: 0 every check passed, 1 a check failed, 2 bad usage, 3 kubectl or the cluster is
missing, 130 interrupted. --json prints {"ok", "namespace", "mode", "scheduler", "nodes",
"cleanup", "cases": [{"group", "name", "status", "message", "evidence", "seconds"}], "counts"};
--junit FILE writes JUnit XML (one testcase per check, evidence in <failure> or <system-out>).`,
  options: {
    kubeconfig: { type: 'string', value: 'FILE', description: "any cluster's kubeconfig (default: the cluster up made, from its state file)" },
    junit: { type: 'string', value: 'FILE', description: 'write the result as JUnit XML to FILE' },
    json: { type: 'boolean', description: 'print the result as JSON' },
    keep: { type: 'boolean', description: 'keep the smoke namespace afterwards (to debug a failure)' },
    'pod-image': { type: 'string', value: 'IMAGE', description: `with --kubeconfig: the helper pods' image (needs cat, ip, wget; default ${DEFAULT_NODE_POD_IMAGE})` },
  },
  settings: true,
  async run(io, commandLine) {
    const { values } = commandLine;
    const resolved = settingsFor(io, commandLine);
    // Loaded here so that `smoke --help` does not load kubectl's adapter and the checks.
    const { runSmoke } = await import('../../smoke/run.js');
    return runSmoke(io, resolved, {
      keep: flagOption(values, 'keep'),
      json: flagOption(values, 'json'),
      junitFile: stringOption(values, 'junit'),
      kubeconfig: stringOption(values, 'kubeconfig'),
      podImage: stringOption(values, 'pod-image') ?? DEFAULT_NODE_POD_IMAGE,
    });
  },
};
