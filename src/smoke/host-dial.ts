// The probe sent from this machine, the way netexec's /dial sends it: every try
// is a new TCP connection (HTTP GET /hostname, no keep-alive) or a new UDP socket
// sending "hostname", with netexec's 5 s per-try timeout. The lab uses it from
// the VM against its network-namespace pods, so the lab and a cluster feed the
// same analysis.
import { createSocket } from 'node:dgram';
import { request as httpRequest } from 'node:http';
import { isIP } from 'node:net';
import type { DialRequest, DialResult, Dialer } from './dial.js';
import { HOSTNAME_REQUEST } from './dial.js';

/** netexec's own per-try timeout (HTTP client timeout, UDP read deadline). */
export const DIAL_TRY_TIMEOUT_MS = 5_000;

function askHttp(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path: `/${HOSTNAME_REQUEST}`, agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`Get "http://${host}:${port}/${HOSTNAME_REQUEST}": timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function askUdp(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
    const finish = (error: Error | null, answer?: string) => {
      clearTimeout(timer);
      socket.close();
      if (error === null) resolve(answer ?? '');
      else reject(error);
    };
    const timer = setTimeout(() => finish(new Error(`reading from udp connection failed: no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('message', (message) => finish(null, message.toString('utf8')));
    socket.on('error', (error) => finish(error));
    socket.send(HOSTNAME_REQUEST, port, host);
  });
}

export class HostDialer implements Dialer {
  constructor(
    readonly description: string = 'this machine',
    private readonly tryTimeoutMs: number = DIAL_TRY_TIMEOUT_MS,
  ) {}

  async dial(request: DialRequest): Promise<DialResult> {
    const responses: string[] = [];
    const errors: string[] = [];
    for (let i = 0; i < request.tries; i++) {
      try {
        const answer = request.protocol === 'udp' ? await askUdp(request.host, request.port, this.tryTimeoutMs) : await askHttp(request.host, request.port, this.tryTimeoutMs);
        responses.push(answer.trim());
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    // Unlike netexec, the answers are kept even when the last try failed.
    return { responses, errors, responsesOmitted: false };
  }
}
