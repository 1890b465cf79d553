#!/usr/bin/env node
// npm run test:real -- [--k8s-version V]: the real-component tests (test/real-*.test.ts)
// against Kubernetes V, building that release first when it is not installed yet.
// CI runs them for the default KUBE_VERSION inside `npm test`; this runs any other.
import { $, argv } from 'zx';

$.stdio = ['ignore', 'inherit', 'inherit'];
const version = argv['k8s-version'] ?? process.env.REAL_K8S_VERSION;
const versionArgs = version === undefined ? [] : ['--k8s-version', String(version)];
await $`node bin/local-up.js tools install kubernetes --from-source ${versionArgs}`;
await $`node bin/local-up.js tools install kind --from-source`;
const env = { ...process.env, REAL_BINARIES_REQUIRED: '1', ...(version === undefined ? {} : { REAL_K8S_VERSION: String(version) }) };
const tests = (await $`ls test`).stdout.split('\n').filter((f) => /^real-.*\.test\.ts$/.test(f)).map((f) => `test/${f}`);
await $({ env })`node --import tsx --test ${tests}`;
