// The OCI archive writer and the images plan: archives are read back with GNU tar
// (the real reader, not our writer) and every digest is recomputed here from the
// extracted bytes; kubeadm's pins are read from its real constants.go when the
// Kubernetes module is in Go's cache, else from a recorded excerpt.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { archiveFileName, containerdAddress, ctrImportArgs, imageSpecFor, parseLdd, planImages, readKubeadmImagePins } from '../src/tools/images.js';
import { buildOciArchive, layerEntries, splitReference, writeTar } from '../src/tools/oci.js';

const work = mkdtempSync(join(tmpdir(), 'kube-local-up-oci-test-'));
after(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

/** Writes bytes to a file and extracts them with GNU tar into a fresh folder. */
function extract(bytes: Uint8Array): string {
  n += 1;
  const file = join(work, `a${n}.tar`);
  const dir = join(work, `x${n}`);
  writeFileSync(file, bytes);
  execFileSync('mkdir', ['-p', dir]);
  execFileSync('tar', ['-xf', file, '-C', dir]);
  return dir;
}
function listing(bytes: Uint8Array): string[] {
  n += 1;
  const file = join(work, `l${n}.tar`);
  writeFileSync(file, bytes);
  return execFileSync('tar', ['-tvf', file], { encoding: 'utf8' }).trim().split('\n');
}
const sha = (bytes: Uint8Array | Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('writeTar', () => {
  it('writes a ustar archive GNU tar reads back: names, types, modes, sizes, contents', () => {
    const big = new Uint8Array(1300).map((_, i) => i % 251);
    const bytes = writeTar([
      { path: 'etc', content: null, mode: 0o755 },
      { path: 'etc/hello', content: new TextEncoder().encode('hi\n'), mode: 0o644 },
      { path: 'bin', content: new Uint8Array(big), mode: 0o755 },
      { path: 'empty', content: new Uint8Array(0), mode: 0o600 },
    ]);
    assert.equal(bytes.length % 512, 0);
    const lines = listing(bytes);
    assert.equal(lines.length, 4);
    assert.match(lines[0] ?? '', /^drwxr-xr-x .* 0 1970-01-01 00:00 etc\/$/);
    assert.match(lines[1] ?? '', /^-rw-r--r-- .* 3 1970-01-01 00:00 etc\/hello$/);
    assert.match(lines[2] ?? '', /^-rwxr-xr-x .* 1300 1970-01-01 00:00 bin$/);
    assert.match(lines[3] ?? '', /^-rw------- .* 0 1970-01-01 00:00 empty$/);
    const dir = extract(bytes);
    assert.equal(readFileSync(join(dir, 'etc/hello'), 'utf8'), 'hi\n');
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'bin'))), big);
    assert.equal(statSync(join(dir, 'bin')).mode & 0o777, 0o755);
  });

  it('refuses names ustar cannot hold', () => {
    assert.throws(() => writeTar([{ path: 'x'.repeat(101), content: new Uint8Array(1), mode: 0o644 }]), /longer than 100 bytes/);
  });
});

describe('layerEntries', () => {
  it('adds each parent folder once, before its files, in path order', () => {
    const f = (path: string) => ({ path, content: new Uint8Array(0), mode: 0o644 });
    assert.deepEqual(layerEntries([f('usr/bin/b'), f('usr/bin/a'), f('agnhost')]).map((e) => `${e.content === null ? 'd' : 'f'} ${e.path}`), ['f agnhost', 'd usr', 'd usr/bin', 'f usr/bin/a', 'f usr/bin/b']);
  });
  it('refuses absolute, dotted and repeated paths', () => {
    const f = (path: string) => ({ path, content: new Uint8Array(0), mode: 0o644 });
    assert.throws(() => layerEntries([f('/pause')]), /relative and plain/);
    assert.throws(() => layerEntries([f('a/../b')]), /relative and plain/);
    assert.throws(() => layerEntries([f('a'), f('a')]), /listed twice/);
  });
});

