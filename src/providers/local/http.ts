// HTTP(S) GETs for readiness: etcd's /health, the components' /healthz (TLS,
// verified against the cluster CA), kube-proxy's /healthz and /proxyMode.
// A small seam so readiness logic is tested without sockets.
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Body bytes kept (health answers are tiny; a misdirected port may not be). */
const MAX_BODY_BYTES = 64 * 1024;

export type HttpAnswer =
  | { readonly ok: true; readonly status: number; readonly body: string }
  | { readonly ok: false; readonly error: string };

export interface HttpGetOptions {
  readonly timeoutMs: number;
  /** PEM file the server's certificate must chain to (https). */
  readonly caFile?: string;
  readonly signal?: AbortSignal;
}

export interface HttpClient {
  get(url: string, options: HttpGetOptions): Promise<HttpAnswer>;
}

export class NodeHttpClient implements HttpClient {
  async get(url: string, options: HttpGetOptions): Promise<HttpAnswer> {
    let ca: string | undefined;
    if (options.caFile !== undefined) {
      try {
        ca = await readFile(options.caFile, 'utf8');
      } catch (error) {
        return { ok: false, error: `cannot read ${options.caFile}: ${(error as Error).message}` };
      }
    }
    return new Promise((resolve) => {
      const secure = url.startsWith('https:');
      const request = (secure ? httpsRequest : httpRequest)(
        url,
        // agent: false: a fresh connection per probe (a kept-alive socket would outlive a restarted server).
        { method: 'GET', agent: false, timeout: options.timeoutMs, ...(secure && ca !== undefined ? { ca } : {}), ...(options.signal === undefined ? {} : { signal: options.signal }) },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_BODY_BYTES) chunks.push(chunk);
          });
          response.on('end', () => resolve({ ok: true, status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', (error) => resolve({ ok: false, error: error.message }));
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
      request.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, error: error.code === undefined ? error.message : `${error.code}: ${error.message}` }));
      request.end();
    });
  }
}
