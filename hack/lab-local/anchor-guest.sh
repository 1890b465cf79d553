#!/usr/bin/env bash
# Runs inside ONE lab VM (scripts/compare-anchor.mjs starts it): our local provider and
# upstream's hack/local-up-cluster.sh, one after the other, on the same node (hack/lab-local/
# node.sh: Debian's containerd, runc and CNI plugins), with the same binaries and the same
# locally built images, measured the same way:
#   - seconds from the start of the command to the node's Ready condition (its
#     lastTransitionTime, written by the kubelet; no polling that would load the VM),
#     and to the command saying the cluster is usable (ours: `up --detach` returns;
#     upstream: it prints "Local Kubernetes cluster is running");
#   - kube-proxy's /proxyMode on 127.0.0.1:10249;
#   - `local-up assert --host local --json` against the table each produced;
#   - how each is stopped as its user does (ours: `local-up down`; upstream: Ctrl-C, that is
#     SIGINT to the script's process group) and what is left in the kernel afterwards,
#     seen with the kernel's own tools (node.sh's leftovers).
# Between the two, whatever the first left is recorded and then removed, so that the second
# starts on the same clean node.
#
# usage: anchor-guest.sh REPO_DIR KUBE_ROOT KUBE_BIN_DIR ETCD_BIN_DIR CFSSL_BIN_DIR
#   KUBE_ROOT: the Kubernetes module source (its hack/local-up-cluster.sh is run from there).
#   ANCHOR_SIDES (env): "ours upstream" (default), or one of them.
# Output on stdout, read by src/anchor/record.ts:
#   "@@anchor SIDE KEY VALUE" facts, and "@@begin SIDE NAME" ... "@@end SIDE NAME" blocks.
# Progress on stderr. Exit code: 0 when every step of every side ran (a failed check is a
# fact in the record, not an exit code); 1 when a side could not be measured.
set -uo pipefail
set -m  # job control: a background job gets its own process group and keeps SIGINT (Ctrl-C) deliverable

REPO=$1 KUBE_ROOT=$2 KUBE_BIN=$3 ETCD_BIN=$4 CFSSL_BIN=$5
LOCAL_UP=(node "$REPO/bin/local-up.js")
W=/tmp/kube-local-up-anchor
# shellcheck source=node.sh
source "$(dirname "${BASH_SOURCE[0]}")/node.sh"
SIDES=${ANCHOR_SIDES:-ours upstream}
# Seconds: the whole start-up of one side, and how long stopped processes get to go.
READY_BUDGET=${ANCHOR_READY_BUDGET:-1500}
STOP_BUDGET=${ANCHOR_STOP_BUDGET:-180}
UPSTREAM_API_TRIES=${ANCHOR_API_TRIES:-900}
PROXY_MODE_URL=http://127.0.0.1:10249/proxyMode
# The processes of a cluster's control plane and node (pods are node.sh's leftovers).
COMPONENTS=$CLUSTER_PROCESSES
# Epoch seconds (guest clock) after which no side waits any longer for its start-up: the caller's
# time budget for the whole run (default: none beyond READY_BUDGET).
DEADLINE=${ANCHOR_DEADLINE:-0}
# over_budget STARTED: the side's own budget or the run's deadline has passed.
over_budget() { local now; now=$(date +%s); [ $(( now - $1 )) -ge "$READY_BUDGET" ] || { [ "$DEADLINE" -gt 0 ] && [ "$now" -ge "$DEADLINE" ]; }; }

log() { echo "anchor: $(date +%T) $*" >&2; }
fact() { echo "@@anchor $1 $2 ${*:3}"; }
block() { echo "@@begin $1 $2"; cat; echo "@@end $1 $2"; }
failed=0

trap 'containerd_stop' EXIT
node_setup || { echo "anchor: node setup failed" >&2; exit 1; }
containerd_start || exit 1
fact node containerd "$(containerd --version | awk '{print $3}')"
fact node runc "$(runc --version | awk 'NR==1{print $3}')"
fact node kernel "$(uname -r)"
fact node cpus "$(nproc)"
fact node memory_mib "$(( $(awk '/^MemTotal/{print $2}' /proc/meminfo) / 1024 ))"

