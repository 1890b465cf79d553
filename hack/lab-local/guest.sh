#!/usr/bin/env bash
# Runs inside ONE lab VM (scripts/e2e-lab.mjs and test/lab-local-cluster.test.ts start it):
# the machine a user of the local provider has, made from the lab's bare root: a node
# address on a dummy interface with a default route, the kernel modules and sysctls a
# node needs, Debian's containerd (CRI v1, which kubelet 1.34 speaks) with runc and
# Debian's CNI plugins, state on tmpfs (overlayfs cannot stack on the lab's overlay
# root). Then, as a user would: `local-up tools images --import` (archives built on the
# host beforehand), `local-up up --detach` with KUBE_PROXY_MODE=ipvs, `assert --host
# local`, `smoke`, with E2E_COMPARE=true `compare-modes --to nftables` (smoke before and
# after switching kube-proxy off IPVS, side by side), `down`, and a check that nothing of
# the cluster is left.
#
# usage: guest.sh REPO_DIR
# Output: "@@e2e <name> <exit code> <seconds>" lines on stdout after each step, and each
# step's own stdout; progress on stderr. Exit code: 0 when every step passed.
set -uo pipefail

REPO=$1
LOCAL_UP=(node "$REPO/bin/local-up.js")
NODE_IP=192.168.50.10
W=/tmp/kube-local-up-e2e-lab
CONTAINERD_SOCK=/run/containerd/containerd.sock
# Seconds: containerd's socket, each step (the emulated VM is slow).
CONTAINERD_TIMEOUT=${E2E_CONTAINERD_TIMEOUT:-120}

log() { echo "e2e-lab: $(date +%T) $*" >&2; }
failed=0
# step NAME COMMAND...: runs it, prints "@@e2e NAME RC SECONDS", remembers a failure.
step() {
  local name=$1; shift
  local started rc
  started=$(date +%s)
  log "step $name: $*"
  "$@"
  rc=$?
  echo "@@e2e $name $rc $(( $(date +%s) - started ))"
  [ "$rc" -eq 0 ] || failed=1
  return "$rc"
}

