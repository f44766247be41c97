// Connection to a cluster through @kubernetes/client-node: the kubeconfig (KUBECONFIG and
// --context honoured), and a reachability check that turns network failures into one clear
// sentence naming the server, before anything is applied.
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { DeployError, UsageError } from '../errors.ts';
import { getJson } from './raw.ts';

export interface Cluster {
  kc: KubeConfig;
  objects: KubernetesObjectApi;
  context: string;
  server: string;
}

export function loadKubeConfig(context?: string): Cluster {
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (err) {
    throw new UsageError(`The kubeconfig could not be read (${process.env.KUBECONFIG ?? '~/.kube/config'}): ${(err as Error).message}. Fix: point KUBECONFIG at a valid kubeconfig file.`);
  }
  if (context) {
    if (!kc.getContexts().some((c) => c.name === context)) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new UsageError(`The kubeconfig has no context "${context}" (given with --context). Fix: use one of: ${known}.`);
    }
    kc.setCurrentContext(context);
  }
  const current = kc.getCurrentContext();
  const server = kc.getCurrentCluster()?.server;
  if (!current || !server) {
    throw new UsageError(`No current Kubernetes context is set in ${process.env.KUBECONFIG ?? '~/.kube/config'}. Fix: start a cluster, or choose a context with --context <name> or KUBECONFIG.`);
  }
  return clusterFromKubeConfig(kc);
}

/** A Cluster for a kubeconfig already loaded (e.g. the test control plane's), at its current context. */
export function clusterFromKubeConfig(kc: KubeConfig): Cluster {
  return { kc, objects: KubernetesObjectApi.makeApiClient(kc), context: kc.getCurrentContext(), server: kc.getCurrentCluster()?.server ?? '' };
}

/** The low-level cause of a failed request (fetch wraps socket errors in `cause`). */
export function networkCause(err: unknown): string | undefined {
  let e: any = err;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause) {
    const code = e.code ?? e.errno;
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+|CERT_[A-Z_]+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/.test(code)) {
      return code;
    }
    if (e.type === 'system' && e.message) return e.message;
    // fetch reports every transport failure as "fetch failed" with the reason in `cause`.
    if (e instanceof TypeError && e.message === 'fetch failed') {
      const inner = (e as { cause?: { message?: string; code?: string } }).cause;
      if (inner && !inner.code) return inner.message ?? 'the request failed';
    }
  }
  return undefined;
}

const CAUSE_TEXT: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (nothing listens there)',
  ENOTFOUND: 'the host name does not resolve',
  EHOSTUNREACH: 'the host is unreachable',
  ETIMEDOUT: 'the connection timed out',
  ECONNRESET: 'the connection was reset',
};

export function unreachableError(cluster: Pick<Cluster, 'server' | 'context'>, cause: string): DeployError {
  const why = CAUSE_TEXT[cause] ?? cause;
  return new DeployError(
    `Cannot reach the Kubernetes API server at ${cluster.server} (context "${cluster.context}"): ${why}. ` +
      'Nothing was applied. Fix: start the cluster (for example `minikube start -p todo` or `npm run controlplane -- start`), ' +
      'or select a reachable one with --context or KUBECONFIG.',
    // The socket error stays readable (lib/kube/retry.ts tells a restarting server from a refusal).
    { cause: Object.assign(new Error(cause), { code: cause }) },
  );
}

/** Asks the API server for its version with a deadline; the answer proves the cluster is reachable. */
export async function checkReachable(cluster: Cluster, timeoutMs = 10_000): Promise<string> {
  // Through raw.ts: the connection it opens is the one the lists and applies that follow reuse.
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs).unref(),
  );
  try {
    const info = await Promise.race([getJson<{ gitVersion: string }>(cluster, '/version'), timeout]);
    return info.gitVersion;
  } catch (err) {
    const cause = networkCause(err);
    if (cause) throw unreachableError(cluster, cause);
    const status = (err as { code?: number }).code;
    if (status === 401 || status === 403) {
      throw new DeployError(`The API server at ${cluster.server} refused our credentials (HTTP ${status}, context "${cluster.context}"). Nothing was applied. Fix: refresh the kubeconfig's credentials for that context.`);
    }
    throw new DeployError(`The API server at ${cluster.server} did not answer as expected: ${(err as Error).message}. Nothing was applied.`, { cause: err });
  }
}
