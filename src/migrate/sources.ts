// Where each migration fact comes from: kube-proxy's own source (the release
// kube-local-up builds, 1.34.11, read in the Go module cache), its documentation and
// KEP-3866. Findings cite one of these, so a reader can check the claim.

const KP = 'kubernetes/kubernetes@v1.34.11';

export const SOURCES = {
  nftablesRandom: `${KP} pkg/proxy/nftables/proxier.go: each Service chain picks an endpoint with "numgen random mod N vmap"`,
  iptablesRandom: `${KP} pkg/proxy/iptables/proxier.go: each Service chain picks an endpoint with "-m statistic --mode random --probability"`,
  ipvsScheduler: `${KP} pkg/proxy/ipvs/proxier.go: every virtual server gets ipvs.scheduler; with "mh" it also sets the source-hash flag (FlagSourceHash)`,
  ipvsPersistence: `${KP} pkg/proxy/ipvs/proxier.go: ClientIP affinity is FlagPersistent + timeout on each virtual server (ClusterIP, each NodePort address, each external IP separately); Linux net/netfilter/ipvs/ip_vs_conn.c keeps a persistence template while connections it controls are open`,
  nftablesAffinity: `${KP} pkg/proxy/nftables/proxier.go: one "affinity-*" set per endpoint of the Service port (whatever address was used), "update @affinity-* { saddr }" on each new connection, element timeout = timeoutSeconds`,
  iptablesAffinity: `${KP} pkg/proxy/iptables/proxier.go: "-m recent --set" per endpoint chain of the Service port and "--rcheck --seconds timeoutSeconds --reap" (the time since the last new connection)`,
  ipvsOnlyConfig: `${KP} pkg/proxy/apis/config/types.go: KubeProxyIPVSConfiguration (syncPeriod, minSyncPeriod, scheduler, excludeCIDRs, strictARP, tcpTimeout, tcpFinTimeout, udpTimeout) is read only by the ipvs proxier; nftables and iptables have their own syncPeriod/minSyncPeriod`,
  strictArp: `${KP} pkg/proxy/ipvs/proxier.go: strictARP sets net/ipv4/conf/all/arp_ignore=1 and arp_announce=2; no other mode sets them or puts them back`,
  kubeIpvs0Bind: `${KP} pkg/proxy/ipvs/proxier.go: ClusterIPs, external IPs and load-balancer IPs are bound to the dummy device kube-ipvs0, so the node owns them (and, with arp_ignore=0, answers ARP for them on every interface)`,
  ipvsFilter: `${KP} pkg/proxy/ipvs/proxier.go: filter chain KUBE-IPVS-FILTER (jumped to from INPUT) rejects new connections to kube-ipvs0 addresses that are no Service address:port (kubernetes/kubernetes PR #108460, issue #72236; present in v1.30.0 and v1.34.11)`,
  nftablesClusterIpCheck: `${KP} pkg/proxy/nftables/proxier.go: chain cluster-ips-check (from filter output and forward) rejects traffic to a ClusterIP on a port that is no Service port, and drops traffic to unallocated addresses of the Service CIDR`,
  nftablesNodePortDefault: `${KP} cmd/kube-proxy/app/server_linux.go platformApplyDefaults: in nftables mode an empty nodePortAddresses becomes "primary" (the Node object's InternalIPs, cmd/kube-proxy/app/server.go)`,
  ipvsNodePortAll: `${KP} pkg/proxy/ipvs/proxier.go + netlink_linux.go: with nodePortAddresses unset, NodePorts get a virtual server on every local address except kube-ipvs0's, loopback and IPv6 link-local (isValidForSet)`,
  iptablesNodePortAll: `${KP} pkg/proxy/apis/config/types.go: with nodePortAddresses unset, iptables mode accepts NodePort connections on all local IPs`,
  nftablesNoLocalhost: `${KP} pkg/proxy/nftables/proxier.go: loopback addresses are never added to nodeport-ips ("localhost NodePorts are not supported"); KEP-3866 lists this as a difference from iptables`,
  ipvsNoLocalhost: `${KP} pkg/proxy/ipvs/proxier.go: NodePort virtual servers are never made on loopback addresses`,
  iptablesLocalhost: `${KP} pkg/proxy/iptables/proxier.go: iptables.localhostNodePorts (default true) serves NodePorts on 127.0.0.1 when nodePortAddresses allows loopback, and sets net.ipv4.conf.all.route_localnet=1`,
  nftablesKernel: `${KP} pkg/proxy/nftables/proxier.go getNFTablesInterface + pkg/util/kernel/constants.go: nftables mode refuses kernels older than 5.13 (NFTablesKubeProxyKernelVersion) unless KUBE_PROXY_NFTABLES_SKIP_KERNEL_VERSION_CHECK is set`,
  nftablesNft: 'sigs.k8s.io/knftables@v0.0.21 nftables.go New (used by kube-proxy 1.34.11): kube-proxy\'s nft must be v1.0.1 or later; pkg/proxy/nftables/proxier.go: an older nft on the host can break once kube-proxy\'s rules exist (issue #122743)',
  nftablesGate: `${KP} pkg/features/kube_features.go NFTablesProxyMode: alpha (off) in 1.29, beta (on) in 1.31, GA in 1.33`,
  nftablesCleansIpvs: `${KP} cmd/kube-proxy/app/server_linux.go platformCleanup: a kube-proxy starting in nftables mode runs ipvs.CleanupLeftovers, which flushes the WHOLE IPVS table (excludeCIDRs are not honoured), deletes kube-ipvs0, IPVS-mode chains and ipsets; pkg/proxy/ipvs/proxier.go CleanupLeftovers skips all of it when "modprobe -va ip_vs" fails, and destroys only the IPv4 ipset names (ipsetInfo), never the IPv6 proxier's KUBE-6-* sets (ipset.go NewIPSet; seen in the lab, test/lab-migrate.test.ts)`,
  iptablesKeepsIpvs: `${KP} cmd/kube-proxy/app/server_linux.go platformCleanup: iptables mode is "iptables-based" like ipvs, so a kube-proxy starting in iptables mode does not clean up IPVS state; "kube-proxy --cleanup" removes every mode's rules`,
  ipvsCleanup: `${KP} pkg/proxy/ipvs/proxier.go cleanupLeftovers: IPVS flush, delete kube-ipvs0, unlink and delete the IPVS chains (iptablesCleanupChains), destroy the IPv4 ipsets (ipsetInfo; the IPv6 KUBE-6-* sets stay, ipset.go NewIPSet). In the lab, \`kube-proxy --cleanup\` after IPVS then iptables mode exited 1 (iptables-restore: KUBE-MARK-MASQ busy) yet removed the IPv4 IPVS state`,
} as const;

export type SourceId = keyof typeof SOURCES;
