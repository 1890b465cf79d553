// What runs inside the lab VM: the initramfs /init (busybox sh) that builds the
// root file system from the host's shares, and the per-run script that sets the
// caller's environment and working directory and runs the command. Pure text.

/** 9p mount tags shared between planQemuArgs and the init script. */
export const SHARE_TAGS = { hostRoot: 'hostroot', io: 'labio', modules: 'labmods' } as const;

/** virtio-serial port names the guest looks up under /sys/class/virtio-ports. */
export const PORT_NAMES = { stdout: 'stdout', stderr: 'stderr' } as const;

/** Printed on the console as soon as /init starts: proves the CPU runs the guest (the KVM probe waits for it). */
export const INIT_MARKER = 'kube-local-up-lab: init';
/** Printed just before the command starts: the end of the boot (the bench measures up to it). */
export const RUN_MARKER = 'kube-local-up-lab: run';
/** Printed when /init gives up; the rest of the line says why. */
export const FAIL_MARKER = 'kube-local-up-lab: failed:';

/** Where the io share appears inside the VM; run.sh and the command's files live there. */
export const GUEST_IO_DIR = '/run/lab';
export const RUN_SCRIPT = 'run.sh';
export const EXIT_CODE_FILE = 'exit-code';

/** PATH directories an administrator's shell has; ipvsadm and modprobe live in sbin. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

const NINEP_OPTIONS = 'trans=virtio,version=9p2000.L,msize=262144';

/** Quotes a word for bash or busybox sh: single quotes, with ' written as '\''. */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new Error('a shell word cannot contain a NUL byte');
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Names bash can export; others (BASH_FUNC_x%%, names with dots) are not passed. */
const EXPORTABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables that describe the host's shell or session, not the command's environment. */
const HOST_ONLY = new Set(['PWD', 'OLDPWD', 'SHLVL', '_', 'TERM_SESSION_ID', 'SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR']);

/** The environment the command sees in the VM: the caller's, with the sbin dirs on PATH. */
export function guestEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !EXPORTABLE.test(name) || HOST_ONLY.has(name) || value.includes('\0')) continue;
    out[name] = value;
  }
  const path = (out.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter((dir) => dir !== '');
  out.PATH = [...SBIN_DIRS.filter((dir) => !path.includes(dir)), ...path].join(':');
  return out;
}

