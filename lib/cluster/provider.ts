// The cluster provider interface: what `up` needs from wherever the cluster comes from
// (minikube, kind, the current kubeconfig context, the project's sandbox control plane).
// `up` calls the four steps in this order: ensureCluster, ensureIngress, (build images),
// loadImages, and after the stages, address. Each step is idempotent: running it against a
// cluster that is already in the wanted state changes nothing.
import type { Environment } from '../config.ts';
import type { ImageRefs } from '../images/build.ts';
import type { Redact } from '../images/docker.ts';

export type ProviderName = 'minikube' | 'kind' | 'current' | 'sandbox';

export interface ClusterContext {
  environment: Environment;
  /**
   * Settings the providers read, by name: REGISTRY (where prod images are pushed), KUBECONFIG,
   * MINIKUBE_PROFILE and the like. The caller merges env/<environment>.env and the process
   * environment into it; providers never read process.env themselves, so tests can pass a map.
   */
  settings: Record<string, string | undefined>;
  /** The kubeconfig context named with --context, if any. */
  kubeContext?: string;
  /** One line of progress for the user (a listr2 task's output, or the console). */
  log: (line: string) => void;
  /** lib/secrets' redaction, applied to every tool output a provider shows. */
  redact: Redact;
  signal?: AbortSignal;
}

/** How the user reaches the app once it is up. */
export interface ClusterAddress {
  /** The ingress address (an IP or host name), when the provider knows it. */
  ingress?: string;
  /** A sentence for the user when there is something to do (hosts file, port forward). */
  hint?: string;
}

export interface ClusterProvider {
  readonly name: ProviderName;
  /** Make sure the cluster runs and the kubeconfig points at it (start it only when needed). */
  ensureCluster(ctx: ClusterContext): Promise<void>;
  /** Make sure an ingress controller is installed and ready before any Ingress is applied. */
  ensureIngress(ctx: ClusterContext): Promise<void>;
  /**
   * Make the built images available to the cluster's nodes. Returns the refs the manifests must
   * use: the same refs when the images are loaded into the nodes, registry-qualified refs when
   * they were pushed to a registry.
   */
  loadImages(refs: ImageRefs, ctx: ClusterContext): Promise<ImageRefs>;
  /** Where the app is reachable after `up`. */
  address(ctx: ClusterContext): Promise<ClusterAddress>;
}
