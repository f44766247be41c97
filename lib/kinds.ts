// Every kind the pipeline touches, described once (in the manner of kstatus): its API reference
// (apiVersion, REST plural, namespaced) and a pure status function that names the object's
// state in the data model's words (Active, Terminating, Healthy, Failed, Address Assigned,
// Endpoints Available, ...) and says whether a gate on it is done. Gates, `down`, the
// providers' Dapr and ingress waits, diagnosis and the control plane read this table; the watch
// module imports its Verdict type from here. Pure: no I/O, no client library.
import type { KubeObject } from './types.ts';

/** How to reach a kind over the API. */
export interface KindRef {
  /** apiVersion the pipeline uses for this kind (listing during `down` needs one). */
  apiVersion: string;
  kind: string;
  /** Resource name in REST paths (watches need it). */
  plural: string;
  namespaced: boolean;
}

/** A judgement of the objects a gate watches. */
export interface Verdict {
  done: boolean;
  /** Short progress text for the task title, e.g. "backend 1/2 ready". */
  progress?: string;
  /** Set when the objects can no longer reach the goal (e.g. ProgressDeadlineExceeded): stop now. */
  failed?: string;
}

/** A verdict with the state named in the data model's words. */
export interface Status extends Verdict {
  state: string;
}

/** What a watch follows: one kind, optionally narrowed to a namespace, a name or a label selector. */
export interface WatchTarget {
  kind: KindRef;
  namespace?: string;
  name?: string;
  labelSelector?: string;
}

export interface KindInfo {
  ref: KindRef;
  /** The state of one object (undefined: not there). */
  status: (object: KubeObject | undefined) => Status;
}

/** State of an object that does not exist (yet, or any more). */
export const ABSENT = 'Absent';
const absent = (): Status => ({ state: ABSENT, done: false, progress: 'not created yet' });

/** Kinds whose data model state is reached when the API server has stored them (Secret, RBAC, ...). */
function present(state: string): (object: KubeObject | undefined) => Status {
  return (object) => (object ? { state, done: true, progress: `${object.metadata.name} ${state.toLowerCase()}` } : absent());
}

/** Drops the state: the shape a gate's watch judges by. */
export function verdictOf(status: Status): Verdict {
  const { state: _state, ...verdict } = status;
  return verdict;
}

type Condition = { type: string; status?: string; reason?: string; message?: string };

