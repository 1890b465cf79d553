// Reads a command's input file (or stdin) with a size cap: endless or huge input (/dev/zero, a
// wrong file) stops with a clear message instead of exhausting memory or V8's string limit.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { usageError } from '../errors.js';

/** Far above any real IPVS table or cluster dump (100,000 Services list in about 15 MiB). */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

const tooLarge = (name: string, cap: number) =>
  usageError(`${name} is larger than ${cap / (1024 * 1024)} MiB: not an input kube-local-up reads`, 'give a file holding one IPVS table or one kubectl -o json dump');

/** Reads a file as UTF-8, at most `cap` bytes; errors from the file system are thrown as they are. */
export function readTextFileCapped(path: string, name: string, cap = MAX_INPUT_BYTES): string {
  const fd = openSync(path, 'r');
  try {
    // A regular file says its size: one buffer one byte larger reads it whole and proves the end in
    // one more read (a cluster dump is tens of MiB: no copies). /proc files and pipes say 0: chunks.
    const size = fstatSync(fd).size;
    if (size > cap) throw tooLarge(name, cap);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const length = chunks.length === 0 ? Math.max(CHUNK_BYTES, size + 1) : CHUNK_BYTES;
      const buffer = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const read = readSync(fd, buffer, filled, length - filled, null);
        if (read === 0) break;
        filled += read;
      }
      total += filled;
      if (total > cap) throw tooLarge(name, cap);
      if (filled > 0) chunks.push(filled === length ? buffer : buffer.subarray(0, filled));
      if (filled < length) break;
    }
    return chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Reads a stream (stdin) as UTF-8, at most `cap` bytes. */
export async function readStreamCapped(stream: AsyncIterable<Buffer | string>, name: string, cap = MAX_INPUT_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += buffer.length;
    if (total > cap) throw tooLarge(name, cap);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
