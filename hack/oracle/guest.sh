#!/usr/bin/env bash
# Runs inside ONE lab VM (test/oracle/kube-proxy.test.ts starts it): a real etcd,
# a real kube-apiserver and a real kube-proxy in IPVS mode. Then every case's
# Services and EndpointSlices are created through the API (src/oracle/cases.ts
# wrote the requests; the cases never share a name, ClusterIP or NodePort), the
# script waits until kube-proxy has synced them (its /metrics, never a sleep),
# prints the cluster, /proc/net/ip_vs and the interface addresses, then alters
# the table per case (one real server deleted, one scheduler changed) with
# kube-proxy stopped, and prints it again. The host judges everything.
# Requests go through curl: a kubectl start costs tens of seconds under emulation.
#
# usage: guest.sh BIN_DIR CASES_DIR KUBE_PROXY_CONFIG
# Output: "@@oracle <name>" section markers on stdout; progress on stderr.
set -euo pipefail

BIN=$1
CASES=$2
PROXY_CONFIG=$3
W=/tmp/kube-local-up-oracle
NODE_NAME=oracle-node
NODE_IP=192.168.50.10
NODE_ZONE=zone-a
POD_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/16
TOKEN=oracle-admin-token
METRICS=http://127.0.0.1:10249/metrics
# Seconds: each external command, the API server's start, kube-proxy's first sync, one case's sync.
CMD_TIMEOUT=120
API_START_TIMEOUT=900
PROXY_START_TIMEOUT=600
SYNC_TIMEOUT=900

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
ip link set oracle0 up
ip route add "$POD_CIDR" dev oracle0
ip route add default dev oracle0
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
  --authorization-mode=AlwaysAllow --service-cluster-ip-range="$SERVICE_CIDR" \
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

# ---- kube-proxy's Node: its name, its zone (topology hints), its InternalIP.
echo "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$NODE_NAME\",\"labels\":{\"kubernetes.io/hostname\":\"$NODE_NAME\",\"topology.kubernetes.io/zone\":\"$NODE_ZONE\"}}}" >"$W/node.json"
echo "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"$NODE_IP\"},{\"type\":\"Hostname\",\"address\":\"$NODE_NAME\"}]}}" >"$W/node-status.json"
api POST /api/v1/nodes "$W/node.json" >/dev/null || fail "cannot create the Node"
api PATCH "/api/v1/nodes/$NODE_NAME/status" "$W/node-status.json" application/merge-patch+json >/dev/null || fail "cannot set the Node's addresses"

# ---- kube-proxy
proxy_version=$("$BIN/kube-proxy" --version)
log "starting kube-proxy $proxy_version"
"$BIN/kube-proxy" --config "$PROXY_CONFIG" --v=2 >"$W/kube-proxy.log" 2>&1 &
proxy_pid=$!
pids+=($proxy_pid)

# One metric's value (0 when absent).
metric() { awk -v name="$1" '$1 == name || index($1, name "{") == 1 { v = $2 } END { print v == "" ? 0 : v }' "$W/metrics"; }
scrape() { curl -sf --max-time 10 "$METRICS" >"$W/metrics"; }

started=$(date +%s)
until scrape && [ "$(metric kubeproxy_sync_proxy_rules_last_timestamp_seconds)" != 0 ]; do
  kill -0 "$proxy_pid" 2>/dev/null || fail "kube-proxy exited"
  [ $(( $(date +%s) - started )) -lt "$PROXY_START_TIMEOUT" ] || fail "kube-proxy did not sync within ${PROXY_START_TIMEOUT}s"
  sleep 1
done
log "kube-proxy synced after $(( $(date +%s) - started ))s"

# Values of the sync metrics, in one pass: SERVICES SLICES SYNCS FAMILIES LABELLED.
# NOTE: on a host with IPv6, kube-proxy runs one proxier per family (cmd/kube-proxy/app/server_linux.go
# platformCheckSupported); both count every Service event, only the IPv4 one counts IPv4 slices
# (pkg/proxy/endpointschangetracker.go), and per-family metrics carry ip_family. The sync count read
# here is the IPv4 proxier's; FAMILIES is how many proxiers run (each sets its last-queued time at start).
sync_metrics() {
  awk '
    function base(n) { sub(/\{.*/, "", n); return n }
    /ip_family=/ { l = 1 }
    /ip_family="IPv6"/ { if (base($1) == "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds") f++; next }
    base($1) == "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds" { f++ }
    base($1) == "kubeproxy_sync_proxy_rules_service_changes_total" { s = $2 }
    base($1) == "kubeproxy_sync_proxy_rules_endpoint_changes_total" { e = $2 }
    base($1) == "kubeproxy_sync_proxy_rules_duration_seconds_count" { c = $2 }
    END { print s + 0, e + 0, c + 0, (f > 0 ? f : 1), l + 0 }' "$W/metrics"
}

# The barrier: an EndpointSlice of a Service that does not exist. kube-proxy tracks it (and queues a
# sync for every change of it) but programs nothing for it.
barrier_count=0
barrier() {
  barrier_count=$(( barrier_count + 1 ))
  printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"oracle-barrier","namespace":"default","labels":{"kubernetes.io/service-name":"oracle-barrier","endpointslice.kubernetes.io/managed-by":"kube-local-up-oracle"}},"addressType":"IPv4","ports":[{"name":"","port":9,"protocol":"TCP"}],"endpoints":[{"addresses":["10.255.%d.%d"]}]}' \
    $(( barrier_count / 250 )) $(( barrier_count % 250 + 1 )) >"$W/barrier.json"
  if [ "$barrier_count" = 1 ]; then api POST /apis/discovery.k8s.io/v1/namespaces/default/endpointslices "$W/barrier.json" >/dev/null
  else api PUT /apis/discovery.k8s.io/v1/namespaces/default/endpointslices/oracle-barrier "$W/barrier.json" >/dev/null; fi
}

