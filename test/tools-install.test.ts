// `local-up tools install` as a user runs it, through the real CLI process:
// the official-archive path against an HTTP server on 127.0.0.1 (published
// checksum, mismatch, 404, offline, an endless response), and the from-source
// path's refusals with the real Go and module proxy (a version that does not
// exist, no Go). Nothing half-done may be left in TOOLS_DIR in any case.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DownloadError, downloadToFile } from '../src/exec/download.js';
import { KUBERNETES_BINARIES } from '../src/tools/layout.js';
import { ROOT, tempDir } from './helpers/cli.js';
import { runCli } from './helpers/stand-ins.js';

const VERSION = '1.34.11';

/** A server archive laid out as kubernetes-server-linux-<arch>.tar.gz is, with executables that answer like the real ones. */
function fakeServerArchive(reported: string, fillerBytes = 0): Buffer {
  const root = tempDir('fake-archive-');
  const bin = join(root, 'kubernetes', 'server', 'bin');
  mkdirSync(bin, { recursive: true });
  for (const name of KUBERNETES_BINARIES) {
    const answer = name === 'kubectl' ? `Client Version: v${reported}` : name === 'kubeadm' ? `v${reported}` : `Kubernetes v${reported}`;
    writeFileSync(join(bin, name), `#!/bin/sh\necho '${answer}'\n`);
    chmodSync(join(bin, name), 0o755);
  }
  writeFileSync(join(bin, 'kube-apiserver.tar'), fillerBytes === 0 ? 'an image tarball the install must not keep' : randomBytes(fillerBytes));
  execFileSync('tar', ['-czf', join(root, 'server.tar.gz'), '-C', root, 'kubernetes']);
  return readFileSync(join(root, 'server.tar.gz'));
}

