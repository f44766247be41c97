// Readiness gates: which watch waits for which state after an object is applied. The states
// themselves are the kind table's (lib/kinds.ts); this module pairs each applied object with the
// watch that waits for its state and places every gate in the stage it belongs to. Pure.
import { KINDS, endpointsVerdict, verdictOf, type KindInfo, type Verdict, type WatchTarget } from './kinds.ts';
import type { KubeObject } from './types.ts';

export interface Gate {
  /** Shown in the task title before progress arrives. */
  title: string;
  /** What we wait for, for the timeout message. */
  goal: string;
  target: WatchTarget;
  evaluate: (items: KubeObject[]) => Verdict;
  /** The object the gate is about, for diagnosis on failure. */
  subject: KubeObject;
  /** Watch the subject's pods too and fail at once on a state waiting will not heal (lib/kube/failfast.ts). */
  failFast?: boolean;
}

const byName = (name: string) => (items: KubeObject[]) => items.find((i) => i.metadata.name === name);

/** True for a Service whose endpoints come from pods (no selector: ExternalName or manual endpoints). */
export function servesPods(service: KubeObject): boolean {
  return service.spec?.type !== 'ExternalName' && Object.keys(service.spec?.selector ?? {}).length > 0;
}

/** A gate on one object's own status in the kind table, watched by name. */
function objectGate(object: KubeObject, info: KindInfo, title: string, goal: string): Gate {
  const name = object.metadata.name;
  const namespace = info.ref.namespaced ? object.metadata.namespace : undefined;
  const target: WatchTarget = namespace === undefined ? { kind: info.ref, name } : { kind: info.ref, namespace, name };
  return {
    title,
    goal,
    target,
    evaluate: (items) => verdictOf(info.status(byName(name)(items))),
    subject: object,
  };
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
    case 'Namespace': {
      const gate = objectGate(object, KINDS.Namespace, `namespace ${name}`, `Namespace ${name} to be Active`);
      // It was just applied: not there any more means something deleted it since (a `down`).
      const evaluate = (items: KubeObject[]): Verdict =>
        byName(name)(items) ? gate.evaluate(items) : { done: false, progress: `namespace ${name} was deleted after it was applied (is a down running?)` };
      return [{ ...gate, evaluate }];
    }
    case 'Deployment':
      return [{ ...objectGate(object, KINDS.Deployment, `${name} rolling out`, `Deployment ${namespace}/${name} to roll out`), failFast: true }];
    case 'Ingress':
      return [objectGate(object, KINDS.Ingress, `${name} address`, `Ingress ${namespace}/${name} to get an address from the ingress controller`)];
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
    target: { kind: KINDS.EndpointSlice.ref, namespace: service.metadata.namespace, labelSelector: `kubernetes.io/service-name=${name}` },
    evaluate: (items) => endpointsVerdict(name, items),
    subject: service,
  };
}

/**
 * Before a Namespace is applied: not Terminating. A namespace an earlier (or a running) `down`
 * is deleting cannot take new objects; applying it changes nothing, so `up` waits until it is
 * gone (then creates it anew) or Active.
 */
export function notTerminatingGate(namespace: KubeObject): Gate {
  const name = namespace.metadata.name;
  return {
    title: `namespace ${name} not being deleted`,
    goal: `Namespace ${name}, being deleted by an earlier down, to be gone`,
    target: { kind: KINDS.Namespace.ref, name },
    evaluate: (items) => {
      const status = KINDS.Namespace.status(byName(name)(items));
      if (status.state !== 'Terminating') return { done: true, progress: `namespace ${name} ${status.state === 'Absent' ? 'absent' : status.state}` };
      return { done: false, progress: `namespace ${name} Terminating: waiting until an earlier down has finished deleting it` };
    },
    subject: namespace,
  };
}

/** The gates of a stage, in the order they are waited for: each group together, the groups one after the other. */
export interface StageGates {
  /** Before the stage's objects are applied (a Namespace still being deleted must be gone first). */
  before: Gate[];
  /** The stage's own objects (rollouts, Namespace Active, Ingress address). */
  rollouts: Gate[];
  /** Gates about objects of earlier stages that only this stage can satisfy (Service endpoints need the pods). */
  endpoints: Gate[];
}

/**
 * The gates of every stage. A pod-backed Service's endpoints come from the pods of the
 * workloads, so its gate waits in the stage that creates them (the Deployments), after their
 * rollouts and before the Ingress; with no workload in the plan there is none.
 */
export function planGates<S extends { objects: readonly { object: KubeObject }[] }>(stages: readonly S[]): StageGates[] {
  const services = stages.flatMap((s) => s.objects.map((o) => o.object)).filter((o) => o.kind === 'Service' && servesPods(o));
  const makesPods = (s: S) => s.objects.some((o) => o.object.kind === KINDS.Deployment.ref.kind);
  return stages.map((s) => ({
    before: s.objects.filter((o) => o.object.kind === KINDS.Namespace.ref.kind).map((o) => notTerminatingGate(o.object)),
    rollouts: s.objects.flatMap((o) => gatesFor(o.object)),
    endpoints: makesPods(s) ? services.map(endpointGate) : [],
  }));
}
