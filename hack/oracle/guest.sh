#!/usr/bin/env bash
# Runs inside ONE lab VM (test/oracle/kube-proxy.test.ts starts it): a real etcd,
# a real dual-stack kube-apiserver and a real kube-proxy in IPVS mode (one proxier
# per family, as kube-proxy runs on a node with IPv6). First, per nodePortAddresses
# group (groups.sh, kube-proxy-group-N.yaml), a kube-proxy with that configuration
# gets the group's cases alone, which are checked and deleted again. Then every case's
# Services and EndpointSlices are created through the API (src/oracle/cases.ts
# wrote the requests; the cases never share a name, ClusterIP or NodePort), the
# script waits until kube-proxy has synced them (its /metrics, never a sleep),
# prints the cluster, /proc/net/ip_vs and the interface addresses, then alters
# the table per case (one real server deleted, one scheduler changed) with
# kube-proxy stopped, and prints it again. The host judges everything.
# Requests go through curl: a kubectl start costs tens of seconds under emulation.
#
# usage: guest.sh BIN_DIR CASES_DIR KUBE_PROXY_CONFIG
# Output: "@@oracle <name>" section markers on stdout (a group's carry its prefix, "group-N-"); progress on stderr.
set -euo pipefail

BIN=$1
CASES=$2
PROXY_CONFIG=$3
W=/tmp/kube-local-up-oracle
NODE_NAME=oracle-node
NODE_IP=192.168.50.10
NODE_IP6=fd00:50::10
# One more address per family, not in the Node object: nodePortAddresses CIDRs can match it alone.
NODE_EXTRA_IP=192.168.60.10
NODE_EXTRA_IP6=fd00:60::10
NODE_ZONE=zone-a
POD_CIDR=10.244.0.0/16
POD_CIDR6=fd00:244::/48
SERVICE_CIDR=10.96.0.0/16
# NOTE: kube-apiserver 1.29 refuses an IPv6 service range larger than /108 (20 bits of allocator).
SERVICE_CIDR6=fd00:96::/108
TOKEN=oracle-admin-token
METRICS=http://127.0.0.1:10249/metrics
# Seconds: each external command, the API server's start, kube-proxy's first sync, one case's sync.
CMD_TIMEOUT=120
API_START_TIMEOUT=900
PROXY_START_TIMEOUT=600
SYNC_TIMEOUT=${ORACLE_SYNC_TIMEOUT:-900}
# Seconds after kube-proxy's first sync for every proxier to have its Node's zone label (see start_proxy).
LABEL_TIMEOUT=120

log() { echo "oracle: $(date +%T) $*" >&2; }
section() { echo "@@oracle $1"; }
now() { date +%s.%N; }
# One API request with the admin token: api METHOD PATH [JSON_FILE] [CONTENT_TYPE]. Prints the body; fails on HTTP errors.
api() {
  local args=(-sS --fail-with-body --max-time "$CMD_TIMEOUT" -k -X "$1" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:6443$2")
  [ $# -lt 3 ] || args+=(-H "Content-Type: ${4:-application/json}" --data-binary "@$3")
  curl "${args[@]}"
}

# Several requests in ONE curl process and TLS connection (a curl start costs seconds under emulation):
# api_batch "METHOD PATH [FILE [TYPE]]"... Fails at the first answer that is not 2xx, leaving the request in
# $batch_failed and its body in $W/response; the requests after it were sent too.
batch_failed=
api_batch() {
  local requests=("$@") args=() words i=0 code
  for request in "${requests[@]}"; do
    read -r -a words <<<"$request"
    [ "$i" = 0 ] || args+=(--next)
    args+=(-sS --max-time "$CMD_TIMEOUT" -k -X "${words[0]}" -H "Authorization: Bearer $TOKEN" -o "$W/response.$i" -w '%{http_code}\n')
    [ "${#words[@]}" -lt 3 ] || args+=(-H "Content-Type: ${words[3]:-application/json}" --data-binary "@$CASES/${words[2]}")
    args+=("https://127.0.0.1:6443${words[1]}")
    i=$(( i + 1 ))
  done
  curl "${args[@]}" >"$W/codes" || true
  i=0
  for request in "${requests[@]}"; do
    code=$(sed -n "$(( i + 1 ))p" "$W/codes")
    case "$code" in
      2??) ;;
      *) batch_failed="$request (HTTP ${code:-none})"; cat "$W/response.$i" >"$W/response" 2>/dev/null || : >"$W/response"; return 1 ;;
    esac
    i=$(( i + 1 ))
  done
}

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

