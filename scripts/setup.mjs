#!/usr/bin/env node
// npm run setup: the real binaries the tests run (layer 3), installed the way a user
// would install them: `local-up tools install kubernetes --from-source` for KUBE_VERSION
// (or --k8s-version V) and `local-up tools install kind --from-source`, with Go from
// the module proxy. Idempotent: an installed set is reused, Go's caches make a rebuild
// quick. Needs Go (go on PATH or /usr/local/go/bin/go, or GO=...).
import { $, argv, chalk } from 'zx';

$.verbose = false;
$.stdio = ['ignore', 'inherit', 'inherit'];
const version = argv['k8s-version'] ?? process.env.REAL_K8S_VERSION;
const versionArgs = version === undefined ? [] : ['--k8s-version', String(version)];
const cli = ['bin/local-up.js'];

const started = Date.now();
process.stderr.write(chalk.bold('setup: real Kubernetes binaries (a cold build takes 20-30 minutes on 2 cores)\n'));
await $`node ${cli} tools install kubernetes --from-source ${versionArgs}`;
process.stderr.write(chalk.bold("setup: etcd, the version that release's hack/lib/etcd.sh names, built from source\n"));
await $`node ${cli} tools install etcd --from-source ${versionArgs}`;
process.stderr.write(chalk.bold('setup: the pinned kind, built from source\n'));
await $`node ${cli} tools install kind --from-source`;
await $`node ${cli} tools list`;
process.stderr.write(`setup: done in ${Math.round((Date.now() - started) / 1000)}s\n`);
