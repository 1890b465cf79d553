// The managed kind install (`local-up tools install kind`, and up's auto-install)
// against an HTTP server on 127.0.0.1 serving a stand-in binary.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KIND_SHA256, KIND_VERSION, kindAssetName, kindDownloadUrl, managedKindFile } from '../src/providers/kind/release.js';
import { installKind, locateKind } from '../src/providers/kind/tools.js';
import { tempDir } from './helpers/cli.js';
import { STAND_INS, makeWorld, runCli, standInEnv } from './helpers/stand-ins.js';

const FAKE_KIND = readFileSync(join(STAND_INS, 'kind'));
const FAKE_SHA = createHash('sha256').update(FAKE_KIND).digest('hex');
const asset = kindAssetName(process.platform, process.arch);
const requests: string[] = [];
let base = '';
const server = createServer((request, response) => {
  requests.push(request.url ?? '');
  if (request.url === `/${KIND_VERSION}/${asset}`) {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': FAKE_KIND.byteLength });
    response.end(FAKE_KIND);
  } else {
    response.writeHead(404).end('not found');
  }
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('managed kind install', { skip: asset === null ? `kind ${KIND_VERSION} is not pinned for ${process.platform}/${process.arch}` : false }, () => {
  test('pinned assets and URLs follow kind\'s release layout', () => {
    assert.equal(kindAssetName('linux', 'x64'), 'kind-linux-amd64');
    assert.equal(kindAssetName('darwin', 'arm64'), 'kind-darwin-arm64');
    assert.equal(kindAssetName('win32', 'x64'), null);
    assert.equal(kindDownloadUrl('https://github.com/kubernetes-sigs/kind/releases/download/', 'kind-linux-amd64'), 'https://github.com/kubernetes-sigs/kind/releases/download/v0.33.0/kind-linux-amd64');
    for (const sha of Object.values(KIND_SHA256)) assert.match(sha, /^[0-9a-f]{64}$/);
  });

  test('downloads, verifies the checksum and caches an executable; found afterwards as the cache', async () => {
    const toolsDir = join(tempDir(), 'bin');
    const settings = { kindDownloadBase: base, toolsDir, kindBinary: '' };
    const env = { PATH: '/nonexistent' };
    const result = await installKind(settings, env, { expectedSha256: { [asset as string]: FAKE_SHA } });
    assert.equal(result.downloaded, true);
    assert.equal(result.path, managedKindFile(toolsDir));
    assert.equal(result.sha256, FAKE_SHA);
    assert.deepEqual(readFileSync(result.path), FAKE_KIND);
    assert.equal(statSync(result.path).mode & 0o777, 0o755);
    assert.deepEqual(readdirSync(toolsDir), [`kind-${KIND_VERSION}`]);
    assert.deepEqual(locateKind(settings, env), { path: result.path, source: 'TOOLS_DIR cache', problem: null });
    const again = await installKind(settings, env, { expectedSha256: { [asset as string]: FAKE_SHA } });
    assert.equal(again.downloaded, false);
  });

  test('a cached copy is re-hashed before it is trusted: a changed one is fetched again', async () => {
    const toolsDir = join(tempDir(), 'bin');
    const settings = { kindDownloadBase: base, toolsDir, kindBinary: '' };
    const env = { PATH: '/nonexistent' };
    const first = await installKind(settings, env, { expectedSha256: { [asset as string]: FAKE_SHA } });
    writeFileSync(first.path, '#!/bin/sh\necho tampered\n', { mode: 0o755 });
    const again = await installKind(settings, env, { expectedSha256: { [asset as string]: FAKE_SHA } });
    assert.equal(again.downloaded, true);
    assert.deepEqual(readFileSync(again.path), FAKE_KIND);
  });

  test('tools install kind: a binary without the pinned checksum is refused, exit 3, nothing cached', async () => {
    const toolsDir = join(tempDir(), 'bin');
    const result = await runCli(['tools', 'install', 'kind', '--kind-download-base', base, '--tools-dir', toolsDir], { PATH: process.env.PATH, HOME: tempDir() });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, new RegExp(`error: the kind downloaded from ${base}/${KIND_VERSION}/${asset} does not have the pinned SHA-256; nothing was cached`));
    assert.match(result.stderr, new RegExp(`expected ${KIND_SHA256[asset as string]}`));
    assert.match(result.stderr, new RegExp(`actual   ${FAKE_SHA}`));
    assert.equal(existsSync(toolsDir) ? readdirSync(toolsDir).length : 0, 0);
  });

  test('offline: exit 3 with the exact manual step', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const toolsDir = join(tempDir(), 'bin');
    const result = await runCli(['tools', 'install', 'kind', '--kind-download-base', `http://127.0.0.1:${port}`, '--tools-dir', toolsDir], { PATH: process.env.PATH, HOME: tempDir() });
    assert.equal(result.code, 3);
    assert.match(result.stderr, /error: cannot download kind v0\.33\.0 from .*: fetch failed \(ECONNREFUSED\)/);
    assert.match(result.stderr, new RegExp(`hint: nothing was cached\\. By hand: download http://127\\.0\\.0\\.1:${port}/${KIND_VERSION}/${asset}, check that its SHA-256 is ${KIND_SHA256[asset as string]}, then \`chmod \\+x\` it and move it to ${managedKindFile(toolsDir)}`));
    assert.equal(existsSync(toolsDir), false);
  });

  test('up with no kind and KIND_AUTO_INSTALL=true tries the pinned download, says so, and creates nothing when it fails', async () => {
    const world = makeWorld();
    const env = standInEnv(world, { tools: ['docker', 'kubectl'], extra: { KIND_AUTO_INSTALL: 'true', KIND_DOWNLOAD_BASE: base } });
    requests.length = 0;
    const result = await runCli(['up', '--mode', 'ipvs', '--name', 'kind'], env);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /kind not found; installing the pinned kind v0\.33\.0 into .*kind-v0\.33\.0 \(KIND_AUTO_INSTALL=true\)/);
    assert.match(result.stderr, /does not have the pinned SHA-256; nothing was cached/);
    assert.deepEqual(requests, [`/${KIND_VERSION}/${asset}`]);
    assert.deepEqual(world.read().clusters, {});
  });
});