fail() {
  log "FAILED: $*"
  for f in etcd apiserver kube-proxy; do
    [ -f "$W/$f.log" ] && { echo "---- last lines of $f.log" >&2; tail -n 25 "$W/$f.log" >&2; }
  done
  exit 1
}

# ---- the node: its address on a dummy interface, a route to the pod network (IPVS refuses
# real servers it has no route to), loopback up.
mkdir -p "$W/pki" "$W/etcd"
ip link set lo up
ip link add oracle0 type dummy
ip addr add "$NODE_IP/24" dev oracle0
ip addr add "$NODE_EXTRA_IP/24" dev oracle0
ip addr add "$NODE_IP6/64" dev oracle0 nodad
ip addr add "$NODE_EXTRA_IP6/64" dev oracle0 nodad
ip link set oracle0 up
ip route add "$POD_CIDR" dev oracle0
ip route add default dev oracle0
ip -6 route add "$POD_CIDR6" dev oracle0
ip -6 route add default dev oracle0
modprobe -a ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack

# ---- etcd
log "starting etcd"
etcd --name oracle --data-dir "$W/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster oracle=http://127.0.0.1:2380 >"$W/etcd.log" 2>&1 &
pids+=($!)

# ---- kube-apiserver: its own serving cert (--cert-dir), a static admin token, AlwaysAllow.
openssl genrsa -out "$W/pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$W/pki/sa.key" -pubout -out "$W/pki/sa.pub" 2>/dev/null
echo "$TOKEN,oracle-admin,oracle-admin,system:masters" >"$W/tokens.csv"
cat >"$W/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: oracle
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: "$TOKEN"}
contexts:
- name: oracle
  context: {cluster: oracle, user: admin}
current-context: oracle
EOF
log "starting kube-apiserver"
"$BIN/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 --cert-dir="$W/pki" \
  --secure-port=6443 --advertise-address="$NODE_IP" --token-auth-file="$W/tokens.csv" \
  --authorization-mode=AlwaysAllow --service-cluster-ip-range="$SERVICE_CIDR,$SERVICE_CIDR6" \
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$W/pki/sa.pub" \
  --service-account-signing-key-file="$W/pki/sa.key" --enable-priority-and-fairness=false \
  --endpoint-reconciler-type=none >"$W/apiserver.log" 2>&1 &
pids+=($!)
started=$(date +%s)
until curl -skf --max-time 5 -H "Authorization: Bearer $TOKEN" https://127.0.0.1:6443/readyz >/dev/null 2>&1; do
  [ $(( $(date +%s) - started )) -lt "$API_START_TIMEOUT" ] || fail "kube-apiserver not ready after ${API_START_TIMEOUT}s"
  sleep 1
done
log "kube-apiserver ready after $(( $(date +%s) - started ))s"
until api GET /api/v1/namespaces/default >/dev/null 2>&1; do
  [ $(( $(date +%s) - started )) -lt "$API_START_TIMEOUT" ] || fail "no default namespace after ${API_START_TIMEOUT}s"
  sleep 1
done

# ---- kube-proxy's Node: its name, its zone (topology hints), its InternalIPs (one per family: "primary").
echo "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$NODE_NAME\",\"labels\":{\"kubernetes.io/hostname\":\"$NODE_NAME\",\"topology.kubernetes.io/zone\":\"$NODE_ZONE\"}}}" >"$W/node.json"
echo "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"$NODE_IP\"},{\"type\":\"InternalIP\",\"address\":\"$NODE_IP6\"},{\"type\":\"Hostname\",\"address\":\"$NODE_NAME\"}]}}" >"$W/node-status.json"
api POST /api/v1/nodes "$W/node.json" >/dev/null || fail "cannot create the Node"
api PATCH "/api/v1/nodes/$NODE_NAME/status" "$W/node-status.json" application/merge-patch+json >/dev/null || fail "cannot set the Node's addresses"

# ---- kube-proxy
proxy_version=$("$BIN/kube-proxy" --version)

# One metric's value (0 when absent).
metric() { awk -v name="$1" '$1 == name || index($1, name "{") == 1 { v = $2 } END { print v == "" ? 0 : v }' "$W/metrics"; }
scrape() { curl -sf --max-time 10 "$METRICS" >"$W/metrics"; }

