// The cluster provider interface: what `up` and `down` need from wherever the cluster comes
// from (minikube, kind, the current kubeconfig context, the project's sandbox control plane).
// `up` calls: ensureCluster, ensureIngress, (the Dapr step), (build images), loadImages, and
// after the stages, address. `down` calls findCluster, and purge with --purge. Each step is
// idempotent: against a cluster already in the wanted state it changes nothing.
import type { Environment } from '../config.ts';
import { UsageError } from '../errors.ts';
import type { ImageRefs } from '../types.ts';
import type { Redactor } from '../output.ts';
import type { Cluster } from '../kube/client.ts';
import type { ToolName } from './tools.ts';
import type { Enforcement } from './policy-enforcement.ts';

export const PROVIDER_NAMES = ['minikube', 'kind', 'current', 'sandbox'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export function defaultProviderName(environment: Environment): ProviderName {
  return environment === 'prod' ? 'current' : 'minikube';
}

/** Checks --cluster's value; undefined means the environment's default. */
export function parseProviderName(value: unknown): ProviderName | undefined {
  if (value === undefined) return undefined;
  if ((PROVIDER_NAMES as readonly unknown[]).includes(value)) return value as ProviderName;
  throw new UsageError(`Unknown cluster provider "${String(value)}" given to --cluster. Fix: use one of ${PROVIDER_NAMES.join(', ')} (see --help).`);
}

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
  /** lib/output's redaction, applied to every tool output a provider shows. */
  redact: Redactor;
  signal?: AbortSignal;
  /** How long a wait (ingress controller, Dapr) may take, in seconds (default 300). */
  timeoutSeconds?: number;
}

/** Which cluster the rest of the run talks to, once the provider has made sure it runs. */
export interface ClusterTarget {
  /** kubeconfig context to use; undefined: --context, else the current context. */
  context?: string;
  /** kubeconfig file for this run (sandbox); undefined: KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string;
  /** What the provider found or did, for the task title ("minikube profile todo: started"). */
  summary: string;
}

/** How the user reaches the app once it is up. */
export interface ClusterAddress {
  /** The ingress address (an IP or host name) the domain must resolve to, when known. */
  ingress?: string;
  /** False when nothing serves traffic (sandbox: pods are simulated). */
  serves: boolean;
  /** A sentence for the user when there is something to know or do (tunnel, port forward). */
  hint?: string;
}

export interface ClusterProvider {
  readonly name: ProviderName;
  /** The command-line tool the provider cannot work without, checked before anything runs. */
  readonly tool?: ToolName;
  /** When the images are not needed at all (sandbox with simulated pods: nothing runs them): the reason; else undefined. */
  imagesNotNeeded?(ctx: ClusterContext): string | undefined;
  /** How to get an ingress controller publishing addresses here, for an Ingress gate that timed out. */
  readonly ingressFix?: string;
  /**
   * Before anything is started, installed or built: can the images go where they must (the
   * registry `current` pushes to in prod)? Throws, naming it and the fix, when they cannot;
   * returns a phrase for the cluster step's summary, or undefined when there is nothing to check.
   */
  checkImageTarget?(ctx: ClusterContext): Promise<string | undefined>;
  /** Make sure the cluster runs and say how to reach it (start or create it only when needed). */
  ensureCluster(ctx: ClusterContext): Promise<ClusterTarget>;
  /** The cluster if it exists and runs, without starting anything (`down`, `doctor`); undefined with a reason otherwise. */
  findCluster(ctx: ClusterContext): Promise<ClusterTarget | { absent: string }>;
  /** Make sure an ingress controller is installed and ready before any Ingress is applied. Returns a summary. */
  ensureIngress(cluster: Cluster, ctx: ClusterContext): Promise<string>;
  /**
   * Make the built images available to the cluster's nodes. Returns the refs the manifests must
   * use: the same refs when the images are loaded into the nodes, registry-qualified refs when
   * they were pushed to a registry. Only the images the manifests run are given (no PostgreSQL
   * image when the external database is used), and only theirs are returned.
   */
  loadImages(refs: Partial<ImageRefs>, ctx: ClusterContext): Promise<Partial<ImageRefs>>;
  /** Where the app is reachable after `up`. */
  address(cluster: Cluster, ctx: ClusterContext, namespace: string): Promise<ClusterAddress>;
  /**
   * After the gates, before `up` prints the address: waits until the cluster's network routes
   * the namespace's Services to the pods the gates saw ready (the sandbox's real node: kube-proxy's
   * rules). Returns a few words for the address step, or undefined when there is nothing to say.
   */
  routesReady?(cluster: Cluster, ctx: ClusterContext, namespace: string): Promise<string | undefined>;
  /**
   * Provides the Dapr control plane itself instead of helm or the Dapr CLI (sandbox: a stand-in).
   * Returns a summary.
   */
  provideDapr?(cluster: Cluster, ctx: ClusterContext): Promise<string>;
  /**
   * Whether the cluster enforces NetworkPolicies, where the provider knows better than the
   * cluster's DaemonSets (the sandbox's node runs kube-router as a host process); undefined: ask the cluster.
   */
  policyEnforcement?(ctx: ClusterContext): Enforcement | undefined;
  /** `down --purge`: delete what `up` created (profile, cluster) or stop it. Returns what was done. */
  purge(ctx: ClusterContext): Promise<string>;
}

/** The wait deadline for a provider step, as an absolute time. */
export function deadlineOf(ctx: Pick<ClusterContext, 'timeoutSeconds'>): number {
  return Date.now() + (ctx.timeoutSeconds ?? 300) * 1000;
}