export CNI_BIN_DIR=${CNI_BIN_DIR:-/usr/lib/cni}
export PATH="$KUBE_BIN:$ETCD_BIN:$CFSSL_BIN:$PATH"
# One kubectl call (ours and assert) can take longer than the default 30 s under emulation.
export KUBECTL_TIMEOUT="${KUBECTL_TIMEOUT:-180}"
# Neither side runs agnhost (the smoke suite's image): the two images a cluster needs.
"${LOCAL_UP[@]}" tools images --import --only pause,coredns >&2 || { log "tools images --import failed"; exit 1; }
fact node images "$(ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -v '^sha256:' | tr '\n' ' ')"
fact node kubernetes "$("$KUBE_BIN/kube-apiserver" --version | awk '{print $2}')"
fact node etcd "$("$ETCD_BIN/etcd" --version | awk 'NR==1{print $3}')"
# Both sides read the same binaries: page them in once, so neither pays the first read from the share.
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do cat "$KUBE_BIN/$b"; done >/dev/null
cat "$ETCD_BIN/etcd" >/dev/null

# ready_facts SIDE KUBECONFIG NODE STARTED: the node's Ready time, /proxyMode, the IPVS table and our assert.
ready_facts() {
  local side=$1 kubeconfig=$2 node=$3 started=$4 ready mode i
  ready=$(kubectl --kubeconfig "$kubeconfig" get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastTransitionTime}')
  fact "$side" node_ready "$ready"
  case "$ready" in
    True\ *) fact "$side" ready_seconds $(( $(date -d "${ready#True }" +%s) - started )) ;;
  esac
  # kube-proxy may start after the command returned (it does not with either side, but wait a little).
  mode=
  for i in $(seq 1 30); do
    mode=$(curl -s --max-time 5 "$PROXY_MODE_URL") && [ -n "$mode" ] && break
    sleep 2
  done
  fact "$side" proxy_mode "${mode:-none}"
  fact "$side" virtual_servers "$(grep -cE '^(TCP|UDP|SCTP|FWM)' /proc/net/ip_vs)"
  ipvsadm -Ln | block "$side" ipvsadm
  "${LOCAL_UP[@]}" assert --host local --kubeconfig "$kubeconfig" --node-name "$node" --json >"$W/$side-assert.json" 2>"$W/$side-assert.err"
  fact "$side" assert_exit $?
  block "$side" assert_json <"$W/$side-assert.json"
  tail -n 20 "$W/$side-assert.err" | block "$side" assert_stderr
}

# settle SIDE: waits until no component process is left or STOP_BUDGET passes; then the leftovers.
settle_and_record() {
  local side=$1 started=$2 name alive
  while :; do
    alive=
    for name in $COMPONENTS; do pgrep -x "$name" >/dev/null && alive="$alive $name"; done
    [ -z "$alive" ] && break
    [ $(( $(date +%s) - started )) -lt "$STOP_BUDGET" ] || break
    sleep 2
  done
  fact "$side" components_gone_seconds "$([ -z "$alive" ] && echo $(( $(date +%s) - started )) || echo never)"
  kernel_leftovers >"$W/$side-leftovers.txt"
  fact "$side" leftovers_exit $?
  block "$side" leftovers <"$W/$side-leftovers.txt"
  # Not kube-proxy's, recorded for completeness: the CNI bridge and config, pod sandboxes.
  fact "$side" cni0 "$(ip link show cni0 >/dev/null 2>&1 && echo present || echo absent)"
  fact "$side" cni_config "$(ls /etc/cni/net.d 2>/dev/null | tr '\n' ' ')"
  fact "$side" sandboxes "$(ctr --address "$CONTAINERD_SOCK" -n k8s.io containers ls -q 2>/dev/null | wc -l)"
}