# Starts kube-proxy with config file $1 and waits for its first sync and its Node's zone label; a running
# one is stopped first (a new process: its counters start again from zero).
# NOTE: kube-proxy 1.34.11 and 1.37.2 can live without their Node's zone label, so topology hints are
# ignored: NodeManager starts and syncs the Node informer at start (pkg/proxy/node.go newNodeManager),
# then Run() adds NodeTopologyConfig's handler to it and only afterwards registers the proxier as its
# listener (cmd/kube-proxy/app/server.go: NewNodeTopologyConfig, then RegisterEventHandler). When the
# informer hands over the existing Node in between, the config keeps the labels, tells nobody, and skips
# every later event with the same labels (pkg/proxy/config/config.go handleNodeEvent). A race, seen here
# on a loaded machine; a process without the label within LABEL_TIMEOUT is started again.
proxy_pid=
start_proxy() {
  local attempt
  for attempt in 1 2 3; do
    start_proxy_once "$1"
    wait_labelled && return 0
    log "kube-proxy (attempt $attempt) has no zone label ${LABEL_TIMEOUT}s after its first sync: the start-up race in NodeTopologyConfig; starting it again"
  done
  fail "kube-proxy never got its Node's zone label in 3 starts"
}

# Waits until every proxier of this process has logged its Node's zone label (topology_seen).
wait_labelled() {
  local deadline=$(( $(date +%s) + LABEL_TIMEOUT )) f
  while :; do
    scrape || fail "cannot read kube-proxy's metrics"
    read -r _ _ _ _ f _ <<<"$(sync_metrics)"
    [ "$(topology_seen)" -lt "$f" ] || return 0
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 1
  done
}

start_proxy_once() {
  if [ -n "$proxy_pid" ]; then
    kill -CONT "$proxy_pid" 2>/dev/null || true
    kill "$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
  fi
  log "starting kube-proxy $proxy_version with $(basename "$1")"
  # This process's log starts after this line (the file holds every earlier kube-proxy's too).
  proxy_log_from=1
  [ ! -f "$W/kube-proxy.log" ] || proxy_log_from=$(( $(wc -l <"$W/kube-proxy.log") + 1 ))
  # --v=4: the only sign that kube-proxy has its Node's topology labels is a V(4) line (see topology_seen).
  "$BIN/kube-proxy" --config "$1" --v=4 >>"$W/kube-proxy.log" 2>&1 &
  proxy_pid=$!
  pids+=($proxy_pid)
  local started
  started=$(date +%s)
  # The metrics server of a stopped kube-proxy may answer for a moment: wait for this one's first sync.
  until scrape && [ "$(metric kubeproxy_sync_proxy_rules_last_timestamp_seconds)" != 0 ]; do
    kill -0 "$proxy_pid" 2>/dev/null || fail "kube-proxy exited"
    [ $(( $(date +%s) - started )) -lt "$PROXY_START_TIMEOUT" ] || fail "kube-proxy did not sync within ${PROXY_START_TIMEOUT}s"
    sleep 1
  done
  log "kube-proxy synced after $(( $(date +%s) - started ))s"
}

