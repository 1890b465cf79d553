// The lab's pure parts and its prepare logic, without booting a VM: the newc
// writer, the package-tool readers (on recorded real outputs), the guest
// scripts (run by a real bash), the qemu plan, the accelerator policy, the lock,
// and prepareLab's outcomes with a scripted runner around real files.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { failureDetails } from '../src/lab/run.js';
import { gunzipSync } from 'node:zlib';
import { isLocalUpError } from '../src/errors.js';
import { planAccel } from '../src/lab/accel.js';
import { labCachePaths, readCurrentKernel } from '../src/lab/cache.js';
import { decodeNewc, encodeNewc } from '../src/lab/cpio.js';
import { dataPlaneArgs, parseDataPlaneReports, podsSeen } from '../src/lab/dataplane.js';
import { guestEnvironment, renderInitScript, renderRunScript, shellQuote } from '../src/lab/guest.js';
import { buildBaseInitramfs, isStaticElf, withInitScript } from '../src/lab/initramfs.js';
import { findDownloadedDeb, kernelReleaseOf, parseKernelDependency, parseShowDepends } from '../src/lab/kernel-package.js';
import { withLock } from '../src/lab/lock.js';
import { prepareLab } from '../src/lab/prepare.js';
import { QEMU_FDS, planNetworkArgs, planQemuArgs } from '../src/lab/qemu.js';
import { ROOT, tempDir } from './helpers/cli.js';
import type { FakeResponse, FakeRule } from './helpers/fake-runner.js';
import { FakeRunner } from './helpers/fake-runner.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'lab');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const hasTool = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

describe('newc cpio writer', () => {
  const entries = [
    { kind: 'dir', path: 'bin' },
    { kind: 'file', path: 'bin/hello', data: Buffer.from('hello world\n'), mode: 0o755 },
    { kind: 'symlink', path: 'bin/hi', target: 'hello' },
    { kind: 'char', path: 'console', major: 5, minor: 1 },
    { kind: 'file', path: 'odd-size', data: Buffer.from('abc') },
  ] as const;

  it('round-trips names, modes, data and device numbers with 4-byte alignment', () => {
    const archive = encodeNewc(entries);
    assert.equal(archive.length % 4, 0);
    const decoded = decodeNewc(archive);
    assert.deepEqual(decoded.map((e) => e.name), ['bin', 'bin/hello', 'bin/hi', 'console', 'odd-size']);
    assert.equal(decoded[1]?.mode, 0o100755);
    assert.equal(decoded[1]?.data.toString(), 'hello world\n');
    assert.equal(decoded[2]?.data.toString(), 'hello');
    assert.deepEqual([decoded[3]?.mode, decoded[3]?.rdevMajor, decoded[3]?.rdevMinor], [0o020600, 5, 1]);
  });

  it('is read by GNU cpio the same way', { skip: hasTool('cpio') ? false : 'cpio is not installed' }, () => {
    const listing = execFileSync('cpio', ['-t', '-v', '--quiet'], { input: encodeNewc(entries) }).toString();
    const lines = listing.trim().split('\n');
    assert.equal(lines.length, 5);
    assert.match(lines[1] ?? '', /^-rwxr-xr-x .* 12 .* bin\/hello$/);
    assert.match(lines[2] ?? '', /^lrwxrwxrwx .* bin\/hi -> hello$/);
    assert.match(lines[3] ?? '', /^crw------- .* 5,\s+1 .* console$/);
  });

  it('refuses paths that climb out of the archive', () => {
    assert.throws(() => encodeNewc([{ kind: 'file', path: '../etc/passwd', data: Buffer.from('') }]), /bad cpio path/);
  });
});