export interface RunScriptInput {
  /** argv: the program and its arguments, never a shell string. */
  readonly command: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The bash script /init runs in the chroot: environment, directory, then exec the command. */
export function renderRunScript(input: RunScriptInput): string {
  if (input.command.length === 0) throw new Error('renderRunScript: empty command');
  const env = guestEnvironment(input.env);
  const lines = [
    '# Written by kube-local-up for one lab run; the command replaces this shell.',
    ...Object.keys(env)
      .sort()
      .map((name) => `export ${name}=${shellQuote(env[name] as string)}`),
    `cd -- ${shellQuote(input.cwd)} || { echo ${shellQuote(`lab: cannot enter ${input.cwd} inside the VM`)} >&2; exit 125; }`,
    `exec -- ${input.command.map(shellQuote).join(' ')}`,
    '',
  ];
  return lines.join('\n');
}

/**
 * The initramfs /init. `modules` are file names under /lib/modules in the
 * initramfs, in insmod order. Every step that can fail says which one on the console.
 */
export function renderInitScript(modules: readonly string[]): string {
  // NOTE: the read-only shares are cached in the guest (cache=loose): without it every page of
  // node's 100 MB binary is fetched over 9p again, which makes `node -e 0` take seconds under TCG.
  const mount9p = (tag: string, dir: string, readOnly: boolean) =>
    `mount9p ${tag} ${dir} ${readOnly ? `ro,cache=loose,${NINEP_OPTIONS}` : NINEP_OPTIONS}`;
  return `#!/bin/busybox sh
# kube-local-up lab: assemble a root file system from the host's shares, run one command, power off.
/bin/busybox mkdir -p /proc /sys /dev /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
echo '${INIT_MARKER}'
fail() { echo "${FAIL_MARKER} $*"; sync; poweroff -f; sleep 60; }
mount -t proc proc /proc || fail 'mount /proc'
mount -t sysfs sysfs /sys || fail 'mount /sys'
for module in ${modules.map(shellQuote).join(' ')}; do
  insmod "/lib/modules/$module" || fail "insmod $module"
done
# Virtio devices are probed asynchronously after insmod; retry briefly.
mount9p() {
  mkdir -p "$2"
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    mount -t 9p -o "$3" "$1" "$2" 2>/dev/null && return 0
    sleep 0.2
  done
  fail "mount 9p share $1 on $2"
}
${mount9p(SHARE_TAGS.hostRoot, '/host', true)}
${mount9p(SHARE_TAGS.io, '/io', false)}
mkdir -p /rw /newroot
mount -t tmpfs -o mode=0755 tmpfs /rw || fail 'mount tmpfs /rw'
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /newroot || fail 'mount overlay'
R=/newroot
# NOTE: /tmp stays the host's (through the overlay) so callers' temp folders exist in the VM.
mkdir -p $R/proc $R/sys $R/dev $R/run
mount -t proc proc $R/proc || fail 'mount proc in the new root'
mount -t sysfs sysfs $R/sys || fail 'mount sysfs in the new root'
mount -t devtmpfs devtmpfs $R/dev || fail 'mount devtmpfs in the new root'
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
mount -t tmpfs -o mode=0755 tmpfs $R/run || fail 'mount /run'
mkdir -p $R${GUEST_IO_DIR}
mount -o bind /io $R${GUEST_IO_DIR} || fail 'bind the io share'
mkdir -p $R/lib/modules
${mount9p(SHARE_TAGS.modules, '$R/lib/modules', true)}
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup 2>/dev/null
# Debian's convention: tools that check kernel options (doctor) read /boot/config-<release>.
if [ -f /kernel-config ]; then mkdir -p $R/boot && cp /kernel-config "$R/boot/config-$(uname -r)"; fi
# The kernel loads modules on demand (a netlink family for ipset and iptables, an IPVS scheduler)
# by running /proc/sys/kernel/modprobe from its own root, which is this initramfs: send it to the
# real modprobe in the new root, as on an installed system.
printf '#!/bin/busybox sh\nexec /bin/busybox chroot /newroot /sbin/modprobe "$@"\n' >/sbin/lab-modprobe
chmod 0755 /sbin/lab-modprobe
echo /sbin/lab-modprobe >/proc/sys/kernel/modprobe || fail 'set the kernel module loader'
hostname lab
# Tools that resolve their own host name (sudo) should find it.
echo '127.0.1.1 lab' >>$R/etc/hosts
ip link set lo up
out=; err=
for attempt in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  for port in /sys/class/virtio-ports/*; do
    [ -r "$port/name" ] || continue
    case "$(cat "$port/name")" in
      ${PORT_NAMES.stdout}) out=/dev/\${port##*/} ;;
      ${PORT_NAMES.stderr}) err=/dev/\${port##*/} ;;
    esac
  done
  [ -n "$out" ] && [ -n "$err" ] && [ -c "$out" ] && [ -c "$err" ] && break
  sleep 0.1
done
[ -n "$out" ] && [ -n "$err" ] || fail 'virtio-serial ports stdout/stderr not found'
echo '${RUN_MARKER}'
PATH=${SBIN_DIRS.join(':')}:/usr/local/bin:/usr/bin:/bin chroot $R /bin/bash ${GUEST_IO_DIR}/${RUN_SCRIPT} </dev/null >"$out" 2>"$err"
echo $? >/io/${EXIT_CODE_FILE}
sync
poweroff -f
sleep 60
`;
}
