// Kubeconfig files for the components (paths to CERT_DIR, like local-up-cluster.sh's
// write_client_kubeconfig) and the user's copy (certificates embedded, so it keeps
// working wherever KUBECONFIG_OUT is copied). Pure: text in, text out.
import YAML from 'yaml';

export interface KubeconfigInput {
  /** https://host:port */
  readonly server: string;
  readonly clusterName: string;
  readonly userName: string;
  /** Either paths (component kubeconfigs) or PEM texts (embedded). */
  readonly credentials:
    | { readonly kind: 'paths'; readonly ca: string; readonly cert: string; readonly key: string }
    | { readonly kind: 'embedded'; readonly caPem: string; readonly certPem: string; readonly keyPem: string };
}

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

export function renderKubeconfig(input: KubeconfigInput): string {
  const c = input.credentials;
  const cluster = c.kind === 'paths' ? { server: input.server, 'certificate-authority': c.ca } : { server: input.server, 'certificate-authority-data': base64(c.caPem) };
  const user = c.kind === 'paths' ? { 'client-certificate': c.cert, 'client-key': c.key } : { 'client-certificate-data': base64(c.certPem), 'client-key-data': base64(c.keyPem) };
  const context = `${input.userName}@${input.clusterName}`;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: input.clusterName, cluster }],
    users: [{ name: input.userName, user }],
    contexts: [{ name: context, context: { cluster: input.clusterName, user: input.userName } }],
    'current-context': context,
    preferences: {},
  };
  return YAML.stringify(doc, { lineWidth: 0 });
}

/** "https://localhost:6443"; an IPv6 literal gets brackets. */
export function serverUrl(host: string, port: number): string {
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