# Values of the sync metrics, in one pass: SERVICES SLICES SYNCS4 SYNCS6 FAMILIES LABELLED.
# NOTE: on a host with IPv6, kube-proxy runs one proxier per family (cmd/kube-proxy/app/server_linux.go
# platformCheckSupported); both count every Service event, and each counts the slices of its own
# family (pkg/proxy/endpointschangetracker.go; at 1.29 both count every slice) in the same unlabelled
# counters. The sync counts carry ip_family from 1.30 (pkg/proxy/metrics/metrics.go): SYNCS4 and
# SYNCS6 are then each proxier's; without labels (1.29) SYNCS4 is the shared count and SYNCS6 is 0.
# FAMILIES is how many proxiers run (each sets its last-queued time at start).
sync_metrics() {
  awk '
    function base(n) { sub(/\{.*/, "", n); return n }
    /ip_family=/ { l = 1 }
    base($1) == "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds" { f++ }
    base($1) == "kubeproxy_sync_proxy_rules_service_changes_total" { s = $2 }
    base($1) == "kubeproxy_sync_proxy_rules_endpoint_changes_total" { e = $2 }
    base($1) == "kubeproxy_sync_proxy_rules_duration_seconds_count" { if ($1 ~ /ip_family="IPv6"/) c6 = $2; else c4 = $2 }
    END { print s + 0, e + 0, c4 + 0, c6 + 0, (f > 0 ? f : 1), l + 0 }' "$W/metrics"
}

# How many proxiers of this kube-proxy process have its Node's zone label (topology hints need it).
# NOTE: the label reaches the proxier by an informer of its own, with no ordering against the Service
# and EndpointSlice ones and no metric; each proxier logs it at V(4): "Updated proxier node labels"
# (1.29: pkg/proxy/ipvs/proxier.go OnNodeAdd, every label) or "Updated proxier node topology labels"
# (1.34, 1.37: OnTopologyChange, the zone label only). The Node exists before kube-proxy starts.
# Compared with FAMILIES (sync_metrics): one per proxier, and 1 without metric labels (1.29), where the
# proxiers get the Node in one call.
topology_seen() {
  tail -n "+$proxy_log_from" "$W/kube-proxy.log" | grep -c "Updated proxier node.*$NODE_ZONE" || true
}

# Goroutines of a kube-proxy that stopped syncing (SIGQUIT makes the Go runtime print them and exit):
# the ones in the proxier, on stderr, for the host's guest-stderr.txt.
dump_proxy() {
  local before
  before=$(wc -l <"$W/kube-proxy.log")
  echo "---- kube-proxy.log: $(wc -c <"$W/kube-proxy.log") bytes; its last lines" >&2
  tail -n 40 "$W/kube-proxy.log" | cut -c1-400 >&2
  kill -CONT "$proxy_pid" 2>/dev/null || true
  kill -QUIT "$proxy_pid" 2>/dev/null || return 0
  sleep 5
  echo "---- kube-proxy goroutines in the proxier (SIGQUIT)" >&2
  tail -n "+$(( before + 1 ))" "$W/kube-proxy.log" | awk -v RS= '/syncProxyRules|BoundedFrequencyRunner|netlink|moby\/ipvs/' | head -n 300 >&2
}

# The barrier: an EndpointSlice per family of a Service that does not exist. Each proxier tracks
# its family's (and queues a sync for every change of it) but programs nothing for it.
barrier_count=0
barrier() {
  barrier_count=$(( barrier_count + 1 ))
  local family body
  for family in IPv4 IPv6; do
    if [ "$family" = IPv4 ]; then body=$(printf '10.255.%d.%d' $(( barrier_count / 250 )) $(( barrier_count % 250 + 1 )))
    else body=$(printf 'fd00:255::%x' "$barrier_count"); fi
    printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"oracle-barrier-%s","namespace":"default","labels":{"kubernetes.io/service-name":"oracle-barrier","endpointslice.kubernetes.io/managed-by":"kube-local-up-oracle"}},"addressType":"%s","ports":[{"name":"","port":9,"protocol":"TCP"}],"endpoints":[{"addresses":["%s"]}]}' \
      "${family,,}" "$family" "$body" >"$W/barrier.json"
    if [ "$barrier_count" = 1 ]; then api POST /apis/discovery.k8s.io/v1/namespaces/default/endpointslices "$W/barrier.json" >/dev/null
    else api PUT "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/oracle-barrier-${family,,}" "$W/barrier.json" >/dev/null; fi
  done
}

# Waits until kube-proxy has received at least $1 Service and $2 EndpointSlice change events in
# total (moment R), then until two syncs of each proxier have ended after R: a proxier's syncs run
# one at a time, so its second one started after R and programmed every change. The barrier
# guarantees a sync of each after R; the periodic sync (ipvs.syncPeriod) brings the other if nothing else does.
# Lets the paused kube-proxy go on and waits until it has seen every event made meanwhile.
resume_and_sync() {
  kill -CONT "$proxy_pid"
  log "waiting for $1"
  wait_synced "$want_services" "$want_slices"
}

