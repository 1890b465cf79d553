#!/usr/bin/env bash
# Runs inside ONE lab VM for the scale bench (scripts/bench-kube-proxy.mjs starts it): a real
# kube-proxy in IPVS mode on the lab's kernel, reaching the API server that runs on the host
# through the VM's only network path (qemu user-mode network, restrict=on, one forward to
# LAB_NET.forwardAddress:6443). The Services and EndpointSlices exist before kube-proxy starts,
# so its first sync programs all of them. The script times kube-proxy from its start until that
# sync has ended (its /metrics, never a sleep) and the table has every line, stops kube-proxy,
# then times `local-up assert` against its floor (node start + reading /proc/net/ip_vs +
# JSON.parse of the cluster dump), alternating, and prints the table for the host's offline run.
#
# usage: kube-proxy-guest.sh BIN_DIR IO_DIR GUEST_IP PREFIX_LENGTH WANT_LINES NODE_NAME RUNS [SYNC_TIMEOUT]
# Output on stdout: "measure value" lines, then "@@bench ip_vs" and the table; progress on stderr.
set -euo pipefail

BIN=$1
IO=$2
GUEST_IP=$3
PREFIX=$4
WANT_LINES=$5
NODE_NAME=$6
RUNS=$7
W=/run/bench
POD_CIDR=10.244.0.0/16
METRICS=http://127.0.0.1:10249/metrics
# Seconds: kube-proxy's start and first sync of every Service under software emulation (the host
# gives what the VM's own deadline leaves).
PROXY_SYNC_TIMEOUT=${8:-2400}
POLL_SECONDS=2

log() { echo "bench-guest: $(date +%T) $*" >&2; }
ns() { date +%s%N; }
ms_since() { echo $(( ($(ns) - $1) / 1000000 )); }
fail() {
  log "FAILED: $*"
  [ -f "$W/kube-proxy.log" ] && { echo "---- last lines of kube-proxy.log" >&2; tail -n 30 "$W/kube-proxy.log" >&2; }
  exit 1
}
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

mkdir -p "$W"
# ---- the network: the virtio card (a module in Debian's kernel), the pod network on a dummy
# interface (IPVS refuses real servers it has no route to).
modprobe virtio_net
card=
for dev in /sys/class/net/*; do [ -e "$dev/device" ] && card=${dev##*/}; done
[ -n "$card" ] || fail "no network card in the VM"
ip link set lo up
ip link set "$card" up
ip addr add "$GUEST_IP/$PREFIX" dev "$card"
ip link add bench0 type dummy
ip link set bench0 up
ip route add "$POD_CIDR" dev bench0
modprobe -a ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack
cp "$IO/cluster.json" "$W/cluster.json"
# The forward works before kube-proxy relies on it: one request through it, timed.
token=$(sed -n 's/.*token: "\(.*\)"}.*/\1/p' "$IO/kubeconfig")
server=$(sed -n 's/.*server: "\([^"]*\)".*/\1/p' "$IO/kubeconfig")
t=$(ns)
curl -sk --fail --max-time 120 -o /dev/null -H "Authorization: Bearer $token" "$server/readyz" || fail "the API server at $server is not reachable from the VM"
log "the API server answers through the forward ($(ms_since "$t") ms for /readyz, curl's start included)"
hz=$(sed -n 's/^CONFIG_HZ=//p' "/boot/config-$(uname -r)" 2>/dev/null || true)
echo "hz ${hz:-250}"