describe('buildOciArchive', () => {
  const binary = new TextEncoder().encode('#!not really a binary\n');
  const result = buildOciArchive({ reference: 'registry.k8s.io/pause:3.10.1', architecture: 'amd64', files: [{ path: 'pause', content: binary, mode: 0o755 }], entrypoint: ['/pause'], user: '65535:65535' });
  const dir = extract(result.archive);
  const blob = (digest: string) => readFileSync(join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));

  it('is an OCI image layout: oci-layout, index.json and content-addressed blobs', () => {
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.manifests.length, 1);
    const entry = index.manifests[0];
    assert.equal(entry.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.deepEqual(entry.platform, { architecture: 'amd64', os: 'linux' });
    // containerd's importer names the image from io.containerd.image.name; OCI tools read the tag.
    assert.equal(entry.annotations['io.containerd.image.name'], 'registry.k8s.io/pause:3.10.1');
    assert.equal(entry.annotations['org.opencontainers.image.ref.name'], '3.10.1');
    const manifestBytes = blob(entry.digest);
    assert.equal(sha(manifestBytes), entry.digest);
    assert.equal(manifestBytes.length, entry.size);
    assert.equal(entry.digest, result.manifestDigest);
  });

  it('the manifest points at the config and the layer by their real digests and sizes', () => {
    const manifest = JSON.parse(blob(result.manifestDigest).toString('utf8'));
    assert.equal(manifest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.equal(sha(blob(manifest.config.digest)), manifest.config.digest);
    assert.equal(blob(manifest.config.digest).length, manifest.config.size);
    assert.equal(manifest.layers.length, 1);
    const layer = manifest.layers[0];
    assert.equal(layer.mediaType, 'application/vnd.oci.image.layer.v1.tar');
    assert.equal(sha(blob(layer.digest)), layer.digest);
    assert.equal(blob(layer.digest).length, layer.size);
  });

  it('the config runs /pause as 65535 and its diff_id is the uncompressed layer digest', () => {
    const config = JSON.parse(blob(result.configDigest).toString('utf8'));
    assert.equal(config.os, 'linux');
    assert.equal(config.architecture, 'amd64');
    assert.deepEqual(config.config.Entrypoint, ['/pause']);
    assert.equal(config.config.User, '65535:65535');
    assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: [sha(blob(result.layerDigest))] });
  });

  it('the layer holds the binary, executable', () => {
    const layerDir = extract(new Uint8Array(blob(result.layerDigest)));
    assert.deepEqual(new Uint8Array(readFileSync(join(layerDir, 'pause'))), binary);
    assert.equal(statSync(join(layerDir, 'pause')).mode & 0o777, 0o755);
  });

  it('is reproducible: the same input gives the same bytes', () => {
    const again = buildOciArchive({ reference: 'registry.k8s.io/pause:3.10.1', architecture: 'amd64', files: [{ path: 'pause', content: binary, mode: 0o755 }], entrypoint: ['/pause'], user: '65535:65535' });
    assert.equal(sha(again.archive), sha(result.archive));
  });
});

describe('image references and the plan', () => {
  it('splits name and tag, with a registry port', () => {
    assert.deepEqual(splitReference('registry.k8s.io/coredns/coredns:v1.12.1'), { name: 'registry.k8s.io/coredns/coredns', tag: 'v1.12.1' });
    assert.deepEqual(splitReference('localhost:5000/agnhost:2.53'), { name: 'localhost:5000/agnhost', tag: '2.53' });
    assert.throws(() => splitReference('localhost:5000/agnhost'), /needs a tag/);
    assert.throws(() => splitReference('agnhost@sha256:abcd'), /needs a tag/);
  });

  it('names archives after the reference', () => {
    assert.equal(archiveFileName('registry.k8s.io/coredns/coredns:v1.12.1'), 'registry.k8s.io_coredns_coredns_v1.12.1.oci.tar');
  });

  it('plans the cluster\'s own references, or a subset', () => {
    const pins = { pause: '3.10.1', coredns: 'v1.12.1' };
    const all = planImages({ pins, corednsImage: 'registry.k8s.io/coredns/coredns:v1.12.1', agnhostImage: 'registry.k8s.io/e2e-test-images/agnhost:2.53', only: [] });
    assert.deepEqual(all.map((r) => r.reference), ['registry.k8s.io/pause:3.10.1', 'registry.k8s.io/coredns/coredns:v1.12.1', 'registry.k8s.io/e2e-test-images/agnhost:2.53']);
    assert.deepEqual(planImages({ pins, corednsImage: 'c:1', agnhostImage: 'a:1', only: ['agnhost'] }).map((r) => r.name), ['agnhost']);
    assert.throws(() => planImages({ pins, corednsImage: 'coredns', agnhostImage: 'a:1', only: [] }), /needs a tag/);
  });

  it('gives each image its upstream entrypoint', () => {
    const b = new Uint8Array(1);
    assert.deepEqual(imageSpecFor('agnhost', 'a:1', b, 'amd64', 'o').cmd, ['pause']);
    assert.deepEqual(imageSpecFor('agnhost', 'a:1', b, 'amd64', 'o').entrypoint, ['/agnhost']);
    assert.deepEqual(imageSpecFor('coredns', 'c:1', b, 'amd64', 'o').entrypoint, ['/coredns']);
    assert.equal(imageSpecFor('pause', 'p:1', b, 'amd64', 'o').user, '65535:65535');
  });

  it('imports into the k8s.io namespace at the CRI socket', () => {
    assert.equal(containerdAddress('unix:///run/containerd/containerd.sock'), '/run/containerd/containerd.sock');
    assert.deepEqual(ctrImportArgs('/run/c.sock', '/x.tar'), ['--address', '/run/c.sock', '--namespace', 'k8s.io', 'images', 'import', '/x.tar']);
  });
});