const archive = fakeServerArchive(VERSION);
const wrongVersion = fakeServerArchive('1.34.10');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');
let base = '';
const routes = new Map<string, () => { status: number; body?: Buffer | string; endless?: boolean }>();
const server = createServer((request, response) => {
  const route = routes.get(request.url ?? '');
  if (route === undefined) {
    response.writeHead(404).end('not found');
    return;
  }
  const { status, body, endless } = route();
  if (endless === true) {
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(64 * 1024, 7);
    const pump = () => {
      while (response.write(chunk)) { /* keep the pipe full */ }
      response.once('drain', pump);
    };
    response.on('close', () => response.removeAllListeners('drain'));
    pump();
    return;
  }
  response.writeHead(status).end(body);
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
const archivePath = (v: string) => `/v${v}/kubernetes-server-linux-${arch}.tar.gz`;

function install(toolsDir: string, extra: readonly string[] = [], env: Record<string, string | undefined> = {}) {
  return runCli(['tools', 'install', 'kubernetes', '--kube-download-base', base, '--tools-dir', toolsDir, ...extra], { PATH: process.env.PATH, HOME: tempDir(), ...env });
}

/** What an install left in TOOLS_DIR; a TOOLS_DIR it had to create must be gone again after a failure. */
const leftovers = (toolsDir: string) => (existsSync(toolsDir) ? readdirSync(toolsDir) : []);

describe('tools install kubernetes from the official archive', { skip: process.platform !== 'linux' ? 'Linux only' : false }, () => {
  it('verifies the published SHA-512, installs the seven binaries and prints the KUBE_BIN_DIR line; a second run reuses it', async () => {
    routes.set(archivePath(VERSION), () => ({ status: 200, body: archive }));
    routes.set(`${archivePath(VERSION)}.sha512`, () => ({ status: 200, body: `${sha512(archive)}\n` }));
    const toolsDir = join(tempDir(), 'tools');
    const result = await install(toolsDir, ['--k8s-version', VERSION]);
    assert.equal(result.code, 0, result.stderr);
    const binDir = join(toolsDir, `kubernetes-${VERSION}`, 'bin');
    assert.match(result.stdout, new RegExp(`^KUBE_BIN_DIR=${binDir}$`, 'm'));
    assert.deepEqual(readdirSync(binDir).sort(), [...KUBERNETES_BINARIES].sort());
    assert.deepEqual(leftovers(toolsDir), [`kubernetes-${VERSION}`]);
    const listed = await runCli(['tools', 'list', '--json', '--tools-dir', toolsDir], { PATH: process.env.PATH, HOME: tempDir() });
    const sets = (JSON.parse(listed.stdout) as { sets: { tool: string; version: string; source: string }[] }).sets;
    assert.deepEqual(sets.map((s) => [s.tool, s.version, s.source]), [['kubernetes', VERSION, 'download']]);
    const again = await install(toolsDir, ['--k8s-version', VERSION]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already installed/);
  });

  it("doctor for the local provider finds the installed set and says so (KUBE_ROOT and KUBE_BIN_DIR unset)", async () => {
    routes.set(archivePath('1.34.6'), () => ({ status: 200, body: fakeServerArchive('1.34.6') }));
    routes.set(`${archivePath('1.34.6')}.sha512`, () => ({ status: 200, body: sha512(fakeServerArchive('1.34.6')) }));
    const toolsDir = join(tempDir(), 'tools');
    const etcdDir = tempDir('fake-etcd-');
    writeFileSync(join(etcdDir, 'etcd'), '#!/bin/sh\necho "etcd Version: 3.6.5"\n', { mode: 0o755 });
    assert.equal((await install(toolsDir, ['--k8s-version', '1.34.6'])).code, 0);
    const doctor = await runCli(['doctor', '--json', '--provider', 'local', '--k8s-version', '1.34.6', '--tools-dir', toolsDir], { PATH: `${etcdDir}:${process.env.PATH ?? ''}`, HOME: tempDir(), ETCD_VERSION: '3.6.5' });
    const checks = (JSON.parse(doctor.stdout) as { checks: { id: string; status: string; detail: string }[] }).checks;
    const binaries = checks.find((c) => c.id === 'provider.local.binaries');
    assert.ok(binaries, doctor.stdout);
    assert.equal(binaries.status, 'pass', binaries.detail);
    assert.match(binaries.detail, new RegExp(`kube-proxy v1\\.34\\.6 \\(${toolsDir}/kubernetes-1\\.34\\.6/bin/kube-proxy, via TOOLS_DIR \\(tools install kubernetes\\)\\)`));
  });

  it('a checksum mismatch keeps nothing and exits 3', async () => {
    routes.set(archivePath('1.34.9'), () => ({ status: 200, body: archive }));
    routes.set(`${archivePath('1.34.9')}.sha512`, () => ({ status: 200, body: 'f'.repeat(128) }));
    const toolsDir = join(tempDir(), 'tools');
    const result = await install(toolsDir, ['--k8s-version', '1.34.9']);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /does not match its published SHA512; it was deleted unread/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
    assert.equal(existsSync(toolsDir), false);
  });

  it('binaries that report another release are not installed', async () => {
    routes.set(archivePath('1.34.8'), () => ({ status: 200, body: wrongVersion }));
    routes.set(`${archivePath('1.34.8')}.sha512`, () => ({ status: 200, body: sha512(wrongVersion) }));
    const toolsDir = join(tempDir(), 'tools');
    const result = await install(toolsDir, ['--k8s-version', '1.34.8']);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /does not report Kubernetes v1\.34\.8/);
    assert.deepEqual(leftovers(toolsDir), []);
  });

  it('a release the server does not have (1.34.99) is exit 2 and says what to check', async () => {
    const toolsDir = join(tempDir(), 'tools');
    const result = await install(toolsDir, ['--k8s-version', '1.34.99']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /Kubernetes 1\.34\.99 is not at .*HTTP 404/);
    assert.deepEqual(leftovers(toolsDir), []);
  });

  it('offline: exit 3, and the hint offers the build from source', async () => {
    const toolsDir = join(tempDir(), 'tools');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await runCli(['tools', 'install', 'kubernetes', '--kube-download-base', `http://127.0.0.1:${port}`, '--tools-dir', toolsDir, '--k8s-version', VERSION], { PATH: process.env.PATH, HOME: tempDir() });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /ECONNREFUSED/);
    assert.match(result.stderr, /--from-source/);
    assert.deepEqual(leftovers(toolsDir), []);
  });

  it('a folder of that name that kube-local-up did not finish is left alone', async () => {
    const toolsDir = join(tempDir(), 'tools');
    mkdirSync(join(toolsDir, `kubernetes-${VERSION}`, 'bin'), { recursive: true });
    writeFileSync(join(toolsDir, `kubernetes-${VERSION}`, 'bin', 'kube-proxy'), 'mine');
    const result = await install(toolsDir, ['--k8s-version', VERSION]);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /is not an install kube-local-up finished/);
    assert.equal(readFileSync(join(toolsDir, `kubernetes-${VERSION}`, 'bin', 'kube-proxy'), 'utf8'), 'mine');
  });
});

