// Writes the "newc" cpio format the kernel unpacks as an initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst). Pure: entries in, bytes out.

export type CpioEntry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode?: number }
  | { readonly kind: 'file'; readonly path: string; readonly data: Uint8Array; readonly mode?: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'char'; readonly path: string; readonly major: number; readonly minor: number; readonly mode?: number };

const MAGIC = '070701';
const TYPE_DIR = 0o040000;
const TYPE_FILE = 0o100000;
const TYPE_SYMLINK = 0o120000;
const TYPE_CHAR = 0o020000;
const TRAILER = 'TRAILER!!!';

const hex8 = (value: number): string => {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`cpio field out of range: ${value}`);
  return value.toString(16).padStart(8, '0');
};

const padding = (length: number): Buffer => Buffer.alloc((4 - (length % 4)) % 4);

interface Record {
  readonly name: string;
  readonly mode: number;
  readonly data: Uint8Array;
  readonly rdevMajor: number;
  readonly rdevMinor: number;
}

function recordOf(entry: CpioEntry): Record {
  // NOTE: names are stored without a leading slash, like `find . | cpio -o` produces them.
  const name = entry.path.replace(/^\/+/, '');
  if (name === '' || name.split('/').includes('..')) throw new Error(`bad cpio path: ${entry.path}`);
  switch (entry.kind) {
    case 'dir':
      return { name, mode: TYPE_DIR | (entry.mode ?? 0o755), data: new Uint8Array(), rdevMajor: 0, rdevMinor: 0 };
    case 'file':
      return { name, mode: TYPE_FILE | (entry.mode ?? 0o644), data: entry.data, rdevMajor: 0, rdevMinor: 0 };
    case 'symlink':
      return { name, mode: TYPE_SYMLINK | 0o777, data: Buffer.from(entry.target), rdevMajor: 0, rdevMinor: 0 };
    case 'char':
      return { name, mode: TYPE_CHAR | (entry.mode ?? 0o600), data: new Uint8Array(), rdevMajor: entry.major, rdevMinor: entry.minor };
  }
}

function header(record: Record, ino: number): Buffer {
  const nameSize = Buffer.byteLength(record.name) + 1;
  const fields = [
    ino, // c_ino
    record.mode, // c_mode
    0, // c_uid
    0, // c_gid
    (record.mode & 0o170000) === TYPE_DIR ? 2 : 1, // c_nlink
    0, // c_mtime: fixed, so the same inputs give the same archive
    record.data.length, // c_filesize
    0, // c_devmajor
    0, // c_devminor
    record.rdevMajor,
    record.rdevMinor,
    nameSize,
    0, // c_check (only used by the "crc" variant)
  ];
  return Buffer.from(MAGIC + fields.map(hex8).join(''), 'ascii');
}

/** Encodes entries (parents before children) as one newc archive with its trailer. */
export function encodeNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (buffer: Buffer) => {
    parts.push(buffer);
    offset += buffer.length;
  };
  const write = (record: Record, ino: number) => {
    push(header(record, ino));
    push(Buffer.from(`${record.name}\0`, 'utf8'));
    push(padding(offset));
    if (record.data.length > 0) {
      push(Buffer.from(record.data.buffer, record.data.byteOffset, record.data.length));
      push(padding(offset));
    }
  };
  entries.forEach((entry, i) => write(recordOf(entry), i + 1));
  write({ name: TRAILER, mode: 0, data: new Uint8Array(), rdevMajor: 0, rdevMinor: 0 }, 0);
  return Buffer.concat(parts);
}

/** Reads a newc archive back (tests, and `lab prepare` checking what it wrote). */
export function decodeNewc(archive: Buffer): { name: string; mode: number; data: Buffer; rdevMajor: number; rdevMinor: number }[] {
  const out: { name: string; mode: number; data: Buffer; rdevMajor: number; rdevMinor: number }[] = [];
  let offset = 0;
  const align = () => (offset = (offset + 3) & ~3);
  for (;;) {
    if (archive.toString('ascii', offset, offset + 6) !== MAGIC) throw new Error(`bad cpio magic at offset ${offset}`);
    const field = (i: number) => parseInt(archive.toString('ascii', offset + 6 + i * 8, offset + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const rdevMajor = field(9);
    const rdevMinor = field(10);
    const nameSize = field(11);
    offset += 110;
    const name = archive.toString('utf8', offset, offset + nameSize - 1);
    offset += nameSize;
    align();
    const data = archive.subarray(offset, offset + size);
    offset += size;
    align();
    if (name === TRAILER) return out;
    out.push({ name, mode, data, rdevMajor, rdevMinor });
  }
}
