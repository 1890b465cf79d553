#!/usr/bin/env bash
# Runs inside ONE lab VM (test/lab-migrate.test.ts starts it): a real etcd, a real
# kube-apiserver and a real kube-proxy, switched between modes the way an operator
# would: IPVS first, then nftables, then IPVS again and iptables without cleanup, then
# `kube-proxy --cleanup`. After each start it waits for kube-proxy's first sync (its
# /metrics), then prints what is left on the node (IPVS, kube-ipvs0, ipsets, chains),
# what answers where (probes from the node), and what our own CLI says
# (`migrate-check`, `assert --mode`). The host judges everything.
#
# usage: guest.sh BIN_DIR FILES_DIR REPO_DIR
#   FILES_DIR holds kube-proxy-{ipvs,nftables,iptables}.yaml, objects.list ("PATH FILE" per line,
#   POSTed in order) with the JSON bodies it names, and the oracle catalogue's oracle-NN-*.sh files.
# Output: "@@migrate <name>" section markers on stdout; progress on stderr.
set -euo pipefail

BIN=$1
FILES=$2
REPO=$3
W=/tmp/kube-local-up-migrate
NODE_NAME=oracle-node
NODE_IP=192.168.50.10
# A second node address that is not the Node's InternalIP (nftables' default nodePortAddresses leaves it out).
SECOND_IP=192.168.60.10
POD_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/16
PROBE_CLUSTER_IP=10.96.200.10
PROBE_NODE_PORT=30900
PROBE_POD_IP=10.244.200.10
HOST_LISTENER_PORT=9999
TOKEN=migrate-admin-token
METRICS=http://127.0.0.1:10249/metrics
# Seconds: each external command, the API server's start, one kube-proxy start up to its first sync, one probe.
CMD_TIMEOUT=120
API_START_TIMEOUT=300
PROXY_START_TIMEOUT=${PROXY_START_TIMEOUT:-300}
PROBE_TIMEOUT=5