describe('tools install etcd from the official archive', { skip: process.platform !== 'linux' ? 'Linux only' : false }, () => {
  it("picks its entry out of SHA256SUMS, unpacks etcd and etcdctl, and checks etcd's version", async () => {
    const root = tempDir('fake-etcd-archive-');
    const dir = join(root, `etcd-v3.6.5-linux-${arch}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'etcd'), '#!/bin/sh\necho "etcd Version: 3.6.5"\necho "Git SHA: cafe"\n', { mode: 0o755 });
    writeFileSync(join(dir, 'etcdctl'), '#!/bin/sh\necho "etcdctl version: 3.6.5"\n', { mode: 0o755 });
    writeFileSync(join(dir, 'README.md'), 'not installed');
    execFileSync('tar', ['-czf', join(root, 'e.tgz'), '-C', root, `etcd-v3.6.5-linux-${arch}`]);
    const body = readFileSync(join(root, 'e.tgz'));
    const sha256 = createHash('sha256').update(body).digest('hex');
    routes.set(`/etcd/v3.6.5/etcd-v3.6.5-linux-${arch}.tar.gz`, () => ({ status: 200, body }));
    routes.set('/etcd/v3.6.5/SHA256SUMS', () => ({ status: 200, body: `${'0'.repeat(64)}  etcd-v3.6.5-linux-s390x.tar.gz\n${sha256}  etcd-v3.6.5-linux-${arch}.tar.gz\n` }));
    const toolsDir = join(tempDir(), 'tools');
    const result = await runCli(['tools', 'install', 'etcd', '--version', '3.6.5', '--etcd-download-base', `${base}/etcd`, '--tools-dir', toolsDir], { PATH: process.env.PATH, HOME: tempDir() });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readdirSync(join(toolsDir, 'etcd-3.6.5', 'bin')).sort(), ['etcd', 'etcdctl']);
  });
});

describe('a full disk', { skip: process.getuid?.() !== 0 ? 'mounting a small tmpfs needs root' : false }, () => {
  it('ENOSPC while the archive streams in: exit 3, a clear message, no stack, nothing kept', async () => {
    const big = fakeServerArchive('1.34.7', 3 * 1024 * 1024);
    routes.set(archivePath('1.34.7'), () => ({ status: 200, body: big }));
    routes.set(`${archivePath('1.34.7')}.sha512`, () => ({ status: 200, body: sha512(big) }));
    const mount = tempDir('tiny-disk-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
    try {
      const toolsDir = join(mount, 'tools');
      const result = await install(toolsDir, ['--k8s-version', '1.34.7']);
      assert.equal(result.code, 3, result.stderr);
      assert.match(result.stderr, /the disk is full \(no space left on device\)/);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
      assert.deepEqual(leftovers(toolsDir), []);
    } finally {
      execFileSync('umount', [mount]);
    }
  });
});

describe('streamed downloads', () => {
  it('an endless response stops at the cap, with bounded memory, and leaves no file', async () => {
    routes.set('/endless', () => ({ status: 200, endless: true }));
    const file = join(tempDir(), 'endless.bin');
    const before = process.memoryUsage().rss;
    await assert.rejects(
      downloadToFile({ url: `${base}/endless`, file, maxBytes: 256 * 1024 * 1024, algorithm: 'sha256', signal: AbortSignal.timeout(240_000) }),
      (error: unknown) => error instanceof DownloadError && error.kind === 'too-large',
    );
    assert.equal(existsSync(file), false);
    // 256 MiB went through; holding it in memory would have grown the process by at least that.
    assert.ok(process.memoryUsage().rss - before < 128 * 1024 * 1024, `rss grew by ${Math.round((process.memoryUsage().rss - before) / 1048576)} MiB`);
  });
});

describe('tools install --from-source refusals (real Go, real module proxy)', () => {
  const go = ['/usr/local/go/bin/go', ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'go'))].find((p) => existsSync(p));
  it('no Go: exit 3 naming what to install, nothing written', async () => {
    const toolsDir = join(tempDir(), 'tools');
    const result = await runCli(['tools', 'install', 'kubernetes', '--from-source', '--go', '/nonexistent/go', '--tools-dir', toolsDir], { PATH: '/usr/bin:/bin', HOME: tempDir() });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /GO=\/nonexistent\/go is not an executable/);
    assert.deepEqual(leftovers(toolsDir), []);
  });

  it('a release that does not exist (1.34.99): exit 2, from the module proxy', { skip: go === undefined ? 'no Go on this machine' : false, timeout: 300_000 }, async () => {
    const toolsDir = join(tempDir(), 'tools');
    const result = await runCli(['tools', 'install', 'kubernetes', '--from-source', '--k8s-version', '1.34.99', '--tools-dir', toolsDir, '--go', go as string], { PATH: process.env.PATH, HOME: tempDir(), GOPROXY: process.env.GOPROXY });
    if (result.code === 3 && /cannot fetch/.test(result.stderr) && process.env.CI !== 'true') return; // offline developer machine
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /Kubernetes 1\.34\.99 does not exist: the Go module proxy has no k8s\.io\/kubernetes@v1\.34\.99/);
    assert.deepEqual(leftovers(toolsDir), []);
  });

  it('Ctrl-C while Go works: exit 130, no partial folder, no go process left', { skip: go === undefined ? 'no Go on this machine' : false, timeout: 300_000 }, async () => {
    const toolsDir = join(tempDir(), 'tools');
    // A fresh Go cache: Go has real work to do (fetching etcd's modules) when the signal arrives.
    const goCache = join(tempDir(), 'go');
    let sent = false;
    const result = await runCli(['tools', 'install', 'etcd', '--version', '3.6.5', '--from-source', '--tools-dir', toolsDir, '--go-cache-dir', goCache, '--go', go as string], { PATH: process.env.PATH, HOME: tempDir(), GOPROXY: process.env.GOPROXY }, (child) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        if (!sent && /fetching go\.etcd\.io\/etcd\/server\/v3@v3\.6\.5/.test(String(chunk))) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 300);
        }
      });
    }, 240_000);
    assert.ok(sent, `the install never reached Go: ${result.stderr}`);
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /interrupted/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
    assert.deepEqual(leftovers(toolsDir).filter((n) => n.includes('partial') || n.startsWith('etcd-')), []);
    // Any process still using this test's own Go cache is one the install started and failed to stop.
    const users = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`GOMODCACHE=${goCache}/mod`);
      } catch {
        return false;
      }
    });
    assert.deepEqual(users, [], 'a go process outlived the install');
  });

  it("a Go older than the release's go.mod asks: exit 3 naming both versions and the GOTOOLCHAIN way out", async () => {
    const toolsDir = join(tempDir(), 'tools');
    const result = await runCli(['tools', 'install', 'kubernetes', '--from-source', '--k8s-version', '1.34.11', '--tools-dir', toolsDir, '--go-cache-dir', tempDir(), '--go', join(ROOT, 'test', 'stand-ins', 'old-go', 'go')], { PATH: process.env.PATH, HOME: tempDir() });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /Kubernetes 1\.34\.11 needs Go 1\.25\.0 or later \(the go directive of its go\.mod\); .* is go1\.21\.13/);
    assert.match(result.stderr, /GOTOOLCHAIN=go1\.25\.0/);
    assert.equal(existsSync(toolsDir), false);
  });

  it('a minor-only version is refused before anything runs', async () => {
    const result = await runCli(['tools', 'install', 'kubernetes', '--k8s-version', '1.34', '--tools-dir', join(tempDir(), 't')], { PATH: process.env.PATH, HOME: tempDir() });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /needs an exact release such as 1\.34\.0/);
  });
});