# scrub: the node back to clean (what a side left, after it was recorded), for the next side.
scrub() {
  local pid name c
  for name in $COMPONENTS; do for pid in $(pgrep -x "$name"); do kill -9 "$pid" 2>/dev/null; done; done
  for c in $(ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks kill -s SIGKILL "$c" >/dev/null 2>&1; done
  sleep 2
  for c in $(ctr --address "$CONTAINERD_SOCK" -n k8s.io containers ls -q 2>/dev/null); do
    ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks delete -f "$c" >/dev/null 2>&1
    ctr --address "$CONTAINERD_SOCK" -n k8s.io containers delete "$c" >/dev/null 2>&1
  done
  ipvsadm -C
  for save in iptables-nft iptables-legacy; do
    for table in filter nat mangle; do "$save" -t "$table" -F 2>/dev/null; "$save" -t "$table" -X 2>/dev/null; done
  done
  ipset destroy 2>/dev/null
  ip link del kube-ipvs0 2>/dev/null
  ip link del cni0 2>/dev/null
  grep -oE ' /(var/lib/kubelet|run/containerd/io.containerd[^ ]*|run/netns)/[^ ]+' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf /var/lib/kubelet/* /var/lib/cni/* /etc/cni/net.d/* /var/run/kubernetes
}

run_ours() {
  local started rc budget=$READY_BUDGET
  # With a deadline for the run, the first side gets at most half of what is left (minus its stop),
  # so that the second is not cut short by the first's slowness.
  if [ "$DEADLINE" -gt 0 ] && [ "$(echo "$SIDES" | wc -w)" -gt 1 ]; then
    budget=$(( (DEADLINE - $(date +%s)) / 2 - 180 ))
    [ "$budget" -lt "$READY_BUDGET" ] || budget=$READY_BUDGET
    [ "$budget" -gt 60 ] || budget=60
  fi
  fact ours ready_budget "$budget"
  export CLUSTER_PROVIDER=local KUBE_PROXY_MODE=ipvs KUBE_BIN_DIR="$KUBE_BIN"
  export STATE_DIR="$W/ours/state" LOG_DIR="$W/ours/logs" KUBECONFIG_OUT="$W/ours/kubeconfig"
  export HOSTNAME_OVERRIDE=lab READY_TIMEOUT="$budget"
  mkdir -p "$LOG_DIR"
  log "ours: local-up up --detach"
  started=$(date +%s)
  fact ours started "$started"
  "${LOCAL_UP[@]}" up --detach >"$W/ours-up.out" 2> >(tee "$W/ours-up.err" | sed 's/^/ours| /' >&2)
  rc=$?
  sleep 1  # tee writes the last lines
  fact ours command_exit "$rc"
  fact ours command_seconds $(( $(date +%s) - started ))
  tail -n 40 "$W/ours-up.err" | block ours command_stderr
  fact ours node_name lab
  if [ "$rc" -eq 0 ]; then ready_facts ours "$KUBECONFIG_OUT" lab "$started"; else failed=1; tail -n 30 "$LOG_DIR/kubelet.log" 2>/dev/null | block ours kubelet_log; fi
  log "ours: local-up down"
  started=$(date +%s)
  "${LOCAL_UP[@]}" down >"$W/ours-down.out" 2> >(tee "$W/ours-down.err" | sed 's/^/ours| /' >&2)
  fact ours stop_exit $?
  fact ours stop_seconds $(( $(date +%s) - started ))
  tail -n 40 "$W/ours-down.err" | block ours stop_stderr
  settle_and_record ours "$started"
  unset CLUSTER_PROVIDER KUBE_PROXY_MODE KUBE_BIN_DIR STATE_DIR LOG_DIR KUBECONFIG_OUT HOSTNAME_OVERRIDE READY_TIMEOUT
}

run_upstream() {
  local started out=$W/upstream.out pid rc=running kubeconfig=/var/run/kubernetes/admin.kubeconfig node=127.0.0.1
  mkdir -p "$W/upstream/logs"
  # The script only writes a CNI config when it installs the plugins (it downloads them when
  # /opt/cni/bin/loopback is missing); with plugins present it expects a config. Give it the
  # plugins Debian installed and the bridge network over 10.88.0.0/16 its installer writes.
  mkdir -p /opt/cni
  [ -e /opt/cni/bin ] || ln -s "$CNI_BIN_DIR" /opt/cni/bin
  node --input-type=module -e "import { renderBridgeConflist } from '$REPO/dist/providers/local/preflight.js'; process.stdout.write(renderBridgeConflist('10.88.0.0/16'))" >/etc/cni/net.d/10-containerd-net.conflist
  fact upstream script "$KUBE_ROOT/hack/local-up-cluster.sh"
  fact upstream node_name "$node"
  log "upstream: hack/local-up-cluster.sh -o $KUBE_BIN (KUBE_PROXY_MODE=ipvs)"
  started=$(date +%s)
  fact upstream started "$started"
  fact upstream ready_budget $(( DEADLINE > 0 && DEADLINE - started < READY_BUDGET ? DEADLINE - started : READY_BUDGET ))
  # Its one start-up knob with a deadline: the API server's /healthz gets WAIT_FOR_URL_API_SERVER
  # tries (default 60, about a minute); under emulation it needs far more, as ours gets READY_TIMEOUT.
  fact upstream wait_for_url_api_server "$UPSTREAM_API_TRIES"
  WAIT_FOR_URL_API_SERVER=$UPSTREAM_API_TRIES KUBE_PROXY_MODE=ipvs CONTAINER_RUNTIME_ENDPOINT="unix://$CONTAINERD_SOCK" LOG_DIR="$W/upstream/logs" \
    bash "$KUBE_ROOT/hack/local-up-cluster.sh" -o "$KUBE_BIN" >"$out" 2>&1 </dev/null &
  pid=$!
  fact upstream pid "$pid"
  # Its output as it comes, for whoever watches the run.
  # (A subshell: $! is then its pid, which job control made the job's process group.)
  ( tail -n +1 -F "$out" 2>/dev/null | sed -u 's/^/upstream| /' >&2 ) &
  local tail_job=$!
  while :; do
    if grep -q 'Local Kubernetes cluster is running' "$out"; then rc=0; break; fi
    if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; rc=$?; [ "$rc" -ne 0 ] || rc=exited; break; fi
    if over_budget "$started"; then rc=timeout; break; fi
    sleep 2
  done
  fact upstream command_exit "$rc"
  fact upstream command_seconds $(( $(date +%s) - started ))
  grep -v '^$' "$out" | tail -n 60 | block upstream command_output
  # Also after a timeout: how far it got (a Ready node, kube-proxy) is worth recording.
  if [ -f "$kubeconfig" ]; then ready_facts upstream "$kubeconfig" "$node" "$started"; fi
  [ "$rc" = 0 ] || { failed=1; tail -n 30 "$W/upstream/logs/kubelet.log" 2>/dev/null | block upstream kubelet_log; }
  # Stop it as its user does: Ctrl-C, that is SIGINT to the script's (foreground) process group.
  log "upstream: Ctrl-C (SIGINT to process group $pid)"
  started=$(date +%s)
  kill -INT -- "-$pid" 2>/dev/null
  rc=
  for _ in $(seq 1 "$STOP_BUDGET"); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  if kill -0 "$pid" 2>/dev/null; then rc=running; else wait "$pid"; rc=$?; fi
  fact upstream stop_exit "$rc"
  fact upstream stop_seconds $(( $(date +%s) - started ))
  sed -n '/Cleaning up/,$p' "$out" | tail -n 40 | block upstream stop_output
  kill -- "-$tail_job" 2>/dev/null
  settle_and_record upstream "$started"
  for f in "$W"/upstream/logs/kube-proxy.log; do [ -f "$f" ] && grep -E 'Using ipvs|proxier|IPVS|ipvs' "$f" | head -n 15 | block upstream kube_proxy_log; done
}

for side in $SIDES; do
  case "$side" in
    ours) run_ours ;;
    upstream) run_upstream ;;
    *) log "unknown side: $side"; exit 2 ;;
  esac
  scrub
done
exit "$failed"
