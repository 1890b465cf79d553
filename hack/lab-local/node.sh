# Sourced (never run) inside a lab VM by hack/lab-local/guest.sh (npm run e2e:lab) and
# hack/lab-local/anchor-guest.sh (npm run compare:anchor): the machine a user of a
# single-node cluster has, made from the lab's bare root, and the kernel's own view of
# what a cluster left behind. Needs: W (a work folder), LOCAL_UP (argv array of our CLI).

NODE_IP=${NODE_IP:-192.168.50.10}
CONTAINERD_SOCK=/run/containerd/containerd.sock
# Seconds for containerd's socket (the emulated VM is slow).
CONTAINERD_TIMEOUT=${E2E_CONTAINERD_TIMEOUT:-120}

# node_setup: a node address on a dummy interface with a default route (the kubelet picks
# its node IP from it), the kernel modules and sysctls a node needs, and tmpfs for the state
# the runtime and kubelet write (the root is an overlay; containerd's overlayfs snapshotter
# cannot use an overlay as its upper layer).
node_setup() {
  mkdir -p "$W/logs"
  node_root || return 1
  # The lab's /dev has no /dev/fd (udev makes it on a real machine): bash's process
  # substitution, <(...) and >(...), needs it.
  [ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
  ip link set lo up
  ip link add lab0 type dummy
  ip addr add "$NODE_IP/24" dev lab0
  ip link set lab0 up
  ip route add default dev lab0
  echo "$NODE_IP lab" >>/etc/hosts
  modprobe -a overlay br_netfilter bridge veth ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  local dir
  for dir in /var/lib/containerd /var/lib/kubelet /var/log/pods /var/lib/cni /etc/cni/net.d; do
    mkdir -p "$dir"
    mount -t tmpfs -o mode=0755 tmpfs "$dir"
  done
}

# node_root: make the lab's root the mount namespace's root, as on a booted machine. The lab runs
# this script chrooted into an overlay mounted at /newroot of its initramfs (src/lab/guest.ts), so
# setns(2) into a mount namespace, which lands on the namespace's root mount and what covers it,
# lands in the initramfs: `runc exec` (every `kubectl exec`) then ran in busybox's root, found no
# curl and no /etc/resolv.conf (seen in the lab). From PID 1's view (the initramfs), move the overlay
# onto "/" (what an initramfs's switch_root does), after an rbind of it at /lab-root for the
# kernel's module loader, which runs in the initramfs's root.
node_root() {
  nsenter -t 1 -m -r /bin/busybox sh -c 'mkdir -p /lab-root && mount -o rbind /newroot /lab-root &&
    printf "#!/bin/busybox sh\nexec /bin/busybox chroot /lab-root /sbin/modprobe \"\$@\"\n" >/sbin/lab-modprobe &&
    cd /newroot && mount -o move . /' || { echo "node.sh: could not make the overlay the root mount" >&2; return 1; }
}

# containerd_start: Debian's package, CRI on; the sandbox image is the pause image `tools
# images` built (kubeadm's pin); cgroupfs, as the kubelet's default (no systemd here).
# Prints "@@e2e containerd 0 SECONDS" when its socket answers; returns 1 when it does not.
containerd_pid=
containerd_start() {
  local pause_image started
  pause_image=$("${LOCAL_UP[@]}" tools images --only pause 2>/dev/null | cut -f1)
  [ -n "$pause_image" ] || { echo "node.sh: no pause image archive: run local-up tools images on the host first" >&2; return 3; }
  mkdir -p /etc/containerd
  cat >/etc/containerd/config.toml <<EOF
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "${CNI_BIN_DIR:-/usr/lib/cni}"
  conf_dir = "/etc/cni/net.d"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
EOF
  echo "node.sh: $(date +%T) starting containerd $(containerd --version | awk '{print $3}'), runc $(runc --version | awk 'NR==1{print $3}')" >&2
  containerd --config /etc/containerd/config.toml >>"$W/containerd.log" 2>&1 &
  containerd_pid=$!
  started=$(date +%s)
  until ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; do
    kill -0 "$containerd_pid" 2>/dev/null || { echo "node.sh: containerd exited" >&2; return 1; }
    [ $(( $(date +%s) - started )) -lt "$CONTAINERD_TIMEOUT" ] || { echo "node.sh: containerd not up after ${CONTAINERD_TIMEOUT}s" >&2; return 1; }
    sleep 1
  done
  echo "@@e2e containerd 0 $(( $(date +%s) - started ))"
}

containerd_stop() {
  [ -n "$containerd_pid" ] || return 0
  kill "$containerd_pid" 2>/dev/null
  wait "$containerd_pid" 2>/dev/null
  containerd_pid=
}

# The cluster's own processes, as pgrep -x sees them (comm: 15 characters at most).
CLUSTER_PROCESSES="etcd kube-apiserver kube-controller kube-scheduler kubelet kube-proxy"

# kernel_leftovers: what a stopped cluster must not leave, read with the kernel's own tools:
# processes, IPVS virtual servers (/proc/net/ip_vs, ipvsadm), ipsets, kube-proxy's iptables
# chains (both backends, both families, every table), kube-ipvs0. One header line per kind
# ("process NAME: PIDS", "ipvs (/proc/net/ip_vs):" and "ipvs (ipvsadm -Sn):" each followed by
# the table, "ipset: NAMES", "<save tool> chains: NAMES", "link kube-ipvs0: <ip -br addr>");
# returns 1 when anything is left. The kubelet's own chains (KUBE-KUBELET-CANARY, KUBE-FIREWALL,
# KUBE-IPTABLES-HINT: made by the kubelet, pkg/kubelet/kubelet_network_linux.go, and never
# removed by it) are listed ("<save tool>: the kubelet's own chains ..."), not failed.
kernel_leftovers() {
  local left=0 name save chains kubelet_chains
  # pgrep -x matches comm, at most 15 characters: kube-controller-manager shows as kube-controller,
  # containerd-shim-runc-v2 as containerd-shim (a longer name never matches).
  for name in $CLUSTER_PROCESSES coredns agnhost pause containerd-shim; do
    if pgrep -x "$name" >/dev/null; then echo "process $name: $(pgrep -x "$name" | tr '\n' ' ')"; left=1; fi
  done
  if grep -qE '^(TCP|UDP|SCTP|FWM)' /proc/net/ip_vs 2>/dev/null; then echo "ipvs (/proc/net/ip_vs):"; grep -E '^(TCP|UDP|SCTP|FWM)' /proc/net/ip_vs; left=1; fi
  if [ -n "$(ipvsadm -Sn 2>/dev/null)" ]; then echo "ipvs (ipvsadm -Sn):"; ipvsadm -Sn; left=1; fi
  if [ -n "$(ipset list -n 2>/dev/null)" ]; then echo "ipset: $(ipset list -n | tr '\n' ' ')"; left=1; fi
  for save in iptables-nft-save iptables-legacy-save ip6tables-nft-save ip6tables-legacy-save; do
    chains=$($save 2>/dev/null | grep -oE '^:KUBE-[A-Z0-9-]+' | grep -vE '^:KUBE-(KUBELET-CANARY|FIREWALL|IPTABLES-HINT)$' | sort -u | tr '\n' ' ')
    kubelet_chains=$($save 2>/dev/null | grep -oE '^:KUBE-(KUBELET-CANARY|FIREWALL|IPTABLES-HINT)$' | sort -u | tr '\n' ' ')
    if [ -n "$chains" ]; then echo "$save chains: $chains"; left=1; fi
    if [ -n "$kubelet_chains" ]; then echo "$save: the kubelet's own chains (not kube-proxy's): $kubelet_chains"; fi
  done
  if ip link show kube-ipvs0 >/dev/null 2>&1; then echo "link kube-ipvs0: $(ip -br addr show kube-ipvs0)"; left=1; fi
  return "$left"
}