describe('Debian package tool output', () => {
  it('finds the versioned image package in recorded apt-cache depends output', () => {
    const name = parseKernelDependency(fixture('apt-cache-depends-linux-image-amd64.txt'));
    assert.equal(name, 'linux-image-6.1.0-56-amd64');
    assert.equal(kernelReleaseOf(name ?? ''), '6.1.0-56-amd64');
  });

  it('finds nothing in output without an image dependency', () => {
    assert.equal(parseKernelDependency('linux-image-amd64\n  Depends: <linux-image-6.1.0-56-amd64-unsigned>\n'), null);
    assert.equal(parseKernelDependency(''), null);
  });

  it('orders modules as modprobe --show-depends says, once each', () => {
    const paths = parseShowDepends(fixture('modprobe-show-depends.txt')).map((p) => p.split('/').pop());
    assert.deepEqual(paths, [
      'virtio_ring.ko', 'virtio.ko', 'virtio_pci_modern_dev.ko', 'virtio_pci_legacy_dev.ko', 'virtio_pci.ko',
      'virtio_console.ko', '9pnet.ko', '9pnet_virtio.ko', 'netfs.ko', 'fscache.ko', '9p.ko', 'overlay.ko',
    ]);
    assert.deepEqual(parseShowDepends('builtin virtio\ninsmod /a/x.ko \n'), ['/a/x.ko']);
  });

  it('picks the downloaded .deb by package name', () => {
    assert.equal(findDownloadedDeb(['x.txt', 'linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb'], 'linux-image-6.1.0-56-amd64'), 'linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb');
    assert.equal(findDownloadedDeb(['linux-image-6.1.0-56-amd64-dbg_1_amd64.deb'], 'linux-image-6.1.0-56-amd64'), null);
  });
});

