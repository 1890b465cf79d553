// The client pod's netexec /dial, reached with `kubectl exec ... curl`: how smoke
// sends traffic from inside the cluster.
import type { Kubectl } from '../kube/kubectl.js';
import type { DialRequest, DialResult, Dialer } from './dial.js';
import { describeTarget, dialUrl, parseDialResponse } from './dial.js';
import { CLIENT_POD, HTTP_PORT } from './manifests.js';

/** netexec gives each try 5 s; curl gets that per try plus a margin, kubectl exec curl's time plus KUBECTL_TIMEOUT. */
const NETEXEC_TRY_SECONDS = 5;
const DIAL_MARGIN_SECONDS = 15;

/** The client pod's netexec /dial, reached with `kubectl exec ... curl`. */
export class ClientPodDialer implements Dialer {
  readonly description: string;
  constructor(
    private readonly kubectl: Kubectl,
    private readonly namespace: string,
  ) {
    this.description = `client pod ${namespace}/${CLIENT_POD} (netexec /dial)`;
  }

  async dial(request: DialRequest): Promise<DialResult> {
    const budget = request.tries * (NETEXEC_TRY_SECONDS + 1) + DIAL_MARGIN_SECONDS;
    const args = ['-n', this.namespace, 'exec', CLIENT_POD, '--', 'curl', '-sS', '--max-time', String(budget), dialUrl(request, HTTP_PORT)];
    const timeoutMs = this.kubectl.deadline(budget * 1000);
    const result = await this.kubectl.run(args, { timeoutMs });
    if (result.exitCode !== 0) throw this.kubectl.failure(result, `probing ${describeTarget(request)} from ${this.namespace}/${CLIENT_POD}`, timeoutMs);
    try {
      return parseDialResponse(result.stdout);
    } catch (error) {
      // netexec answers 400 with text when the host does not resolve: the whole probe failed.
      return { responses: [], errors: [(error as Error).message], responsesOmitted: false };
    }
  }
}