wait_synced() {
  local want_services=$1 want_slices=$2 deadline=$(( $(date +%s) + SYNC_TIMEOUT )) r4= r6= s e c4 c6 f l t
  while :; do
    scrape || fail "cannot read kube-proxy's metrics"
    read -r s e c4 c6 f l <<<"$(sync_metrics)"
    # Read the log only until the label is there (it is, after start_proxy): the log grows with every sync.
    [ "${t:-0}" -ge "$f" ] || t=$(topology_seen)
    if [ -z "$r4" ]; then
      if [ "$s" -ge "$want_services" ] && [ "$e" -ge "$want_slices" ] && [ "$t" -ge "$f" ]; then
        r4=$c4 r6=$c6
        barrier
        log "kube-proxy received every change and its Node (syncs so far: IPv4 $c4, IPv6 $c6; $f proxiers, labelled $l; zone label in $t)"
      fi
    elif [ "$l" = 0 ]; then
      # NOTE: without ip_family labels (kube-proxy 1.29: pkg/proxy/metrics/metrics.go has none), the
      # proxiers share one sync count (and one last-queued gauge): wait for twice as many syncs.
      [ "$c4" -lt $(( r4 + 4 )) ] || return 0
    elif [ "$f" -lt 2 ]; then
      [ "$c4" -lt $(( r4 + 2 )) ] || return 0
    else
      [ "$c4" -lt $(( r4 + 2 )) ] || [ "$c6" -lt $(( r6 + 2 )) ] || return 0
    fi
    kill -0 "$proxy_pid" 2>/dev/null || fail "kube-proxy exited"
    if [ "$(date +%s)" -ge "$deadline" ]; then
      dump_proxy
      fail "kube-proxy did not sync within ${SYNC_TIMEOUT}s (want $want_services service and $want_slices slice events and the Node's zone label in every proxier; have $s $e, labels in $t; syncs IPv4 $c4 IPv6 $c6 since ${r4:-?} ${r6:-?})"
    fi
    sleep 0.5
  done
}

# Changes seen so far: the baseline each case adds its own events to.
totals() { scrape; read -r services slices _ _ families _ <<<"$(sync_metrics)"; }