describe('guest scripts', () => {
  it('run.sh gives the command its argv, cwd and environment intact (run by real bash)', () => {
    const cwd = tempDir('lab-cwd-');
    const script = renderRunScript({
      command: ['bash', '-c', 'printf "<%s>\\n" "$@"; pwd; printf "%s|" "$WEIRD" "$EMPTY"; echo "$PATH"', 'arg0', 'a b', "c'd", '$(touch /x)', ''],
      cwd,
      env: { WEIRD: 'x\'y"z $HOME `id`\nnext', EMPTY: '', PATH: '/usr/bin:/bin', 'BAD.NAME': 'dropped', 'BASH_FUNC_f%%': '() { :; }', PWD: '/elsewhere' },
    });
    const file = join(tempDir('lab-script-'), 'run.sh');
    writeFileSync(file, script);
    // NOTE: stdin must not be a socket: Debian's bash then sources ~/.bashrc (it thinks it runs under sshd).
    const out = execFileSync('/bin/bash', [file], { env: {}, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(out, `<a b>\n<c'd>\n<$(touch /x)>\n<>\n${cwd}\nx'y"z $HOME \`id\`\nnext||/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin\n`);
  });

  it('run.sh exits 125 with a message when the directory does not exist in the VM', () => {
    const file = join(tempDir('lab-script-'), 'run.sh');
    writeFileSync(file, renderRunScript({ command: ['true'], cwd: '/no/such/dir', env: {} }));
    const result = spawnSync('/bin/bash', [file], { env: {}, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(result.status, 125);
    assert.match(result.stderr, /cannot enter \/no\/such\/dir inside the VM/);
  });

  it('adds only the missing sbin folders to PATH and keeps the order of the rest', () => {
    assert.equal(guestEnvironment({ PATH: '/opt/bin:/usr/sbin:/usr/bin' }).PATH, '/usr/local/sbin:/sbin:/opt/bin:/usr/sbin:/usr/bin');
    assert.equal(guestEnvironment({}).PATH, '/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin');
  });

  it('shellQuote survives every byte but NUL', () => {
    const word = "it's \"$x\" `y` \\ \n\t*";
    assert.equal(execFileSync('/bin/bash', ['-c', `printf %s ${shellQuote(word)}`], { encoding: 'utf8' }), word);
    assert.throws(() => shellQuote('a\0b'));
  });

  it('the init script is valid busybox sh and insmods in the given order', { skip: existsSync('/bin/busybox') ? false : 'busybox is not installed' }, () => {
    const init = renderInitScript(['virtio.ko', "we'ird.ko"]);
    const file = join(tempDir('lab-init-'), 'init');
    writeFileSync(file, init);
    const check = spawnSync('/bin/busybox', ['sh', '-n', file], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    assert.match(init, /for module in 'virtio.ko' 'we'\\''ird.ko'; do/);
  });
});

describe('initramfs', () => {
  it('recognises a static ELF (busybox-static) and a dynamic one', { skip: existsSync('/bin/busybox') ? false : 'busybox is not installed' }, () => {
    assert.equal(isStaticElf(readFileSync('/bin/busybox')), true);
    assert.equal(isStaticElf(readFileSync(process.execPath)), false);
    assert.equal(isStaticElf(Buffer.from('#!/bin/sh\n')), false);
  });

  it('appends /init as a second archive on a 4-byte boundary after the gzip base', () => {
    const base = buildBaseInitramfs({ busybox: Buffer.from('BB'), modules: [{ name: 'a.ko', data: Buffer.from('A') }], kernelConfig: Buffer.from('CONFIG_IP_VS=m\n') });
    const names = decodeNewc(gunzipSync(base)).map((e) => e.name);
    assert.deepEqual(names, ['bin', 'dev', 'dev/console', 'dev/null', 'lib', 'lib/modules', 'bin/busybox', 'bin/sh', 'lib/modules/a.ko', 'kernel-config']);
    const full = withInitScript(base, ['a.ko']);
    const start = Math.ceil(base.length / 4) * 4;
    assert.deepEqual(full.subarray(base.length, start), Buffer.alloc(start - base.length));
    const [init] = decodeNewc(full.subarray(start));
    assert.equal(init?.name, 'init');
    assert.equal(init?.mode, 0o100755);
    assert.match(init?.data.toString() ?? '', /for module in 'a.ko'; do/);
  });
});

describe('qemu plan', () => {
  const plan = { kernel: '/c/vmlinuz', initrd: '/r/initrd', modulesDir: '/c/lib/modules', ioDir: '/r/io', memoryMb: 1024, cpus: 2 };

  it('uses -cpu max under TCG and -cpu host under KVM', () => {
    const cpu = (args: string[]) => args[args.indexOf('-cpu') + 1];
    assert.equal(cpu(planQemuArgs({ ...plan, accel: 'tcg' })), 'max');
    assert.equal(cpu(planQemuArgs({ ...plan, accel: 'kvm' })), 'host');
  });

  it('shares / read-only, io writable, modules read-only, and wires the output fds', () => {
    const args = planQemuArgs({ ...plan, accel: 'tcg' });
    const shares = args.filter((_, i) => args[i - 1] === '-virtfs');
    assert.deepEqual(shares, [
      'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
      'local,path=/r/io,mount_tag=labio,security_model=none,multidevs=remap',
      'local,path=/c/lib/modules,mount_tag=labmods,security_model=none,readonly=on,multidevs=remap',
    ]);
    assert.ok(args.includes(`socket,id=out,fd=${QEMU_FDS.stdout}`));
    assert.ok(args.includes(`socket,id=err,fd=${QEMU_FDS.stderr}`));
    assert.ok(args.includes('-nodefaults') && args.includes('-no-reboot'));
    assert.equal(args[args.indexOf('-append') + 1], 'console=ttyS0 quiet panic=-1 rdinit=/init');
  });

  it('refuses paths with commas, which qemu would split', () => {
    assert.throws(() => planQemuArgs({ ...plan, ioDir: '/tmp/a,b', accel: 'tcg' }), /comma/);
  });

  it('has no network card unless asked for one', () => {
    const args = planQemuArgs({ ...plan, accel: 'tcg' });
    assert.ok(!args.includes('-netdev') && !args.some((a) => a.startsWith('virtio-net')));
  });

  it('asked for a network: a restricted user-mode card whose forwards run host programs, words quoted, commas doubled', () => {
    const args = planQemuArgs({ ...plan, accel: 'tcg', network: { forwards: [{ guestPort: 6443, command: ['/usr/bin/node', '/a b/relay.mjs', "it's,here"] }, { guestPort: 80, command: ['cat'] }] } });
    assert.equal(
      args[args.indexOf('-netdev') + 1],
      "user,id=net0,restrict=on,guestfwd=tcp:10.0.2.100:6443-cmd:'/usr/bin/node' '/a b/relay.mjs' 'it'\\''s,,here',guestfwd=tcp:10.0.2.100:80-cmd:'cat'",
    );
    assert.equal(args[args.indexOf('-device', args.indexOf('-netdev')) + 1], 'virtio-net-pci,netdev=net0');
    assert.deepEqual(planNetworkArgs({ forwards: [] }), ['-netdev', 'user,id=net0,restrict=on', '-device', 'virtio-net-pci,netdev=net0']);
  });

  it('refuses a forward without a command or outside the TCP port range', () => {
    assert.throws(() => planNetworkArgs({ forwards: [{ guestPort: 0, command: ['cat'] }] }), /not a TCP port/);
    assert.throws(() => planNetworkArgs({ forwards: [{ guestPort: 70000, command: ['cat'] }] }), /not a TCP port/);
    assert.throws(() => planNetworkArgs({ forwards: [{ guestPort: 22, command: [] }] }), /no command/);
  });
});

describe('accelerator policy', () => {
  it('auto tries KVM with a fallback only when /dev/kvm is usable and KVM is not known broken', () => {
    assert.deepEqual(planAccel('auto', { kvmUsable: false, verdict: null }), { accel: 'tcg', fallback: false });
    assert.deepEqual(planAccel('auto', { kvmUsable: true, verdict: 'broken' }), { accel: 'tcg', fallback: false });
    const tryKvm = planAccel('auto', { kvmUsable: true, verdict: null });
    assert.equal(tryKvm.accel, 'kvm');
    assert.equal(tryKvm.fallback, true);
    assert.ok((tryKvm.bootDeadlineMs ?? 0) > 0);
    assert.equal(planAccel('auto', { kvmUsable: true, verdict: 'works' }).accel, 'kvm');
  });

  it('kvm is forced (no fallback) and fails clearly without /dev/kvm; tcg is always tcg', () => {
    assert.equal(planAccel('kvm', { kvmUsable: true, verdict: 'broken' }).fallback, false);
    assert.throws(() => planAccel('kvm', { kvmUsable: false, verdict: null }), (e: unknown) => isLocalUpError(e) && e.exitCode === 3 && /\/dev\/kvm/.test(e.message));
    assert.deepEqual(planAccel('tcg', { kvmUsable: true, verdict: 'works' }), { accel: 'tcg', fallback: false });
  });
});

describe('prepare lock', () => {
  it('serialises two holders', async () => {
    const lock = join(tempDir('lab-lock-'), 'prepare.lock');
    const events: string[] = [];
    const hold = (name: string) =>
      withLock(lock, { timeoutMs: 10_000 }, async () => {
        events.push(`${name} in`);
        await new Promise((resolve) => setTimeout(resolve, 300));
        events.push(`${name} out`);
      });
    await Promise.all([hold('a'), hold('b')]);
    assert.deepEqual(events, ['a in', 'a out', 'b in', 'b out']);
    assert.equal(existsSync(lock), false);
  });

  it('takes over a lock whose owner is dead', async () => {
    const lock = join(tempDir('lab-lock-'), 'prepare.lock');
    const dead = spawnSync('true').pid ?? 999_999;
    writeFileSync(lock, `${dead}\n`);
    assert.equal(await withLock(lock, { timeoutMs: 2_000 }, async () => 'ran'), 'ran');
  });
});

describe('data-plane fixture arguments and report', () => {
  it('passes only the parameters given, and rejects odd scheduler names', () => {
    assert.deepEqual(dataPlaneArgs({ pods: 2, protocol: 'udp', persistenceSeconds: 30, instance: 1 }), ['--pods', '2', '--protocol', 'udp', '--persistence', '30', '--instance', '1']);
    assert.throws(() => dataPlaneArgs({ scheduler: 'rr; reboot' }));
  });

  it('reads every report line and the pods that answered', () => {
    const line = (responses: Record<string, number>) => JSON.stringify({ responses, pods: [] });
    const reports = parseDataPlaneReports(`${line({ 'pod-1': 2, 'pod-2': 0 })}\n${line({ 'pod-3': 1 })}\n`);
    assert.equal(reports.length, 2);
    assert.deepEqual(podsSeen(reports[0] as never), ['pod-1']);
  });
});

// ---- prepareLab with a scripted runner: the package tools are stand-ins that act on real files.
const RELEASE = '6.1.0-56-amd64';
const PACKAGE = `linux-image-${RELEASE}`;
const DEB = `${PACKAGE}_6.1.192-2_amd64.deb`;
const MODULES = ['kernel/drivers/virtio/virtio.ko', 'kernel/net/9p/9pnet.ko', 'kernel/fs/9p/9p.ko'];

interface Stand {
  readonly runner: FakeRunner;
  readonly cacheDir: string;
  readonly logs: string[];
}

function standIns(overrides: Partial<Record<'qemu' | 'apt-cache' | 'apt-get' | 'dpkg', FakeResponse>> = {}): Stand {
  const cacheDir = join(tempDir('lab-cache-'), 'lab');
  const rules: FakeRule[] = [
    { match: ['qemu-system-x86_64', '--version'], respond: overrides.qemu ?? { stdout: 'QEMU emulator version 7.2.22\n' } },
    { match: ['apt-cache', 'depends'], respond: overrides['apt-cache'] ?? { stdout: fixture('apt-cache-depends-linux-image-amd64.txt') } },
    {
      match: ['apt-get'],
      respond: (_argv, options) => {
        if (overrides['apt-get'] !== undefined) return overrides['apt-get'];
        writeFileSync(join(options.cwd ?? '.', DEB), 'deb');
        return {};
      },
    },
    { match: ['dpkg', '--version'], respond: {} },
    {
      match: ['dpkg', '-x'],
      respond: (argv) => {
        if (overrides.dpkg !== undefined) return overrides.dpkg;
        const root = argv[3] ?? '';
        mkdirSync(join(root, 'boot'), { recursive: true });
        writeFileSync(join(root, 'boot', `vmlinuz-${RELEASE}`), 'kernel image');
        writeFileSync(join(root, 'boot', `config-${RELEASE}`), 'CONFIG_IP_VS=m\n');
        for (const module of MODULES) {
          mkdirSync(join(root, 'lib', 'modules', RELEASE, module, '..'), { recursive: true });
          writeFileSync(join(root, 'lib', 'modules', RELEASE, module), `module ${module}`);
        }
        return {};
      },
    },
  ];
  const runner = new FakeRunner(rules);
  // Tools may be called by absolute path (found on PATH or in sbin): match on the base name.
  const original = runner.run.bind(runner);
  runner.run = async (file, args, options) => {
    const base = file.split('/').pop() ?? file;
    if (base === 'depmod' && args[0] === '-b') {
      writeFileSync(join(args[1] ?? '', 'lib', 'modules', RELEASE, 'modules.dep'), '');
      return original('depmod', args, options);
    }
    if (base === 'modprobe' && args.includes('--show-depends')) {
      const dir = args[1] ?? '';
      const stdout = MODULES.map((m) => `insmod ${join(dir, 'lib', 'modules', RELEASE, m)} \n`).join('');
      return { ...(await original('true', [], options)), stdout };
    }
    return original(base, args, options);
  };
  rules.push({ match: ['depmod'], respond: {} }, { match: ['modprobe', '--version'], respond: {} }, { match: ['true'], respond: {} });
  return { runner, cacheDir, logs: [] };
}

const deps = (stand: Stand, extra: Record<string, unknown> = {}) => ({
  runner: stand.runner,
  log: (line: string) => void stand.logs.push(line),
  arch: 'x64',
  busyboxCandidates: ['/bin/busybox'],
  ...extra,
});

const leftovers = (cacheDir: string) => (existsSync(cacheDir) ? readdirSync(cacheDir).filter((n) => n.startsWith('build-') || n.endsWith('.tmp')) : []);

describe('prepareLab', { skip: existsSync('/bin/busybox') ? false : 'busybox-static is not installed' }, () => {
  it('downloads, unpacks, indexes and builds the initramfs, then reuses the result', async () => {
    const stand = standIns();
    const first = await prepareLab({ cacheDir: stand.cacheDir }, deps(stand));
    assert.equal(first.reused, false);
    assert.equal(first.kernel.release, RELEASE);
    assert.equal(first.kernel.packageVersion, '6.1.192-2');
    assert.deepEqual(first.kernel.initramfsModules, ['virtio.ko', '9pnet.ko', '9p.ko']);
    const archive = decodeNewc(gunzipSync(readFileSync(first.kernel.initrd)));
    assert.equal(archive.find((e) => e.name === 'bin/busybox')?.data.length, readFileSync('/bin/busybox').length);
    assert.equal(archive.find((e) => e.name === 'kernel-config')?.data.toString(), 'CONFIG_IP_VS=m\n');
    assert.equal(readFileSync(first.kernel.kernel, 'utf8'), 'kernel image');
    assert.equal((await readCurrentKernel(stand.cacheDir))?.release, RELEASE);
    assert.deepEqual(leftovers(stand.cacheDir), []);
    assert.equal(existsSync(labCachePaths(stand.cacheDir).lockFile), false);
    assert.ok(stand.runner.commands().some((c) => c === `apt-get download ${PACKAGE}`));

    const downloads = () => stand.runner.commands().filter((c) => c.startsWith('apt-get')).length;
    const second = await prepareLab({ cacheDir: stand.cacheDir }, deps(stand));
    assert.equal(second.reused, true);
    assert.equal(downloads(), 1);
  });

  it('lets two prepares at once share one download', async () => {
    const stand = standIns();
    const [a, b] = await Promise.all([prepareLab({ cacheDir: stand.cacheDir }, deps(stand)), prepareLab({ cacheDir: stand.cacheDir }, deps(stand))]);
    assert.equal(stand.runner.commands().filter((c) => c.startsWith('apt-get')).length, 1);
    assert.deepEqual([a.reused, b.reused].sort(), [false, true]);
    assert.equal(a.kernel.dir, b.kernel.dir);
    assert.deepEqual(leftovers(stand.cacheDir), []);
  });

  it('silences apt\'s sandbox warning as root only', async () => {
    const stand = standIns();
    await prepareLab({ cacheDir: stand.cacheDir }, deps(stand, { isRoot: true }));
    assert.ok(stand.runner.commands().includes(`apt-get -o APT::Sandbox::User=root download ${PACKAGE}`));
  });

  const failure = async (stand: Stand, extra: Record<string, unknown> = {}) => {
    const error = await prepareLab({ cacheDir: stand.cacheDir }, deps(stand, extra)).then(
      () => assert.fail('prepare should fail'),
      (e: unknown) => e,
    );
    assert.ok(isLocalUpError(error), String(error));
    assert.deepEqual(leftovers(stand.cacheDir), [], 'no build folder is left');
    return error;
  };

  it('refuses a non-x86_64 host before running anything', async () => {
    const stand = standIns();
    const error = await failure(stand, { arch: 'arm64' });
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /x86_64.*arm64/);
    assert.equal(stand.runner.calls.length, 0);
  });

  it('says how to install qemu when it is missing', async () => {
    const error = await failure(standIns({ qemu: { notFound: true } }));
    assert.equal(error.exitCode, 3);
    assert.match(error.hint ?? '', /apt-get install .*qemu-system-x86/);
  });

  it('explains a machine without apt', async () => {
    const error = await failure(standIns({ 'apt-cache': { notFound: true } }));
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /Debian-like/);
  });

  it('asks for apt-get update when apt knows no kernel package', async () => {
    const error = await failure(standIns({ 'apt-cache': { exitCode: 100, stderr: 'E: No packages found\n' } }));
    assert.equal(error.exitCode, 3);
    assert.match(error.hint ?? '', /apt-get update/);
    assert.match(error.details ?? '', /No packages found/);
  });

  it('an apt-cache answer (exit 0) it cannot read is a bug (exit 70), not "this machine lacks something"', async () => {
    const error = await failure(standIns({ 'apt-cache': { stdout: 'linux-image-amd64\n  Breaks: something-else\n' } }));
    assert.equal(error.exitCode, 70);
    assert.match(error.details ?? '', /Breaks: something-else/);
  });

  it('shows apt-get\'s own words when the mirror cannot be reached (recorded output)', async () => {
    const error = await failure(standIns({ 'apt-get': { exitCode: 100, stdout: fixture('apt-get-download-no-network.stdout.txt'), stderr: fixture('apt-get-download-no-network.stderr.txt') } }));
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /could not download linux-image-6\.1\.0-56-amd64/);
    assert.match(error.details ?? '', /Could not connect to 127\.0\.0\.1:9/);
    assert.match(error.hint ?? '', /network/);
  });

  it('names the space it needs when the disk fills while unpacking (recorded output)', async () => {
    const error = await failure(standIns({ dpkg: { exitCode: 2, stderr: fixture('dpkg-x-enospc.stderr.txt') } }));
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /no space left/);
    assert.match(error.hint ?? '', /600 MB/);
  });
});

describe('a failed lab run always shows its console section', () => {
  it('says the console was empty instead of leaving the section out (a VM killed before it printed anything)', () => {
    assert.equal(failureDetails('', ''), 'console: (empty: the VM printed nothing on its console before it was stopped)');
    assert.equal(failureDetails('qemu: warning\n', 'Linux version 6.1\nRun /init'), 'qemu: warning\nconsole:\nLinux version 6.1\nRun /init');
  });
});
