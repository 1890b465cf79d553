#!/usr/bin/env node
// Writes a synthetic cluster of N Services × E endpoints and the ipvsadm rule
// file kube-proxy would program for it, for the IPVS benchmark. The rules are
// written by this loop directly, never by kube-local-up's expect model, so the
// benchmark's assert really compares two independent descriptions.
// Usage: node hack/gen-ipvs-scale.mjs DIR [SERVICES=10000] [ENDPOINTS=3]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, servicesArg = '10000', endpointsArg = '3'] = process.argv.slice(2);
if (dir === undefined) {
  console.error('usage: node hack/gen-ipvs-scale.mjs DIR [SERVICES] [ENDPOINTS]');
  process.exit(2);
}
const services = Number(servicesArg);
const endpoints = Number(endpointsArg);
const ip = (base, n) => `${base}.${(n >> 8) & 255}.${n & 255}`;

const items = [];
const rules = [];
let pod = 1;
for (let i = 0; i < services; i++) {
  const vip = ip('10.100', i + 1);
  const name = `svc-${i}`;
  const addresses = [];
  for (let e = 0; e < endpoints; e++) addresses.push(ip('10.244', pod++));
  items.push({
    apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'bench', name },
    spec: { type: 'ClusterIP', clusterIP: vip, clusterIPs: [vip], ipFamilies: ['IPv4'], sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] },
  });
  items.push({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { namespace: 'bench', name: `${name}-x1`, labels: { 'kubernetes.io/service-name': name } },
    endpoints: addresses.map((address) => ({ addresses: [address], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'bench-node' })),
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  });
  rules.push(`-A -t ${vip}:80 -s rr`);
  for (const address of addresses) rules.push(`-a -t ${vip}:80 -r ${address}:8080 -m -w 1`);
}
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
writeFileSync(join(dir, 'rules.txt'), `${rules.join('\n')}\n`);
console.log(`wrote ${services} Services with ${endpoints} endpoints each, ${rules.length} rule lines, to ${dir}`);