export function condition(object: KubeObject, type: string): Condition | undefined {
  return (object.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}

const observed = (o: KubeObject) => (o.status?.observedGeneration ?? 0) >= (o.metadata.generation ?? 1);

/** Namespace: Active, or Terminating (an earlier `down` must finish first). */
export function namespaceStatus(ns: KubeObject | undefined): Status {
  if (!ns) return absent();
  const phase: string = ns.status?.phase ?? 'Unknown';
  // The progress text replaces the task title, so it names the namespace as the other gates do.
  return { state: phase, done: phase === 'Active', progress: `namespace ${ns.metadata.name} ${phase}` };
}

/**
 * Deployment rolled out (Healthy): the controller has seen the latest spec (observedGeneration),
 * every desired replica runs the new template (updated) and is available, and no old replica
 * lingers. ProgressDeadlineExceeded means the controller gave up (Failed): stop now instead of at
 * the deadline. Otherwise Deployed (rolling out).
 */
export function deploymentStatus(d: KubeObject | undefined): Status {
  if (!d) return absent();
  const name = d.metadata.name;
  const desired: number = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const ready: number = s.readyReplicas ?? 0;
  const progress = `${name} ${ready}/${desired} ready`;
  const progressing = condition(d, 'Progressing');
  // Only a condition about the generation the controller has seen counts (as in `kubectl rollout
  // status`): right after a re-apply the status still carries the previous rollout's verdict.
  if (observed(d) && progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    const why = (progressing.message ?? 'no progress').replace(/\.$/, '');
    return { state: 'Failed', done: false, progress, failed: `Deployment ${name} exceeded its progress deadline: ${why}.` };
  }
  const done =
    observed(d) &&
    (s.updatedReplicas ?? 0) === desired &&
    (s.availableReplicas ?? 0) === desired &&
    (s.replicas ?? 0) === desired &&
    (s.unavailableReplicas ?? 0) === 0;
  return { state: done ? 'Healthy' : 'Deployed', done, progress };
}

/** StatefulSet rolled out: the controller saw the spec, every replica updated and ready. */
export function statefulSetStatus(s: KubeObject | undefined): Status {
  if (!s) return absent();
  const desired: number = s.spec?.replicas ?? 1;
  const st = s.status ?? {};
  const ready: number = st.readyReplicas ?? 0;
  const revisionDone = !st.updateRevision || st.currentRevision === st.updateRevision || (st.updatedReplicas ?? 0) === desired;
  const done = observed(s) && ready === desired && (st.replicas ?? 0) === desired && revisionDone;
  return { state: done ? 'Healthy' : 'Deployed', done, progress: `${s.metadata.name} ${ready}/${desired} ready` };
}

/** Job: Complete once it succeeded, Failed when its Failed condition is set. */
export function jobStatus(job: KubeObject | undefined): Status {
  if (!job) return absent();
  const name = job.metadata.name;
  if (condition(job, 'Failed')?.status === 'True') return { state: 'Failed', done: false, progress: `${name} failed`, failed: `Job ${name} failed.` };
  const done = (job.status?.succeeded ?? 0) >= 1;
  return { state: done ? 'Complete' : 'Running', done, progress: `${name} ${done ? 'complete' : 'running'}` };
}

/** The first address an ingress controller published for an Ingress (ip or hostname). The one place it is read. */
export function ingressAddress(ing: KubeObject | undefined): string | undefined {
  const entries = (ing?.status?.loadBalancer?.ingress as Array<{ ip?: string; hostname?: string }> | undefined) ?? [];
  return entries.map((e) => e.ip ?? e.hostname).find(Boolean);
}

/** Ingress: Address Assigned once the controller published one, else No Address. */
export function ingressStatus(ing: KubeObject | undefined): Status {
  if (!ing) return absent();
  const address = ingressAddress(ing);
  return address
    ? { state: 'Address Assigned', done: true, progress: `${ing.metadata.name} at ${address}` }
    : { state: 'No Address', done: false, progress: `${ing.metadata.name} waiting for an address` };
}

/** CustomResourceDefinition: Established when its resources can be created. */
export function crdStatus(crd: KubeObject | undefined): Status {
  if (!crd) return absent();
  const done = condition(crd, 'Established')?.status === 'True';
  return { state: done ? 'Established' : 'Not Established', done, progress: `${crd.metadata.name} ${done ? 'established' : 'not established'}` };
}

/** Node: Ready, and no longer tainted not-ready (the node controller lifts the taint once Ready). */
export function nodeStatus(node: KubeObject | undefined): Status {
  if (!node) return absent();
  const ready = condition(node, 'Ready')?.status === 'True';
  const tainted = ((node.spec?.taints as Array<{ key: string }> | undefined) ?? []).some((t) => t.key === 'node.kubernetes.io/not-ready');
  const done = ready && !tainted;
  return { state: done ? 'Ready' : 'NotReady', done, progress: `${node.metadata.name} ${done ? 'ready' : 'not ready'}` };
}

interface ContainerState {
  ready?: boolean;
  state?: { waiting?: { reason?: string }; terminated?: { reason?: string } };
  lastState?: { terminated?: { reason?: string } };
}

/** Pod: Pending, ContainerCreating, Running, Ready, or the reason holding a container back (ImagePullBackOff, CrashLoopBackOff, OOMKilled). */
export function podStatus(pod: KubeObject | undefined): Status {
  if (!pod) return absent();
  const name = pod.metadata.name;
  const containers = [...((pod.status?.initContainerStatuses as ContainerState[]) ?? []), ...((pod.status?.containerStatuses as ContainerState[]) ?? [])];
  const reason = containers.map((c) => c.state?.waiting?.reason ?? c.state?.terminated?.reason ?? c.lastState?.terminated?.reason).find((r) => r && r !== 'Completed');
  const ready = condition(pod, 'Ready')?.status === 'True';
  const state = ready ? 'Ready' : (reason ?? pod.status?.phase ?? 'Pending');
  return { state, done: ready, progress: `pod ${name} ${state}` };
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

/** A Service judged by its EndpointSlices: Endpoints Available, or No Endpoints (pods not ready). */
export function endpointsStatus(service: string, slices: KubeObject[]): Status {
  const ready = readyEndpointCount(slices);
  return { state: ready > 0 ? 'Endpoints Available' : 'No Endpoints', done: ready > 0, progress: `${service} ${ready} ready endpoint${ready === 1 ? '' : 's'}` };
}

/** Gone (what `down` waits for): no object of that name is listed any more. */
export function goneStatus(name: string, items: KubeObject[]): Status {
  const item = items.find((i) => i.metadata.name === name);
  if (!item) return { state: ABSENT, done: true, progress: `${name} gone` };
  return item.metadata.deletionTimestamp ? { state: 'Terminating', done: false, progress: `${name} terminating` } : { state: 'Present', done: false, progress: `${name} still present` };
}

const ref = (apiVersion: string, kind: string, plural: string, namespaced = true): KindRef => ({ apiVersion, kind, plural, namespaced });

/** The table: every kind the pipeline creates, deletes, waits on or reads. */
export const KINDS = {
  Namespace: { ref: ref('v1', 'Namespace', 'namespaces', false), status: namespaceStatus },
  Secret: { ref: ref('v1', 'Secret', 'secrets'), status: present('Stored') },
  ServiceAccount: { ref: ref('v1', 'ServiceAccount', 'serviceaccounts'), status: present('Created') },
  Role: { ref: ref('rbac.authorization.k8s.io/v1', 'Role', 'roles'), status: present('Applied') },
  RoleBinding: { ref: ref('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings'), status: present('Applied') },
  DaprConfiguration: { ref: ref('dapr.io/v1alpha1', 'Configuration', 'configurations'), status: present('Applied') },
  DaprComponent: { ref: ref('dapr.io/v1alpha1', 'Component', 'components'), status: present('Applied') },
  NetworkPolicy: { ref: ref('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies'), status: present('Applied') },
  // A Service's own state is "Created"; its endpoints are judged through its EndpointSlices.
  Service: { ref: ref('v1', 'Service', 'services'), status: present('Created') },
  Deployment: { ref: ref('apps/v1', 'Deployment', 'deployments'), status: deploymentStatus },
  Ingress: { ref: ref('networking.k8s.io/v1', 'Ingress', 'ingresses'), status: ingressStatus },
  // Read or waited on, never created by the stack:
  StatefulSet: { ref: ref('apps/v1', 'StatefulSet', 'statefulsets'), status: statefulSetStatus },
  Job: { ref: ref('batch/v1', 'Job', 'jobs'), status: jobStatus },
  ReplicaSet: { ref: ref('apps/v1', 'ReplicaSet', 'replicasets'), status: present('Created') },
  Pod: { ref: ref('v1', 'Pod', 'pods'), status: podStatus },
  Event: { ref: ref('v1', 'Event', 'events'), status: present('Recorded') },
  EndpointSlice: { ref: ref('discovery.k8s.io/v1', 'EndpointSlice', 'endpointslices'), status: present('Created') },
  IngressClass: { ref: ref('networking.k8s.io/v1', 'IngressClass', 'ingressclasses', false), status: present('Created') },
  CustomResourceDefinition: { ref: ref('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false), status: crdStatus },
  Node: { ref: ref('v1', 'Node', 'nodes', false), status: nodeStatus },
} as const satisfies Record<string, KindInfo>;

export type KindName = keyof typeof KINDS;

/** The API group of an apiVersion ("" for the core group). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/**
 * The table's entry for an object, matched by API group and kind (the version may differ:
 * networking.k8s.io/v1 and a future v2 are the same kind). Undefined when the table does not know it.
 */
export function kindInfoOf(object: Pick<KubeObject, 'apiVersion' | 'kind'>): KindInfo | undefined {
  const group = apiGroup(object.apiVersion);
  return Object.values(KINDS).find((k) => k.ref.kind === object.kind && apiGroup(k.ref.apiVersion) === group);
}

/** The state of any object in the data model's words ("Unknown" for a kind the table does not know). */
export function statusOf(object: KubeObject): Status {
  return kindInfoOf(object)?.status(object) ?? { state: 'Unknown', done: false };
}

// The verdicts gates and waits judge by (the status without its state word).
export const namespaceVerdict = (ns: KubeObject | undefined): Verdict => verdictOf(namespaceStatus(ns));
export const deploymentVerdict = (d: KubeObject | undefined): Verdict => verdictOf(deploymentStatus(d));
export const statefulSetVerdict = (s: KubeObject | undefined): Verdict => verdictOf(statefulSetStatus(s));
export const ingressVerdict = (ing: KubeObject | undefined): Verdict => verdictOf(ingressStatus(ing));
export const endpointsVerdict = (service: string, slices: KubeObject[]): Verdict => verdictOf(endpointsStatus(service, slices));
/** Gone, as a watch evaluator for `down`. */
export const goneVerdict = (name: string) => (items: KubeObject[]): Verdict => verdictOf(goneStatus(name, items));

