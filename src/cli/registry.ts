// Every command, loaded lazily so that `local-up --help` and short commands do
// not pay for modules they never use.
import type { CommandEntry } from './command.js';

export const COMMANDS: readonly CommandEntry[] = [
  { words: ['doctor'], summary: 'check whether this machine can run kube-proxy in IPVS mode', load: () => import('./commands/doctor.js') },
  { words: ['modules', 'load'], summary: 'load the kernel modules IPVS mode needs (root or sudo)', load: () => import('./commands/modules-load.js') },
  { words: ['modules', 'check'], summary: 'show the state of each required kernel module', load: () => import('./commands/modules-check.js') },
  { words: ['ipvs', 'parse'], summary: 'read an IPVS table (ipvsadm -Ln, ipvsadm -Sn or /proc/net/ip_vs) and print it normalised or as JSON', load: () => import('./commands/ipvs-parse.js') },
  { words: ['lab'], summary: 'run a command as root in a throwaway VM with a real IPVS kernel (qemu)', load: () => import('./commands/lab.js') },
  { words: ['lab', 'prepare'], summary: "fetch and unpack Debian's kernel for the lab (once; cached)", load: () => import('./commands/lab-prepare.js') },
  { words: ['ipvs', 'expect'], summary: 'print the IPVS table kube-proxy should program on a node (from Services + EndpointSlices)', load: () => import('./commands/ipvs-expect.js') },
  { words: ['assert'], summary: "prove each node's IPVS table matches its Services and EndpointSlices (live, or offline from files)", load: () => import('./commands/assert.js') },
  { words: ['compare-modes'], summary: 'switch kube-proxy off IPVS on a cluster up made and run smoke before and after: both columns side by side, each difference matched to the migrate-check rule that predicted it', load: () => import('./commands/compare-modes.js') },
  { words: ['migrate-check'], summary: 'list what behaves differently when kube-proxy leaves IPVS for nftables or iptables, per Service and node, each with its kube-proxy source', load: () => import('./commands/migrate-check.js') },
  { words: ['config', 'show'], summary: 'print every setting, its value and where it came from', load: () => import('./commands/config-show.js') },
  { words: ['config', 'kind'], summary: 'print a kind Cluster config running kube-proxy in the chosen mode (IPVS tuning, pinned node image)', load: () => import('./commands/config-kind.js') },
  { words: ['config', 'kubeadm'], summary: 'print kubeadm init documents for the Kubernetes version, with kube-proxy in the chosen mode', load: () => import('./commands/config-kubeadm.js') },
  { words: ['config', 'kube-proxy'], summary: "print kube-proxy's configuration (or --flags) as that Kubernetes version reads it", load: () => import('./commands/config-kube-proxy.js') },
  { words: ['up'], summary: 'bring up a cluster with kube-proxy in KUBE_PROXY_MODE and prove it (--dry-run: print the plan only)', load: () => import('./commands/up.js') },
  { words: ['down'], summary: 'delete the cluster up created (idempotent)', load: () => import('./commands/down.js') },
  { words: ['status'], summary: "show the cluster, each node's kube-proxy mode and a fresh IPVS assertion summary", load: () => import('./commands/status.js') },
  { words: ['smoke'], summary: 'prove Services work in the proxy mode: traffic spread, affinity, NodePort, UDP, DNS, scale-down, IPVS per node (JUnit)', load: () => import('./commands/smoke.js') },
  { words: ['logs'], summary: 'collect kind logs, IPVS tables, kube-ipvs0 addresses, ipsets and kube-proxy logs into LOG_DIR', load: () => import('./commands/logs.js') },
  { words: ['tools', 'install'], summary: 'install real Kubernetes, etcd or kind binaries into TOOLS_DIR (official archive, checksum verified, or --from-source with Go)', load: () => import('./commands/tools-install.js') },
  { words: ['tools', 'images'], summary: 'build the pause, CoreDNS and agnhost images here (no registry) into OCI archives, and import them into containerd', load: () => import('./commands/tools-images.js') },
  { words: ['tools', 'list'], summary: 'list the tool sets installed in TOOLS_DIR and the kind up would use', load: () => import('./commands/tools-list.js') },
];
