// The probe: N requests to one address, each on a new TCP connection or UDP
// socket so IPVS schedules every one afresh, answered by the backend's name.
// In a cluster it is agnhost netexec's /dial endpoint on the client pod (as
// Kubernetes' e2e framework uses it); in the lab the same request is made from
// the VM (host-dial.ts). Both yield a DialResult, judged by analysis.ts.
import { isIP } from 'node:net';

export type DialProtocol = 'http' | 'udp';

export interface DialRequest {
  readonly protocol: DialProtocol;
  /** An IP address or a DNS name (resolved by the dialing side). */
  readonly host: string;
  readonly port: number;
  readonly tries: number;
}

export interface DialResult {
  /** Each answer (a backend's name), in order. */
  readonly responses: readonly string[];
  /** Each failed try's error, in order. */
  readonly errors: readonly string[];
  /**
   * netexec leaves "responses" out when its last try failed, so the answers of earlier tries
   * are unknown then (only the errors are counted).
   */
  readonly responsesOmitted: boolean;
}

/** Something that sends a probe: the client pod through kubectl, or this machine. */
export interface Dialer {
  /** For evidence: "client pod local-up-smoke-ab12cd/client (netexec /dial)". */
  readonly description: string;
  dial(request: DialRequest): Promise<DialResult>;
}

/** What netexec sends: `request=hostname` makes HTTP GET /hostname and the UDP "hostname" command. */
export const HOSTNAME_REQUEST = 'hostname';

/** netexec's /dial URL on the client pod itself (pure). */
export function dialUrl(request: DialRequest, netexecPort: number): string {
  if (!Number.isInteger(request.tries) || request.tries < 1) throw new Error(`bad tries: ${request.tries}`);
  const query = new URLSearchParams({
    request: HOSTNAME_REQUEST,
    protocol: request.protocol,
    host: request.host,
    port: String(request.port),
    tries: String(request.tries),
  });
  return `http://127.0.0.1:${netexecPort}/dial?${query.toString()}`;
}

/** "10.96.0.20:80" or "[fd00::20]:80" or "name:80", for messages. */
export function describeTarget(request: Pick<DialRequest, 'protocol' | 'host' | 'port'>): string {
  const host = isIP(request.host) === 6 ? `[${request.host}]` : request.host;
  return `${request.protocol === 'udp' ? 'UDP' : 'HTTP'} ${host}:${request.port}`;
}

export class DialResponseError extends Error {}

/**
 * Reads netexec's /dial answer: {"responses": [...], "errors": [...]} (either key absent when
 * empty). Anything else (netexec's 400 text for a name that does not resolve) is an error
 * carrying that text.
 */
export function parseDialResponse(text: string): DialResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DialResponseError(`not a /dial answer: ${text.trim().slice(0, 300) || '(empty)'}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DialResponseError(`not a /dial answer: ${text.trim().slice(0, 300)}`);
  const object = value as Record<string, unknown>;
  const strings = (key: string): string[] => {
    const list = object[key];
    if (list === undefined) return [];
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) throw new DialResponseError(`/dial answer: "${key}" is not a list of strings`);
    return list as string[];
  };
  const responses = strings('responses');
  const errors = strings('errors');
  return { responses: responses.map((r) => r.trim()), errors, responsesOmitted: object.responses === undefined && errors.length > 0 };
}