# ---- kube-proxy, timed from its start to the end of the first sync that left every line in the table.
# One metric of the IPv4 proxier (0 when absent). NOTE: on a host with IPv6 kube-proxy runs one proxier
# per family and labels their metrics ip_family (pkg/proxy/metrics/metrics.go, 1.30+); the Services here are IPv4.
metric() { awk -v name="$1" '($1 == name || index($1, name "{") == 1) && ($1 !~ /ip_family=/ || $1 ~ /ip_family="IPv4"/) { v = $2 } END { print v == "" ? 0 : v }' "$W/metrics"; }
echo "proxy-version-$("$BIN/kube-proxy" --version | tr ' ' '-') 1"
start=$(ns)
start_s=$(awk -v n="$start" 'BEGIN { printf "%.3f", n / 1e9 }')
"$BIN/kube-proxy" --config "$IO/kube-proxy.yaml" --v=2 >"$W/kube-proxy.log" 2>&1 &
proxy_pid=$!
pids+=($proxy_pid)
log "kube-proxy started; waiting for its first full sync ($WANT_LINES table lines)"
first_end= first_duration= lines=0 notes=0 next_note=$(( $(date +%s) + 60 ))
while :; do
  if [ "$(date +%s)" -ge "$next_note" ]; then
    next_note=$(( $(date +%s) + 60 )) notes=$(( notes + 1 ))
    # NOTE: the IPVS table fills long before the first sync ends: the sync then runs one `ipset add`
    # process per entry (pkg/proxy/ipvs/ipset.go syncIPSetEntries, v1.34.11), two per ClusterIP
    # (KUBE-CLUSTER-IP and KUBE-IPVS-IPS), so the ipsets' size is the progress.
    log "still waiting ($(wc -l </proc/net/ip_vs) of $WANT_LINES table lines, $(ipset list -t 2>/dev/null | awk '/^Number of entries:/ { n += $4 } END { print n + 0 }') ipset entries so far); kube-proxy's last log line: $(tail -n 1 "$W/kube-proxy.log" | cut -c1-300)"
    # Every five minutes, more of its log (what it waits for is rarely on the last line).
    [ $(( notes % 5 )) != 2 ] || grep -v 'Not syncing ipvs rules' "$W/kube-proxy.log" | tail -n 25 | cut -c1-300 >&2
  fi
  kill -0 "$proxy_pid" 2>/dev/null || fail "kube-proxy exited"
  [ $(( ($(ns) - start) / 1000000000 )) -lt "$PROXY_SYNC_TIMEOUT" ] || fail "kube-proxy did not program the table within ${PROXY_SYNC_TIMEOUT}s (lines: $lines of $WANT_LINES)"
  if curl -sf --max-time 30 "$METRICS" >"$W/metrics"; then
    count=$(metric kubeproxy_sync_proxy_rules_duration_seconds_count)
    if [ -z "$first_end" ] && [ "${count%.*}" -ge 1 ]; then
      # NOTE: the last-sync timestamp and duration sum are the first sync's only while the count is 1.
      if [ "${count%.*}" = 1 ]; then
        first_end=$(metric kubeproxy_sync_proxy_rules_last_timestamp_seconds)
        first_duration=$(metric kubeproxy_sync_proxy_rules_duration_seconds_sum)
      else
        first_end=unknown
      fi
      log "kube-proxy's first sync ended (syncs: $count)"
    fi
    if [ -n "$first_end" ]; then
      lines=$(wc -l </proc/net/ip_vs)
      [ "$lines" -lt "$WANT_LINES" ] || break
      log "table: $lines of $WANT_LINES lines"
    fi
  fi
  sleep "$POLL_SECONDS"
done
echo "proxy-seen-complete-ms $(ms_since "$start")"
if [ "$first_end" != unknown ]; then
  awk -v a="$first_end" -v b="$start_s" 'BEGIN { printf "proxy-first-sync-end-ms %.0f\n", (a - b) * 1000 }'
  awk -v d="$first_duration" 'BEGIN { printf "proxy-first-sync-duration-ms %.0f\n", d * 1000 }'
fi
# kube-proxy's own timeline: informer caches synced (klog time of day, same clock).
synced=$(grep -m1 -E 'Caches are synced.*(service|endpoint slice) config' "$W/kube-proxy.log" | awk '{ print $2 }' || true)
if [ -n "$synced" ]; then
  awk -v t="$synced" -v b="$start_s" 'BEGIN { split(t, p, ":"); s = p[1] * 3600 + p[2] * 60 + p[3]; d = b % 86400; printf "proxy-first-cache-synced-ms %.0f\n", (s - d) * 1000 }'
fi
synced=$(grep -E 'Caches are synced.*(service|endpoint slice) config' "$W/kube-proxy.log" | tail -n 1 | awk '{ print $2 }' || true)
if [ -n "$synced" ]; then
  awk -v t="$synced" -v b="$start_s" 'BEGIN { split(t, p, ":"); s = p[1] * 3600 + p[2] * 60 + p[3]; d = b % 86400; printf "proxy-caches-synced-ms %.0f\n", (s - d) * 1000 }'
fi
curl -sf --max-time 30 "$METRICS" >"$W/metrics" && echo "proxy-syncs $(metric kubeproxy_sync_proxy_rules_duration_seconds_count)"

# ---- kube-proxy stopped: nothing changes the table or competes for the CPUs while assert runs.
kill -STOP "$proxy_pid"
echo "table-lines $(wc -l </proc/net/ip_vs)"
floor() { node hack/bench/assert-floor.mjs /proc/net/ip_vs "$W/cluster.json"; }
assert_node() { node bin/local-up.js assert --ipvs /proc/net/ip_vs --hz "${hz:-250}" --cluster "$W/cluster.json" --node-name "$NODE_NAME" --node-ip "$GUEST_IP" "$@"; }
# One untimed run of each first (node's binary and our dist/ into the guest's page cache), and the verdict.
floor
if ! assert_node >"$W/assert.txt" 2>&1; then
  echo "@@bench assert-failed"
  head -n 60 "$W/assert.txt"
  echo "@@bench end"
  fail "local-up assert found differences between kube-proxy's table and the model"
fi
echo "assert-ok 1"
for _ in $(seq "$RUNS"); do
  t=$(ns); floor; echo "floor-ms $(ms_since "$t")"
  t=$(ns); assert_node >/dev/null; echo "assert-ms $(ms_since "$t")"
done
echo "@@bench ip_vs"
cat /proc/net/ip_vs
echo "@@bench end"
