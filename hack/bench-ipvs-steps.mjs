#!/usr/bin/env node
// Times the pure steps of an assert in one process: parse the table, read the
// cluster JSON, compute the expected state, diff. Prints "step ms" lines.
// Usage: node hack/bench-ipvs-steps.mjs TABLE CLUSTER NODE_IP [HZ]
import { readFileSync } from 'node:fs';
import { checkNodeIpvs } from '../dist/ipvs/diff.js';
import { expectIpvsState } from '../dist/ipvs/expect.js';
import { readIpvsText } from '../dist/ipvs/read.js';
import { readClusterJson } from '../dist/kube/read.js';
import { diffIpvsState } from '../dist/ipvs/diff.js';

const [tablePath, clusterPath, nodeIp, hz = '250'] = process.argv.slice(2);
const time = (name, work) => {
  const started = process.hrtime.bigint();
  const value = work();
  console.log(`${name} ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)}`);
  return value;
};
const tableText = readFileSync(tablePath, 'utf8');
const clusterText = readFileSync(clusterPath, 'utf8');
const table = time('parse', () => readIpvsText(tableText, { hz: Number(hz) }));
const cluster = time('cluster-json', () => readClusterJson(clusterText, clusterPath));
const node = { name: 'bench-node', addresses: [nodeIp], nodePortAddresses: [], scheduler: 'rr', family: 4 };
const expected = time('expect', () => expectIpvsState(cluster, node));
const diff = time('diff', () => diffIpvsState(expected, table, { excludeCidrs: [] }));
if (!diff.ok) {
  console.error(`the benchmark table does not match its cluster: ${diff.failures} failures`);
  process.exit(1);
}
void checkNodeIpvs;