# Waits until kube-proxy has received at least $1 Service and $2 EndpointSlice change events in
# total (moment R), then until two IPv4 syncs have ended after R: syncs run one at a time, so the
# second one started after R and programmed every change. The barrier guarantees a sync after R;
# kube-proxy's periodic sync (ipvs.syncPeriod) brings the other if nothing else does.
wait_synced() {
  local want_services=$1 want_slices=$2 deadline=$(( $(date +%s) + SYNC_TIMEOUT )) received= s e c f l syncs=2
  while :; do
    scrape || fail "cannot read kube-proxy's metrics"
    read -r s e c f l <<<"$(sync_metrics)"
    # NOTE: before ip_family labels (kube-proxy 1.29: pkg/proxy/metrics/metrics.go has none), a
    # dual-stack kube-proxy's two proxiers share one sync count: wait for twice as many syncs.
    [ "$l" = 1 ] || syncs=4
    if [ -z "$received" ]; then
      if [ "$s" -ge "$want_services" ] && [ "$e" -ge "$want_slices" ]; then
        received=$c
        barrier
        log "kube-proxy received every change (IPv4 syncs so far: $c)"
      fi
    elif [ "$c" -ge $(( received + syncs )) ]; then
      return 0
    fi
    kill -0 "$proxy_pid" 2>/dev/null || fail "kube-proxy exited"
    [ "$(date +%s)" -lt "$deadline" ] || fail "kube-proxy did not sync within ${SYNC_TIMEOUT}s (want $want_services service and $want_slices slice events; have $s $e; IPv4 syncs $c)"
    sleep 0.5
  done
}

# Changes seen so far: the baseline each case adds its own events to.
totals() { scrape; read -r services slices _ families _ <<<"$(sync_metrics)"; }

section version; echo "$proxy_version"
section hz; sed -n 's/^CONFIG_HZ=//p' "/boot/config-$(uname -r)" 2>/dev/null || true

# Every case at once: the cases use their own names, ClusterIPs and NodePorts, so one sync serves
# them all and the host judges each case by its own Services.
totals
want_services=$services want_slices=$slices
t0=$(now)
# kube-proxy is paused while the cases are written: it would otherwise sync after nearly every
# request and starve the emulated CPUs. Its watches resume where they stopped, so it sees every event.
kill -STOP "$proxy_pid"
for meta in "$CASES"/oracle-[0-9]*.sh; do
  # Written by the host (src/oracle/cases.ts): NAMESPACES, CREATE ("METHOD PATH [FILE [TYPE]]" each),
  # VIPS (the case's ClusterIPs), SERVICE_EVENTS, SLICE_EVENTS.
  # shellcheck disable=SC1090
  . "$meta"
  name=$(basename "$meta" .sh)
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
    echo "$name $rejected" >>"$W/rejected"
    log "the API server refused $name"
    continue
  fi
  want_services=$(( want_services + families * SERVICE_EVENTS ))
  want_slices=$(( want_slices + SLICE_EVENTS ))
done
kill -CONT "$proxy_pid"
log "waiting for kube-proxy's sync"
wait_synced "$want_services" "$want_slices"
log "synced"
section snapshot
awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.1f\n", a - b }'
# What `kubectl get services,endpointslices -A -o json` reads, as two lists (the host joins them).
section services; api GET /api/v1/services; echo
section endpointslices; api GET /apis/discovery.k8s.io/v1/endpointslices; echo
section rejected; cat "$W/rejected" 2>/dev/null || true
section ipvs; cat /proc/net/ip_vs
section addresses; ip -o addr show

# The altered table, per case: one real server of its ClusterIPs deleted, one of its ClusterIP
# virtual servers switched to wrr; kube-proxy is stopped so it cannot repair the table while we read.
kill -STOP "$proxy_pid"
ipvsadm -Sn >"$W/save"
section altered
for meta in "$CASES"/oracle-[0-9]*.sh; do
  # shellcheck disable=SC1090
  . "$meta"
  name=$(basename "$meta" .sh)
  removed= edited=
  for vip in "${VIPS[@]}"; do
    [ -n "$removed" ] || removed=$(awk -v vip="$vip" '$1 == "-a" && index($3, vip ":") == 1 { print $2, $3, $4, $5; exit }' "$W/save")
    [ -n "$edited" ] || edited=$(awk -v vip="$vip" '$1 == "-A" && index($3, vip ":") == 1 { print; exit }' "$W/save")
  done
  echo "removed $name $removed"
  echo "edited $name $edited"
  # shellcheck disable=SC2086
  [ -z "$removed" ] || ipvsadm -d $removed
  # shellcheck disable=SC2086
  [ -z "$edited" ] || ipvsadm $(echo "$edited" | sed -e 's/^-A /-E /' -e 's/ -s [a-z]*/ -s wrr/')
done
section ipvs-altered; cat /proc/net/ip_vs
kill -CONT "$proxy_pid"

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
  kill -CONT "$proxy_pid"
  log "waiting for kube-proxy's sync of the changes"
  wait_synced "$want_services" "$want_slices"
  section then-services; api GET /api/v1/services; echo
  section then-endpointslices; api GET /apis/discovery.k8s.io/v1/endpointslices; echo
  section then-ipvs; cat /proc/net/ip_vs
  section then-addresses; ip -o addr show
fi
section proxy-log; grep -v '^I' "$W/kube-proxy.log" | tail -n 40 || true
section end
