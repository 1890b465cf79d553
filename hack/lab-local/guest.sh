#!/usr/bin/env bash
# Runs inside ONE lab VM (scripts/e2e-lab.mjs and test/lab-local-cluster.test.ts start it):
# the machine a user of the local provider has, made from the lab's bare root: a node
# address on a dummy interface with a default route, the kernel modules and sysctls a
# node needs, Debian's containerd (CRI v1, which kubelet 1.34 speaks) with runc and
# Debian's CNI plugins, state on tmpfs (overlayfs cannot stack on the lab's overlay
# root). Then, as a user would: `local-up tools images --import` (archives built on the
# host beforehand), `local-up up --detach` with KUBE_PROXY_MODE=ipvs, `assert --host
# local`, `smoke`, `down`, and a check that nothing of the cluster is left.
#
# usage: guest.sh REPO_DIR
# Output: "@@e2e <name> <exit code> <seconds>" lines on stdout after each step, and each
# step's own stdout; progress on stderr. Exit code: 0 when every step passed.
set -uo pipefail

REPO=$1
LOCAL_UP=(node "$REPO/bin/local-up.js")
W=/tmp/kube-local-up-e2e-lab
# shellcheck source=node.sh
source "$(dirname "${BASH_SOURCE[0]}")/node.sh"

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

trap 'containerd_stop' EXIT

node_setup
containerd_start || { rc=$?; show_logs; exit "$rc"; }

export CLUSTER_PROVIDER=local KUBE_PROXY_MODE=ipvs CNI_BIN_DIR="${CNI_BIN_DIR:-/usr/lib/cni}"
export STATE_DIR="$W/state" LOG_DIR="$W/logs" KUBECONFIG_OUT="$W/kubeconfig" KUBECONFIG="$W/kubeconfig"
export HOSTNAME_OVERRIDE="${HOSTNAME_OVERRIDE:-lab}"
# Under emulation (TCG) a component starts in tens of seconds, not one or two.
export READY_TIMEOUT="${READY_TIMEOUT:-900}" SMOKE_READY_TIMEOUT="${SMOKE_READY_TIMEOUT:-900}"

step images "${LOCAL_UP[@]}" tools images --import ${E2E_IMAGES:+--only "$E2E_IMAGES"} || { show_logs; exit 1; }
echo "@@section images"
ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q

step up "${LOCAL_UP[@]}" up --detach || { show_logs; "${LOCAL_UP[@]}" down >/dev/null 2>&1; exit 1; }
step assert "${LOCAL_UP[@]}" assert --host local
if [ "${E2E_SMOKE:-true}" = true ]; then step smoke "${LOCAL_UP[@]}" smoke; fi
[ "$failed" -eq 0 ] || show_logs
step down "${LOCAL_UP[@]}" down
containerd_stop

# ---- nothing left: processes, IPVS virtual servers, ipsets, KUBE- chains, kube-ipvs0.
echo "@@section leftovers"
left=0
leftovers || left=1
echo "@@e2e leftovers $left 0"
[ "$left" -eq 0 ] || failed=1
exit "$failed"