describe('readKubeadmImagePins', () => {
  it('reads PauseVersion and CoreDNSVersion (excerpt of constants.go, Kubernetes 1.34)', () => {
    const excerpt = '\t// CoreDNSVersion is the version of CoreDNS to be deployed if it is used\n\tCoreDNSVersion = "v1.12.1"\n\n\t// PauseVersion indicates the default pause image version for kubeadm\n\tPauseVersion = "3.10.1"\n';
    assert.deepEqual(readKubeadmImagePins(excerpt), { pause: '3.10.1', coredns: 'v1.12.1' });
    assert.equal(readKubeadmImagePins('PauseVersion = "3.10.1"'), null);
  });

  const constants = join(process.env.GO_CACHE_DIR ?? join(homedir(), '.cache', 'kube-local-up', 'go'), 'mod', 'k8s.io', 'kubernetes@v1.34.11', 'cmd', 'kubeadm', 'app', 'constants', 'constants.go');
  it('reads the real constants.go of k8s.io/kubernetes v1.34.11', { skip: existsSync(constants) ? false : 'k8s.io/kubernetes@v1.34.11 is not in Go\'s module cache (npm run setup)' }, () => {
    const pins = readKubeadmImagePins(readFileSync(constants, 'utf8'));
    assert.ok(pins !== null);
    assert.match(pins.pause, /^\d+\.\d+(\.\d+)?$/);
    assert.match(pins.coredns, /^v\d+\.\d+\.\d+$/);
  });
});

describe('parseLdd', () => {
  it('lists the resolved libraries and the loader, not the vDSO (ldd /usr/bin/dig, Debian 12, excerpt)', () => {
    const text = [
      '\tlinux-vdso.so.1 (0x00007f7b5ff52000)',
      '\tlibjemalloc.so.2 => /lib/x86_64-linux-gnu/libjemalloc.so.2 (0x00007f7b5fc00000)',
      '\tlibisc-9.18.49-1~deb12u3-Debian.so => /lib/x86_64-linux-gnu/libisc-9.18.49-1~deb12u3-Debian.so (0x00007f7b5fb66000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f7b5f61e000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f7b5ff54000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f7b5f61e000)',
      '',
    ].join('\n');
    assert.deepEqual(parseLdd(text), ['/lib/x86_64-linux-gnu/libjemalloc.so.2', '/lib/x86_64-linux-gnu/libisc-9.18.49-1~deb12u3-Debian.so', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
  });
  it('a static program needs nothing; a missing library is an error', () => {
    assert.deepEqual(parseLdd('\tstatically linked\n'), []);
    assert.throws(() => parseLdd('\tlibfoo.so.1 => not found\n'), /libfoo\.so\.1 => not found/);
  });
  it('the agnhost image carries the extra files beside agnhost', () => {
    const spec = imageSpecFor('agnhost', 'a:1', new Uint8Array(1), 'amd64', 'o', [{ path: 'usr/bin/curl', content: new Uint8Array(2), mode: 0o755 }]);
    assert.deepEqual(spec.files.map((f) => f.path), ['agnhost', 'usr/bin/curl']);
  });
});