show_logs() {
  for f in "$W"/logs/*.log "$W/containerd.log"; do
    [ -f "$f" ] || continue
    echo "---- last lines of $f" >&2
    tail -n 30 "$f" >&2
  done
}

containerd_pid=
stop_containerd() {
  [ -n "$containerd_pid" ] || return 0
  kill "$containerd_pid" 2>/dev/null
  wait "$containerd_pid" 2>/dev/null
  containerd_pid=
}
trap 'stop_containerd' EXIT

# ---- the node: an address and a default route (the kubelet picks its node IP from it).
mkdir -p "$W/logs"
# The lab's bare root has no /dev/fd: bash's process substitution needs it.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd || log "no /dev/fd: step output is not time-stamped"
ip link set lo up
ip link add lab0 type dummy
ip addr add "$NODE_IP/24" dev lab0
ip link set lab0 up
ip route add default dev lab0
echo "$NODE_IP lab" >>/etc/hosts
modprobe -a overlay br_netfilter bridge veth ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack
sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1

# ---- state the runtime and kubelet write: tmpfs (the root is an overlay; containerd's
# overlayfs snapshotter cannot use an overlay as its upper layer).
for dir in /var/lib/containerd /var/lib/kubelet /var/log/pods /var/lib/cni /etc/cni/net.d; do
  mkdir -p "$dir"
  mount -t tmpfs -o mode=0755 tmpfs "$dir"
done

# ---- containerd: Debian's package, CRI on; the sandbox image is the pause image
# `tools images` built (kubeadm's pin); cgroupfs, as the kubelet's default (no systemd here).
pause_image=$("${LOCAL_UP[@]}" tools images --only pause 2>/dev/null | cut -f1)
[ -n "$pause_image" ] || { log "no pause image archive: run local-up tools images on the host first"; exit 3; }
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
log "starting containerd $(containerd --version | awk '{print $3}'), runc $(runc --version | awk 'NR==1{print $3}')"
containerd --config /etc/containerd/config.toml >"$W/containerd.log" 2>&1 &
containerd_pid=$!
started=$(date +%s)
until ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; do
  kill -0 "$containerd_pid" 2>/dev/null || { log "containerd exited"; show_logs; exit 1; }
  [ $(( $(date +%s) - started )) -lt "$CONTAINERD_TIMEOUT" ] || { log "containerd not up after ${CONTAINERD_TIMEOUT}s"; show_logs; exit 1; }
  sleep 1
done
echo "@@e2e containerd 0 $(( $(date +%s) - started ))"

export CLUSTER_PROVIDER=local KUBE_PROXY_MODE=ipvs CNI_BIN_DIR="${CNI_BIN_DIR:-/usr/lib/cni}"
export STATE_DIR="$W/state" LOG_DIR="$W/logs" KUBECONFIG_OUT="$W/kubeconfig" KUBECONFIG="$W/kubeconfig"
export HOSTNAME_OVERRIDE="${HOSTNAME_OVERRIDE:-lab}"
# Under emulation (TCG) a component starts in tens of seconds, not one or two.
# One kubectl call can take longer than the default 30 s there too (KUBECTL_TIMEOUT).
export READY_TIMEOUT="${READY_TIMEOUT:-900}" SMOKE_READY_TIMEOUT="${SMOKE_READY_TIMEOUT:-900}" KUBECTL_TIMEOUT="${KUBECTL_TIMEOUT:-180}"
export SMOKE_SYNC_TIMEOUT="${SMOKE_SYNC_TIMEOUT:-180}"

# stamped: each line of stderr with the guest's clock, so a step's inner times can be read.
stamp() { while IFS= read -r line; do printf '%s %s\n' "$(date +%T)" "$line"; done; }
# stamped NAME COMMAND...: also keeps the plain stderr in $W/NAME.err, for phases.
stamped() {
  local name=$1; shift
  if [ -e /dev/fd/1 ]; then "$@" 2> >(tee -a "$W/$name.err" | stamp >&2); else "$@"; fi
}
# phases NAME: "@@phase NAME SECONDS TITLE" for each step the command finished (its "✓ TITLE (Ns)" lines).
phases() { sed -n "s/^✓ \(.*\) (\([0-9.]*\)s)\$/@@phase $1 \2 \1/p" "$W/$1.err" 2>/dev/null; }

# leftovers NAME: what a stopped cluster must not leave, read with the kernel's own tools:
# processes, IPVS virtual servers (/proc/net/ip_vs, ipvsadm), ipsets, kube-proxy's iptables
# chains (both backends, every table), kube-ipvs0. Prints each; "@@e2e NAME 0|1 0".
# The kubelet's own chains (KUBE-KUBELET-CANARY, KUBE-FIREWALL, KUBE-IPTABLES-HINT: made by the
# kubelet, pkg/kubelet/kubelet_network_linux.go, and never removed by it) are listed, not failed.
leftovers() {
  local label=$1 left=0 name chains kubelet_chains save  # label: the step's name
  echo "@@section $label"
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy coredns agnhost pause containerd-shim; do  # comm is at most 15 characters: containerd-shim-runc-v2 shows as containerd-shim
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
  echo "@@e2e $label $left 0"
  [ "$left" -eq 0 ] || failed=1
}

step images "${LOCAL_UP[@]}" tools images --import ${E2E_IMAGES:+--only "$E2E_IMAGES"} || { show_logs; exit 1; }
echo "@@section images"
ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q

step up stamped up "${LOCAL_UP[@]}" up --detach || { show_logs; "${LOCAL_UP[@]}" down >/dev/null 2>&1; exit 1; }
step assert "${LOCAL_UP[@]}" assert --host local
if [ "${E2E_SMOKE:-true}" = true ]; then step smoke stamped smoke "${LOCAL_UP[@]}" smoke; fi
# Two more smoke runs and a kube-proxy restart: off by default (VM time), E2E_COMPARE=true turns it on.
if [ "${E2E_COMPARE:-false}" = true ]; then
  step compare-modes stamped compare-modes "${LOCAL_UP[@]}" compare-modes --to nftables --junit "$W/compare-modes.xml"
  echo "@@section compare-modes-junit"
  cat "$W/compare-modes.xml" 2>/dev/null
fi
[ "$failed" -eq 0 ] || show_logs
step down stamped down "${LOCAL_UP[@]}" down
for name in up smoke compare-modes down; do phases "$name"; done
leftovers leftovers

# ---- Ctrl-C during up: SIGINT to `up` once kube-proxy has programmed IPVS (the API server
# is up, the node is not yet reported Ready by up); up must exit 130 and leave nothing.
interrupted_up() {
  local pid started rc
  started=$(date +%s)
  if [ -e /dev/fd/1 ]; then "${LOCAL_UP[@]}" up 2> >(tee -a "$W/ctrl-c-up.err" | stamp >&2) & else "${LOCAL_UP[@]}" up & fi
  pid=$!  # node itself: bash execs a simple command run in the background
  until grep -qE '^(TCP|UDP)' /proc/net/ip_vs 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then log "up ended before kube-proxy programmed IPVS"; wait "$pid"; return 1; fi
    [ $(( $(date +%s) - started )) -lt "$READY_TIMEOUT" ] || { log "no IPVS virtual server after ${READY_TIMEOUT}s"; kill -INT "$pid"; wait "$pid"; return 1; }
    sleep 1
  done
  log "kube-proxy programmed IPVS after $(( $(date +%s) - started ))s: SIGINT to up (pid $pid)"
  echo "@@e2e ctrl-c-signal 0 $(( $(date +%s) - started ))"
  kill -INT "$pid"
  wait "$pid"
  rc=$?
  log "up exited $rc after SIGINT"
  [ "$rc" -eq 130 ] || { echo "up exited $rc after SIGINT, not 130"; return 1; }
}
if [ "${E2E_CTRL_C:-true}" = true ]; then
  step ctrl-c interrupted_up
  phases ctrl-c-up
  leftovers leftovers-ctrl-c
fi
stop_containerd
leftovers leftovers-containerd-stopped
exit "$failed"