export PATH="$BIN:$PATH"
log() { echo "migrate: $(date +%T) $*" >&2; }
section() { echo "@@migrate $1"; }
api() {
  local args=(-sS --fail-with-body --max-time "$CMD_TIMEOUT" -k -X "$1" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:6443$2")
  [ $# -lt 3 ] || args+=(-H "Content-Type: ${4:-application/json}" --data-binary "@$3")
  curl "${args[@]}"
}

pids=()
proxy_pid=
cleanup() {
  for pid in "${pids[@]}" $proxy_pid; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}" $proxy_pid; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

fail() {
  log "FAILED: $*"
  echo "---- processes" >&2
  ps -eo pid,ppid,etime,args >&2 || true
  for f in etcd apiserver kube-proxy; do
    [ -f "$W/$f.log" ] && { echo "---- last lines of $f.log" >&2; tail -n "${FAIL_LOG_LINES:-25}" "$W/$f.log" >&2; }
  done
  exit 1
}

# ---- the node: its address on a dummy interface, a second address, one "pod" in a network
# namespace behind a veth pair (a real endpoint that answers), and a listener of the node itself
# on every address (like sshd or the kubelet), to see whether Service addresses reach it.
mkdir -p "$W/pki" "$W/etcd"
ip link set lo up
ip link add oracle0 type dummy
ip addr add "$NODE_IP/24" dev oracle0
ip link set oracle0 up
ip link add second0 type dummy
ip addr add "$SECOND_IP/24" dev second0
ip link set second0 up
ip route add "$POD_CIDR" dev oracle0
ip route add default dev oracle0
sysctl -qw net.ipv4.ip_forward=1
ip netns add pod
ip link add mig-h type veth peer name mig-p
ip link set mig-p netns pod
ip addr add 10.244.200.1/24 dev mig-h
ip link set mig-h up
ip netns exec pod ip link set lo up
ip netns exec pod ip addr add "$PROBE_POD_IP/24" dev mig-p
ip netns exec pod ip link set mig-p up
ip netns exec pod ip route add default via 10.244.200.1
modprobe -a ip_vs ip_vs_rr nf_conntrack nf_tables
ip netns exec pod node -e "require('http').createServer((q, s) => s.end('pod\n')).listen(8080)" >"$W/pod.log" 2>&1 &
pids+=($!)
node -e "require('http').createServer((q, s) => s.end('node-host\n')).listen($HOST_LISTENER_PORT, '0.0.0.0')" >"$W/host.log" 2>&1 &
pids+=($!)

# ---- etcd and kube-apiserver (as hack/oracle/guest.sh starts them)
log "starting etcd"
etcd --name migrate --data-dir "$W/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster migrate=http://127.0.0.1:2380 >"$W/etcd.log" 2>&1 &
pids+=($!)
openssl genrsa -out "$W/pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$W/pki/sa.key" -pubout -out "$W/pki/sa.pub" 2>/dev/null
echo "$TOKEN,migrate-admin,migrate-admin,system:masters" >"$W/tokens.csv"
cat >"$W/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: migrate
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: "$TOKEN"}
contexts:
- name: migrate
  context: {cluster: migrate, user: admin}
current-context: migrate
EOF
log "starting kube-apiserver"
"$BIN/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 --cert-dir="$W/pki" \
  --secure-port=6443 --advertise-address="$NODE_IP" --token-auth-file="$W/tokens.csv" \
  --authorization-mode=AlwaysAllow --service-cluster-ip-range="$SERVICE_CIDR" \
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$W/pki/sa.pub" \
  --service-account-signing-key-file="$W/pki/sa.key" --enable-priority-and-fairness=false \
  --endpoint-reconciler-type=none >"$W/apiserver.log" 2>&1 &
pids+=($!)
started=$(date +%s)
until api GET /api/v1/namespaces/kube-system >/dev/null 2>&1; do
  [ $(( $(date +%s) - started )) -lt "$API_START_TIMEOUT" ] || fail "kube-apiserver not ready after ${API_START_TIMEOUT}s"
  sleep 1
done
log "kube-apiserver ready after $(( $(date +%s) - started ))s"

# ---- the Node, our objects (probe Service, its slice, kube-proxy's ConfigMap), the catalogue cases
echo "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$NODE_NAME\",\"labels\":{\"kubernetes.io/hostname\":\"$NODE_NAME\"}}}" >"$W/node.json"
echo "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"$NODE_IP\"},{\"type\":\"Hostname\",\"address\":\"$NODE_NAME\"}]}}" >"$W/node-status.json"
api POST /api/v1/nodes "$W/node.json" >/dev/null || fail "cannot create the Node"
api PATCH "/api/v1/nodes/$NODE_NAME/status" "$W/node-status.json" application/merge-patch+json >/dev/null || fail "cannot set the Node's addresses"
while read -r path file; do
  [ -n "$path" ] || continue
  api POST "$path" "$FILES/$file" >"$W/response" || { cat "$W/response" >&2; fail "POST $path $file"; }
done <"$FILES/objects.list"
for meta in "$FILES"/oracle-[0-9]*.sh; do
  [ -e "$meta" ] || continue
  # shellcheck disable=SC1090
  . "$meta"
  for ns in "${NAMESPACES[@]}"; do
    if [ "$ns" != default ] && ! api GET "/api/v1/namespaces/$ns" >/dev/null 2>&1; then
      echo "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}" >"$W/ns.json"
      api POST /api/v1/namespaces "$W/ns.json" >/dev/null || fail "namespace $ns"
    fi
  done
  for request in "${CREATE[@]}"; do
    # shellcheck disable=SC2086
    set -- $request
    api "$1" "$2" ${3:+"$FILES/$3"} ${4:+"$4"} >"$W/response" || { cat "$W/response" >&2; fail "$(basename "$meta"): $request"; }
  done
done
started=$(date +%s)
until curl -sf --max-time 2 "http://127.0.0.1:$HOST_LISTENER_PORT/" >/dev/null && ip netns exec pod curl -sf --max-time 2 http://127.0.0.1:8080/ >/dev/null; do
  [ $(( $(date +%s) - started )) -lt "$API_START_TIMEOUT" ] || fail "the pod's or the node's listener did not start"
  sleep 1
done

# ---- kube-proxy: start in a mode and wait for its first full sync (the objects exist before it starts,
# and it syncs only once its informers have every Service and EndpointSlice).
# One metric's largest value over its labels (0 when absent). NOTE: in 1.34 the sync timestamps carry
# ip_family, and on a host with IPv6 the IPv6 proxier's stays 0 when it never initialises.
metric() { awk -v name="$1" '($1 == name || index($1, name "{") == 1) && $2 + 0 > v + 0 { v = $2 } END { print v == "" ? 0 : v }' "$W/metrics"; }
start_proxy() {
  local mode=$1 started
  log "starting kube-proxy in $mode mode"
  "$BIN/kube-proxy" --config "$FILES/kube-proxy-$mode.yaml" --v="${PROXY_VERBOSITY:-2}" >>"$W/kube-proxy.log" 2>&1 &
  proxy_pid=$!
  started=$(date +%s)
  until curl -sf --max-time 10 "$METRICS" >"$W/metrics" && [ "$(metric kubeproxy_sync_proxy_rules_last_timestamp_seconds)" != 0 ]; do
    kill -0 "$proxy_pid" 2>/dev/null || fail "kube-proxy ($mode) exited"
    [ $(( $(date +%s) - started )) -lt "$PROXY_START_TIMEOUT" ] || fail "kube-proxy ($mode) did not sync within ${PROXY_START_TIMEOUT}s"
    sleep 1
  done
  log "kube-proxy ($mode) synced after $(( $(date +%s) - started ))s"
}
stop_proxy() {
  kill "$proxy_pid" 2>/dev/null || true
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=
}

# What the old mode may have left: IPVS virtual servers, kube-ipvs0, ipsets, kube-proxy's iptables chains, nft tables.
inventory() {
  section "inventory $1"
  echo "ipvs-virtual-servers $(grep -cE '^(TCP|UDP|SCTP|FWM) ' /proc/net/ip_vs 2>/dev/null || true)"
  if ip -o link show kube-ipvs0 >/dev/null 2>&1; then echo "kube-ipvs0 present"; else echo "kube-ipvs0 absent"; fi
  echo "ipsets $(ipset list -n 2>/dev/null | sort | tr '\n' ' ')"
  echo "iptables-chains $( { iptables-save -t nat; iptables-save -t filter; } 2>/dev/null | sed -n 's/^:\(KUBE-[A-Z0-9-]*\) .*/\1/p' | sort -u | tr '\n' ' ')"
  echo "nft-tables $(nft list tables 2>/dev/null | tr '\n' ' ')"
}

# One line per probe: "<name> <curl or ping exit code> <first line of the answer>".
probe_http() { local out code=0; out=$(curl -s --max-time "$PROBE_TIMEOUT" "http://$2/" 2>/dev/null | head -n 1) || code=$?; echo "$1 $code $out"; }
probes() {
  section "probes $1"
  local code=0
  ping -c 1 -W "$PROBE_TIMEOUT" "$PROBE_CLUSTER_IP" >/dev/null 2>&1 || code=$?
  echo "ping-cluster-ip $code"
  probe_http cluster-ip-service-port "$PROBE_CLUSTER_IP:80"
  probe_http cluster-ip-host-listener "$PROBE_CLUSTER_IP:$HOST_LISTENER_PORT"
  probe_http nodeport-node-ip "$NODE_IP:$PROBE_NODE_PORT"
  probe_http nodeport-second-ip "$SECOND_IP:$PROBE_NODE_PORT"
  probe_http nodeport-localhost "127.0.0.1:$PROBE_NODE_PORT"
}

# Our CLI, as a user runs it on the node: "exit N" ends the section.
cli() {
  local name=$1 code=0
  shift
  section "cli $name"
  node "$REPO/bin/local-up.js" "$@" 2>"$W/cli.err" || code=$?
  echo
  echo "exit $code"
  sed 's/^/stderr: /' "$W/cli.err"
}

proxy_version=$("$BIN/kube-proxy" --version)
section version; echo "$proxy_version"

# 1. IPVS: what it programs and answers, and what migrate-check predicts.
start_proxy ipvs
inventory ipvs
probes ipvs
cli migrate-check-nftables migrate-check --to nftables --state-dir "$W/state" --kubeconfig "$W/kubeconfig" --host local --node-name "$NODE_NAME"
cli migrate-check-nftables-json migrate-check --to nftables --state-dir "$W/state" --kubeconfig "$W/kubeconfig" --host local --node-name "$NODE_NAME" --json
cli migrate-check-iptables-json migrate-check --to iptables --state-dir "$W/state" --kubeconfig "$W/kubeconfig" --host local --node-name "$NODE_NAME" --json
stop_proxy

# 2. nftables, started straight after IPVS without any cleanup.
start_proxy nftables
inventory nftables
probes nftables
cli assert-nftables assert --mode nftables --host local --node-name "$NODE_NAME"
stop_proxy

# 3. IPVS again, then iptables without cleanup; then kube-proxy --cleanup.
start_proxy ipvs
stop_proxy
start_proxy iptables
inventory iptables
probes iptables
cli assert-iptables assert --mode iptables --host local --node-name "$NODE_NAME"
stop_proxy
section cleanup
code=0
timeout "$CMD_TIMEOUT" "$BIN/kube-proxy" --config "$FILES/kube-proxy-iptables.yaml" --cleanup >>"$W/kube-proxy.log" 2>&1 || code=$?
echo "exit $code"
inventory after-cleanup
cli assert-after-cleanup assert --mode iptables --host local --node-name "$NODE_NAME"

section proxy-log; grep -v '^I' "$W/kube-proxy.log" | tail -n 40 || true
section end
