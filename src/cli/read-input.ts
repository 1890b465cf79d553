// Reads a command's input file (or stdin) with a size cap: endless or huge input (/dev/zero, a
// wrong file) stops with a clear message instead of exhausting memory or V8's string limit.
import { closeSync, openSync, readSync } from 'node:fs';
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
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      const read = readSync(fd, buffer, 0, CHUNK_BYTES, null);
      if (read === 0) break;
      total += read;
      if (total > cap) throw tooLarge(name, cap);
      chunks.push(read === CHUNK_BYTES ? buffer : buffer.subarray(0, read));
    }
    return Buffer.concat(chunks, total).toString('utf8');
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
