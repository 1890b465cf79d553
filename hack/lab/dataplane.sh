#!/bin/bash
# Data-plane fixture, run INSIDE the lab VM as root (see src/lab/dataplane.ts):
# a kube-ipvs0 dummy holding a /32 service address, a bridge with N network
# namespaces as "pods" each serving its own name, one IPVS virtual service in
# NAT (masquerade) mode over them, then traffic through the service address.
# Prints one JSON report line on stdout (written by traffic.mjs); logs on stderr.
set -euo pipefail

pods=3 scheduler=rr protocol=tcp persistence=0 requests=0 vip= port=80 target_port=8080 instance=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pods) pods=$2 ;;
    --scheduler) scheduler=$2 ;;
    --protocol) protocol=$2 ;;
    --persistence) persistence=$2 ;;
    --requests) requests=$2 ;;
    --vip) vip=$2 ;;
    --port) port=$2 ;;
    --target-port) target_port=$2 ;;
    --instance) instance=$2 ;;
    *) echo "dataplane.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
case "$protocol" in tcp) flag=-t ;; udp) flag=-u ;; *) echo "dataplane.sh: --protocol must be tcp or udp" >&2; exit 2 ;; esac
[[ "$pods" =~ ^[1-9][0-9]?$ ]] && [ "$pods" -le 50 ] || { echo "dataplane.sh: --pods must be 1..50" >&2; exit 2; }
[[ "$instance" =~ ^[0-9]$ ]] || { echo "dataplane.sh: --instance must be 0..9" >&2; exit 2; }
[ "$requests" -gt 0 ] || requests=$((pods * 4))
# Each instance has its own bridge, subnet, pod names and (by default) service address, so one VM can hold several.
[ -n "$vip" ] || vip="10.96.0.$((10 + instance))"
bridge="lab-br$instance" subnet="10.244.$instance" prefix=$([ "$instance" -eq 0 ] && echo pod || echo "i$instance-pod")
here=$(cd "$(dirname "$0")" && pwd)
log() { echo "dataplane: $*" >&2; }

servers=()
trap 'for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

modprobe -a ip_vs "ip_vs_$scheduler" nf_conntrack dummy veth bridge

# Like kube-proxy: a dummy interface holds every service address as a local /32 (it stays down).
ip link show kube-ipvs0 >/dev/null 2>&1 || ip link add kube-ipvs0 type dummy
ip addr add "$vip/32" dev kube-ipvs0
ip link add "$bridge" type bridge
ip addr add "$subnet.1/24" dev "$bridge"
ip link set "$bridge" up

pod_ips=()
for i in $(seq 1 "$pods"); do
  name="$prefix-$i" ip="$subnet.$((10 + i))"
  ip netns add "$name"
  ip link add "veth-$instance-$i" type veth peer name eth0 netns "$name"
  ip link set "veth-$instance-$i" master "$bridge" up
  ip -n "$name" addr add "$ip/24" dev eth0
  ip -n "$name" link set lo up
  ip -n "$name" link set eth0 up
  ip -n "$name" route add default via "$subnet.1"
  ip netns exec "$name" node "$here/pod-server.mjs" --name "$name" --protocol "$protocol" --port "$target_port" >&2 &
  servers+=("$!")
  pod_ips+=("$name=$ip")
done
log "started ${#pod_ips[@]} pods: ${pod_ips[*]}"

service_args=("$flag" "$vip:$port" -s "$scheduler")
[ "$persistence" -gt 0 ] && service_args+=(-p "$persistence")
ipvsadm -A "${service_args[@]}"
for entry in "${pod_ips[@]}"; do
  ipvsadm -a "$flag" "$vip:$port" -r "${entry#*=}:$target_port" -m
done
log "virtual service $protocol $vip:$port -s $scheduler$( [ "$persistence" -gt 0 ] && echo " -p $persistence") with ${#pod_ips[@]} masquerading real servers"

node "$here/traffic.mjs" --protocol "$protocol" --vip "$vip" --port "$port" --target-port "$target_port" \
  --requests "$requests" --scheduler "$scheduler" --persistence "$persistence" --pods "$(IFS=,; echo "${pod_ips[*]}")"
