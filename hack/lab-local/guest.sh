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
W=/tmp/kube-local-up-e2e-lab
# node_setup, containerd_start/_stop and kernel_leftovers (shared with hack/lab-local/anchor-guest.sh).
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

stop_containerd() { containerd_stop; }
trap 'stop_containerd' EXIT

node_setup || { echo "e2e-lab: node setup failed" >&2; exit 1; }
containerd_start || { rc=$?; show_logs; exit "$rc"; }

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

# leftovers NAME: what a stopped cluster must not leave, read with the kernel's own tools
# (node.sh's kernel_leftovers); prints each and "@@e2e NAME 0|1 0".
leftovers() {
  local label=$1 left=0
  echo "@@section $label"
  kernel_leftovers || left=1
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
