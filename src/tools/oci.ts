// A minimal OCI image archive as data: one uncompressed layer (a ustar tar of the
// files given), the image config, the manifest, index.json and oci-layout, all in
// one outer tar that `ctr images import` reads. Pure: bytes in, bytes out.
//
// Formats and their sources:
// - OCI image spec v1.1 (image-layout.md, manifest.md, config.md, annotations.md):
//   oci-layout {"imageLayoutVersion":"1.0.0"}; blobs/sha256/<hex>; index.json lists
//   manifests; a layer of media type application/vnd.oci.image.layer.v1.tar has
//   diff_id = its own digest; org.opencontainers.image.ref.name names the tag.
// - containerd (images/archive/importer.go, v1.6 and v2): an index entry's
//   io.containerd.image.name annotation is the image's full name when present; its
//   own exporter writes both annotations, and so do we.
// - POSIX ustar (pax spec, "ustar Interchange Format"): 512-byte headers, octal
//   fields, checksum over the header with the checksum field as spaces, two zero
//   blocks at the end. Names up to 100 bytes (ours are short paths).
import { createHash } from 'node:crypto';

export const OCI_MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
export const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';

export interface ImageFile {
  /** Path inside the image, without a leading slash: "pause", "etc/passwd". */
  readonly path: string;
  readonly content: Uint8Array;
  /** Unix permission bits, e.g. 0o755. */
  readonly mode: number;
}

export interface ImageSpec {
  /** Full reference with a tag: registry.k8s.io/pause:3.10.1. */
  readonly reference: string;
  readonly files: readonly ImageFile[];
  readonly entrypoint: readonly string[];
  readonly cmd?: readonly string[];
  /** "65535:65535", or absent for root. */
  readonly user?: string;
  readonly env?: readonly string[];
  /** Go's architecture name (amd64, arm64). */
  readonly architecture: string;
  /** Extra labels in the config (where the binary came from). */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface OciArchive {
  /** The outer tar: oci-layout, index.json and blobs/sha256/*. */
  readonly archive: Uint8Array;
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly layerDigest: string;
}

const BLOCK = 512;
const encoder = new TextEncoder();

export const sha256Digest = (data: Uint8Array): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Splits a reference into name and tag: registry.k8s.io/pause:3.10.1 → [registry.k8s.io/pause, 3.10.1]. Throws without a tag. */
export function splitReference(reference: string): { name: string; tag: string } {
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  if (colon <= slash || colon === reference.length - 1 || reference.includes('@') || /\s/.test(reference)) {
    throw new Error(`image reference ${JSON.stringify(reference)} needs a tag (name:tag) and no digest`);
  }
  return { name: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}

function octal(value: number, width: number): string {
  // width-1 octal digits and a NUL, as GNU tar and Go's archive/tar write them.
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header block. */
function tarHeader(name: string, size: number, mode: number, type: '0' | '5'): Uint8Array {
  const nameBytes = encoder.encode(name);
  if (nameBytes.length > 100) throw new Error(`tar: path longer than 100 bytes: ${name}`);
  const header = new Uint8Array(BLOCK);
  const put = (offset: number, text: string) => header.set(encoder.encode(text), offset);
  header.set(nameBytes, 0);
  put(100, octal(mode & 0o7777, 8));
  put(108, octal(0, 8)); // uid
  put(116, octal(0, 8)); // gid
  put(124, octal(size, 12));
  put(136, octal(0, 12)); // mtime: 0 for reproducible archives
  put(148, '        '); // checksum placeholder
  put(156, type);
  put(257, 'ustar\0');
  put(263, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
}

export interface TarEntry {
  readonly path: string;
  /** null: a directory. */
  readonly content: Uint8Array | null;
  readonly mode: number;
}

/** A ustar archive of the entries, in the order given. */
export function writeTar(entries: readonly TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const entry of entries) {
    const isDir = entry.content === null;
    const name = isDir && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
    const size = entry.content?.length ?? 0;
    parts.push(tarHeader(name, size, entry.mode, isDir ? '5' : '0'));
    total += BLOCK;
    if (entry.content !== null && size > 0) {
      parts.push(entry.content);
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad > 0) parts.push(new Uint8Array(pad));
      total += size + pad;
    }
  }
  parts.push(new Uint8Array(2 * BLOCK));
  total += 2 * BLOCK;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The layer's entries: each file's parent folders first (once), then the file. */
export function layerEntries(files: readonly ImageFile[]): TarEntry[] {
  const seen = new Set<string>();
  const entries: TarEntry[] = [];
  for (const file of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    if (file.path === '' || file.path.startsWith('/') || file.path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
      throw new Error(`image file path must be relative and plain: ${JSON.stringify(file.path)}`);
    }
    if (seen.has(file.path)) throw new Error(`image file listed twice: ${file.path}`);
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!seen.has(dir)) {
        seen.add(dir);
        entries.push({ path: dir, content: null, mode: 0o755 });
      }
    }
    seen.add(file.path);
    entries.push({ path: file.path, content: file.content, mode: file.mode });
  }
  return entries;
}

const json = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

/** The whole OCI image archive for one single-platform image. */
export function buildOciArchive(spec: ImageSpec): OciArchive {
  const { tag } = splitReference(spec.reference);
  const layer = writeTar(layerEntries(spec.files));
  const layerDigest = sha256Digest(layer);
  const config = json({
    architecture: spec.architecture,
    os: 'linux',
    config: {
      Entrypoint: [...spec.entrypoint],
      ...(spec.cmd === undefined ? {} : { Cmd: [...spec.cmd] }),
      ...(spec.user === undefined ? {} : { User: spec.user }),
      Env: [...(spec.env ?? ['PATH=/usr/local/bin:/usr/bin:/bin'])],
      ...(spec.labels === undefined ? {} : { Labels: { ...spec.labels } }),
    },
    rootfs: { type: 'layers', diff_ids: [layerDigest] },
    history: [{ created_by: 'kube-local-up tools images' }],
  });
  const configDigest = sha256Digest(config);
  const manifest = json({
    schemaVersion: 2,
    mediaType: OCI_MEDIA_TYPES.manifest,
    config: { mediaType: OCI_MEDIA_TYPES.config, digest: configDigest, size: config.length },
    layers: [{ mediaType: OCI_MEDIA_TYPES.layer, digest: layerDigest, size: layer.length }],
  });
  const manifestDigest = sha256Digest(manifest);
  const index = json({
    schemaVersion: 2,
    mediaType: OCI_MEDIA_TYPES.index,
    manifests: [
      {
        mediaType: OCI_MEDIA_TYPES.manifest,
        digest: manifestDigest,
        size: manifest.length,
        platform: { architecture: spec.architecture, os: 'linux' },
        annotations: { [ANNOTATION_CONTAINERD_NAME]: spec.reference, [ANNOTATION_REF_NAME]: tag },
      },
    ],
  });
  const blob = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`;
  const archive = writeTar([
    { path: 'blobs', content: null, mode: 0o755 },
    { path: 'blobs/sha256', content: null, mode: 0o755 },
    { path: blob(layerDigest), content: layer, mode: 0o644 },
    { path: blob(configDigest), content: config, mode: 0o644 },
    { path: blob(manifestDigest), content: manifest, mode: 0o644 },
    { path: 'index.json', content: index, mode: 0o644 },
    { path: 'oci-layout', content: json({ imageLayoutVersion: '1.0.0' }), mode: 0o644 },
  ]);
  return { archive, manifestDigest, configDigest, layerDigest };
}
