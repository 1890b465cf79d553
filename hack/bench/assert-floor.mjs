#!/usr/bin/env node
// The floor of an offline `local-up assert` (issue 12, the scale bench): what no assert can avoid,
// a node process starting, reading the IPVS table and JSON.parse of the cluster dump. Prints nothing.
// Usage: node hack/bench/assert-floor.mjs TABLE CLUSTER_JSON
import { readFileSync } from 'node:fs';

const [table, cluster] = process.argv.slice(2);
readFileSync(table, 'utf8');
JSON.parse(readFileSync(cluster, 'utf8'));