# Creates the cases of the metadata files given (kube-proxy paused meanwhile: it would otherwise
# sync after nearly every request and starve the emulated CPUs; its watches resume where they
# stopped, so it sees every event), waits for kube-proxy's sync, and prints the state with section
# prefix $1: the cluster, /proc/net/ip_vs, the addresses, then the altered table.
run_cases() {
  local prefix=$1 meta name
  shift
  totals
  want_services=$services want_slices=$slices
  t0=$(now)
  kill -STOP "$proxy_pid"
  for meta in "$@"; do
    # Written by the host (src/oracle/cases.ts): NAMESPACES, CREATE ("METHOD PATH [FILE [TYPE]]" each),
    # VIPS (how the case's ClusterIPs start a virtual server), SERVICE_EVENTS, SLICE_EVENTS.
    # shellcheck disable=SC1090
    . "$meta"
    name=$(basename "$meta" .sh)
    name=${name#"$prefix"}
    log "creating $name"
    for ns in "${NAMESPACES[@]}"; do
      if [ "$ns" != default ] && ! api GET "/api/v1/namespaces/$ns" >/dev/null 2>&1; then
        echo "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}" >"$W/ns.json"
        api POST /api/v1/namespaces "$W/ns.json" >/dev/null || fail "case $name: namespace $ns"
      fi
    done
    rejected=
    if ! api_batch "${CREATE[@]}"; then
      cat "$W/response" >&2
      # A case that says some API servers refuse it is reported, not fatal (the host judges it).
      [ "$MAY_BE_REJECTED" = 1 ] || fail "case $name: $batch_failed"
      rejected="$batch_failed: $(head -c 400 "$W/response" | tr -d '\n')"
    fi
    if [ -n "$rejected" ]; then
      echo "$name $rejected" >>"$W/${prefix}rejected"
      log "the API server refused $name"
      continue
    fi
    want_services=$(( want_services + families * SERVICE_EVENTS ))
    want_slices=$(( want_slices + SLICE_EVENTS ))
  done
  resume_and_sync "kube-proxy's sync"
  log "synced"
  section "${prefix}snapshot"
  awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.1f\n", a - b }'
  # What `kubectl get services,endpointslices -A -o json` reads, as two lists (the host joins them).
  section "${prefix}services"; api GET /api/v1/services; echo
  section "${prefix}endpointslices"; api GET /apis/discovery.k8s.io/v1/endpointslices; echo
  section "${prefix}rejected"; cat "$W/${prefix}rejected" 2>/dev/null || true
  section "${prefix}ipvs"; cat /proc/net/ip_vs
  section "${prefix}addresses"; ip -o addr show

  # The altered table, per case: one real server of its ClusterIPs deleted, one of its ClusterIP
  # virtual servers switched to wrr; kube-proxy is stopped so it cannot repair the table while we read.
  kill -STOP "$proxy_pid"
  ipvsadm -Sn >"$W/save"
  section "${prefix}altered"
  local removed edited vip
  for meta in "$@"; do
    # shellcheck disable=SC1090
    . "$meta"
    name=$(basename "$meta" .sh)
    name=${name#"$prefix"}
    removed= edited=
    for vip in "${VIPS[@]}"; do
      [ -n "$removed" ] || removed=$(awk -v vip="$vip" '$1 == "-a" && index($3, vip) == 1 { print $2, $3, $4, $5; exit }' "$W/save")
      [ -n "$edited" ] || edited=$(awk -v vip="$vip" '$1 == "-A" && index($3, vip) == 1 { print; exit }' "$W/save")
    done
    echo "removed $name $removed"
    echo "edited $name $edited"
    # shellcheck disable=SC2086
    [ -z "$removed" ] || ipvsadm -d $removed
    # shellcheck disable=SC2086
    [ -z "$edited" ] || ipvsadm $(echo "$edited" | sed -e 's/^-A /-E /' -e 's/ -s [a-z]*/ -s wrr/')
  done
  section "${prefix}ipvs-altered"; cat /proc/net/ip_vs
  kill -CONT "$proxy_pid"
}

section version; echo "$proxy_version"
section hz; sed -n 's/^CONFIG_HZ=//p' "/boot/config-$(uname -r)" 2>/dev/null || true

# ---- the nodePortAddresses groups: each with its own kube-proxy configuration and its cases alone;
# the cases are deleted after their run, so the next kube-proxy starts without them.
GROUP_IDS=()
# shellcheck disable=SC1091
[ ! -f "$CASES/groups.sh" ] || . "$CASES/groups.sh"
for group in "${GROUP_IDS[@]}"; do
  metas=("$CASES/group-$group-"oracle-[0-9]*.sh)
  [ -e "${metas[0]}" ] || continue
  start_proxy "$CASES/kube-proxy-group-$group.yaml"
  run_cases "group-$group-" "${metas[@]}"
  removals=()
  for meta in "${metas[@]}"; do
    # shellcheck disable=SC1090
    . "$meta"
    removals+=("${REMOVE[@]}")
  done
  api_batch "${removals[@]}" || log "cleaning up group $group: $batch_failed (ignored)"
done

# ---- every other case at once, with the default configuration: the cases use their own names,
# ClusterIPs and NodePorts, so one sync serves them all and the host judges each case by its own Services.
start_proxy "$PROXY_CONFIG"
run_cases "" "$CASES"/oracle-[0-9]*.sh

# ---- the second state: the cases' "then" changes (scale down, an endpoint starting to terminate,
# a Service deleted, a port renamed) applied to the running kube-proxy, which must also have
# repaired the altered table by then. Files then-oracle-NN-name.sh (src/oracle/cases.ts): THEN
# ("METHOD PATH [FILE [TYPE]]" each), THEN_SERVICE_EVENTS, THEN_SLICE_EVENTS.
then_files=("$CASES"/then-oracle-[0-9]*.sh)
if [ -e "${then_files[0]}" ]; then
  totals
  want_services=$services want_slices=$slices
  kill -STOP "$proxy_pid"
  for meta in "${then_files[@]}"; do
    # shellcheck disable=SC1090
    . "$meta"
    name=$(basename "$meta" .sh)
    name=${name#then-}
    if grep -q "^$name " "$W/rejected" 2>/dev/null; then continue; fi
    log "changing $name"
    for request in "${THEN[@]}"; do
      # shellcheck disable=SC2086
      set -- $request
      api "$1" "$2" ${3:+"$CASES/$3"} ${4:+"$4"} >"$W/response" || { cat "$W/response" >&2; fail "case $name, then: $request"; }
    done
    want_services=$(( want_services + families * THEN_SERVICE_EVENTS ))
    want_slices=$(( want_slices + THEN_SLICE_EVENTS ))
  done
  resume_and_sync "kube-proxy's sync of the changes"
  section then-services; api GET /api/v1/services; echo
  section then-endpointslices; api GET /apis/discovery.k8s.io/v1/endpointslices; echo
  section then-ipvs; cat /proc/net/ip_vs
  section then-addresses; ip -o addr show
fi
section proxy-log; grep -v '^I' "$W/kube-proxy.log" | tail -n 40 || true
section end
