// Readiness gates (one per kind). The predicates are pure functions of the objects, tested on
// fixtures; `gatesFor` pairs each applied object with the watch that waits for its state.
import type { KubeObject } from './types.ts';
import type { Verdict, WatchTarget } from './kube/watch.ts';

export interface Gate {
  /** Shown in the task title before progress arrives. */
  title: string;
  /** What we wait for, for the timeout message. */
  goal: string;
  target: WatchTarget;
  evaluate: (items: KubeObject[]) => Verdict;
  /** The object the gate is about, for diagnosis on failure. */
  subject: KubeObject;
}

const NAMESPACE_KIND = { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };
const DEPLOYMENT_KIND = { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true };
const SLICE_KIND = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true };
const INGRESS_KIND = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses', namespaced: true };

/** Namespace: Active (a Terminating one from an earlier `down` must finish first). */
export function namespaceVerdict(ns: KubeObject | undefined): Verdict {
  if (!ns) return { done: false, progress: 'not created yet' };
  const phase = ns.status?.phase ?? 'Unknown';
  // The progress text replaces the task title, so it names the namespace as the other gates do.
  return { done: phase === 'Active', progress: `namespace ${ns.metadata.name} ${phase}` };
}

function condition(object: KubeObject, type: string): { status?: string; reason?: string; message?: string } | undefined {
  return (object.status?.conditions as Array<{ type: string; status?: string; reason?: string; message?: string }> | undefined)?.find((c) => c.type === type);
}

/**
 * Deployment rolled out: the controller has seen the latest spec (observedGeneration), every
 * desired replica runs the new template (updated) and is available, and no old replica lingers.
 * ProgressDeadlineExceeded means the controller gave up: fail now instead of at our deadline.
 */
export function deploymentVerdict(d: KubeObject | undefined): Verdict {
  if (!d) return { done: false, progress: 'not created yet' };
  const name = d.metadata.name;
  const desired: number = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const ready: number = s.readyReplicas ?? 0;
  const progress = `${name} ${ready}/${desired} ready`;
  const observed = (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1);
  const progressing = condition(d, 'Progressing');
  // Only a condition about the generation the controller has seen counts (as in `kubectl rollout
  // status`): right after a re-apply the status still carries the previous rollout's verdict.
  if (observed && progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    const why = (progressing.message ?? 'no progress').replace(/\.$/, '');
    return { done: false, progress, failed: `Deployment ${name} exceeded its progress deadline: ${why}.` };
  }
  const done =
    observed &&
    (s.updatedReplicas ?? 0) === desired &&
    (s.availableReplicas ?? 0) === desired &&
    (s.replicas ?? 0) === desired &&
    (s.unavailableReplicas ?? 0) === 0;
  return { done, progress };
}

/** Ready endpoints across a Service's EndpointSlices (an endpoint without conditions counts as ready). */
export function readyEndpointCount(slices: KubeObject[]): number {
  let count = 0;
  for (const slice of slices) {
    for (const endpoint of (slice.endpoints as Array<{ conditions?: { ready?: boolean } }> | undefined) ?? []) {
      if (endpoint.conditions?.ready !== false) count++;
    }
  }
  return count;
}

export function endpointsVerdict(service: string, slices: KubeObject[]): Verdict {
  const ready = readyEndpointCount(slices);
  return { done: ready > 0, progress: `${service} ${ready} ready endpoint${ready === 1 ? '' : 's'}` };
}

/** Ingress: the controller has published an address (ip or hostname). */
export function ingressVerdict(ing: KubeObject | undefined): Verdict {
  if (!ing) return { done: false, progress: 'not created yet' };
  const entries = (ing.status?.loadBalancer?.ingress as Array<{ ip?: string; hostname?: string }> | undefined) ?? [];
  const address = entries.map((e) => e.ip ?? e.hostname).find(Boolean);
  return { done: Boolean(address), progress: address ? `${ing.metadata.name} at ${address}` : `${ing.metadata.name} waiting for an address` };
}

const byName = (name: string) => (items: KubeObject[]) => items.find((i) => i.metadata.name === name);

/** True for a Service whose endpoints come from pods (no selector: ExternalName or manual endpoints). */
export function servesPods(service: KubeObject): boolean {
  return service.spec?.type !== 'ExternalName' && Object.keys(service.spec?.selector ?? {}).length > 0;
}

/**
 * The gates of one applied object. Kinds whose data model state is "present" (Secret,
 * ServiceAccount, RBAC, NetworkPolicy, Dapr objects, Service) are satisfied by the apply itself:
 * the API server answered with the stored object.
 */
export function gatesFor(object: KubeObject): Gate[] {
  const name = object.metadata.name;
  const namespace = object.metadata.namespace;
  switch (object.kind) {
    case 'Namespace':
      return [{ title: `namespace ${name}`, goal: `Namespace ${name} to be Active`, target: { kind: NAMESPACE_KIND, name }, evaluate: (items) => namespaceVerdict(byName(name)(items)), subject: object }];
    case 'Deployment':
      return [{ title: `${name} rolling out`, goal: `Deployment ${namespace}/${name} to roll out`, target: { kind: DEPLOYMENT_KIND, namespace, name }, evaluate: (items) => deploymentVerdict(byName(name)(items)), subject: object }];
    case 'Ingress':
      return [{ title: `${name} address`, goal: `Ingress ${namespace}/${name} to get an address from the ingress controller`, target: { kind: INGRESS_KIND, namespace, name }, evaluate: (items) => ingressVerdict(byName(name)(items)), subject: object }];
    default:
      return [];
  }
}

/** Once the Deployments are available, every pod-backed Service must have a ready endpoint before the Ingress. */
export function endpointGate(service: KubeObject): Gate {
  const name = service.metadata.name;
  return {
    title: `${name} endpoints`,
    goal: `Service ${service.metadata.namespace}/${name} to have ready endpoints`,
    target: { kind: SLICE_KIND, namespace: service.metadata.namespace, labelSelector: `kubernetes.io/service-name=${name}` },
    evaluate: (items) => endpointsVerdict(name, items),
    subject: service,
  };
}

/** Gone: used by `down` after each delete. */
export function goneVerdict(name: string) {
  return (items: KubeObject[]): Verdict => {
    const item = items.find((i) => i.metadata.name === name);
    if (!item) return { done: true, progress: `${name} gone` };
    return { done: false, progress: item.metadata.deletionTimestamp ? `${name} terminating` : `${name} still present` };
  };
}
