// The one door for downloads: an HTTP(S) body streamed to a file, with a size
// cap and a hash applied to every chunk as it arrives. Nothing is ever held in
// memory whole, an endless response stops at the cap, and a failed or refused
// download leaves no file behind (the caller names a temporary path and moves
// it into place only after the hash matched).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';

export type HashAlgorithm = 'sha256' | 'sha512';

export interface DownloadRequest {
  readonly url: string;
  /** Where the bytes go; removed again when anything fails. */
  readonly file: string;
  readonly maxBytes: number;
  readonly algorithm: HashAlgorithm;
  /** When given, a different digest fails the download (and removes the file). */
  readonly expectedDigest?: string;
  readonly signal: AbortSignal;
  /** Called as bytes arrive (progress lines); total is null when the server did not say. */
  readonly onProgress?: (received: number, total: number | null) => void;
}

export interface DownloadResult {
  readonly bytes: number;
  readonly digest: string;
}

/** Why a download failed, in terms the caller turns into a LocalUpError. */
export class DownloadError extends Error {
  constructor(
    message: string,
    readonly kind: 'http' | 'network' | 'too-large' | 'digest' | 'write' | 'aborted',
    readonly actualDigest?: string,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

export type Fetcher = (url: string, init: { signal: AbortSignal; redirect: 'follow' }) => Promise<Response>;

/** Streams url into request.file. Throws DownloadError; never leaves the file behind on failure. */
export async function downloadToFile(request: DownloadRequest, fetcher: Fetcher = fetch): Promise<DownloadResult> {
  let response: Response;
  try {
    response = await fetcher(request.url, { signal: request.signal, redirect: 'follow' });
  } catch (error) {
    if (request.signal.aborted) throw new DownloadError('interrupted', 'aborted');
    throw new DownloadError(describeNetworkError(error), 'network');
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadError(`HTTP ${response.status} ${response.statusText}`.trim(), 'http');
  }
  const declaredText = response.headers.get('content-length');
  const declared = declaredText === null ? null : Number(declaredText);
  if (declared !== null && declared > request.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadError(`the server announces ${declared} bytes, more than the ${request.maxBytes} allowed`, 'too-large');
  }
  if (response.body === null) throw new DownloadError('the server sent no body', 'http');

  const hash = createHash(request.algorithm);
  const out = createWriteStream(request.file, { mode: 0o600 });
  let writeError: Error | null = null;
  out.on('error', (error) => {
    writeError = error;
  });
  let received = 0;
  try {
    const reader = response.body.getReader();
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (request.signal.aborted) throw new DownloadError('interrupted', 'aborted');
        throw new DownloadError(describeNetworkError(error), 'network');
      }
      if (chunk.done) break;
      received += chunk.value.byteLength;
      if (received > request.maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new DownloadError(`more than the ${request.maxBytes} bytes allowed arrived; stopped there`, 'too-large');
      }
      hash.update(chunk.value);
      if (writeError !== null) throw new DownloadError((writeError as Error).message, 'write');
      if (!out.write(chunk.value)) await Promise.race([once(out, 'drain'), once(out, 'error')]);
      request.onProgress?.(received, declared);
    }
    out.end();
    await Promise.race([once(out, 'finish'), once(out, 'error')]);
    if (writeError !== null) throw new DownloadError((writeError as Error).message, 'write');
  } catch (error) {
    out.destroy();
    await rm(request.file, { force: true });
    if (error instanceof DownloadError) throw error;
    throw new DownloadError((error as Error).message, 'write');
  }
  const digest = hash.digest('hex');
  if (request.expectedDigest !== undefined && digest !== request.expectedDigest.toLowerCase()) {
    await rm(request.file, { force: true });
    throw new DownloadError(`${request.algorithm} mismatch: expected ${request.expectedDigest}, got ${digest}`, 'digest', digest);
  }
  return { bytes: received, digest };
}

/** Reads a small text (a checksum file) with the same cap discipline, in memory. */
export async function downloadText(url: string, maxBytes: number, signal: AbortSignal, fetcher: Fetcher = fetch): Promise<string> {
  let response: Response;
  try {
    response = await fetcher(url, { signal, redirect: 'follow' });
  } catch (error) {
    if (signal.aborted) throw new DownloadError('interrupted', 'aborted');
    throw new DownloadError(describeNetworkError(error), 'network');
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadError(`HTTP ${response.status} ${response.statusText}`.trim(), 'http');
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const chunk = await reader.read().catch((error: unknown) => {
      throw new DownloadError(signal.aborted ? 'interrupted' : describeNetworkError(error), signal.aborted ? 'aborted' : 'network');
    });
    if (chunk.done) break;
    received += chunk.value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new DownloadError(`more than the ${maxBytes} bytes allowed arrived; stopped there`, 'too-large');
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  if (typeof code === 'string') return `${error.message} (${code})`;
  return cause instanceof Error && cause.message !== '' ? `${error.message} (${cause.message})` : error.message;
}

/** The hex digest of a file, streamed (a cached download is re-hashed before it is trusted). */
export async function hashFile(file: string, algorithm: HashAlgorithm = 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
