// The creation order of the data model ("Component Lifecycle"), named once. `up` walks it
// forwards, `down` backwards, and the tests read it from here.
import { UsageError } from './errors.ts';
import { KINDS, apiGroup, type KindRef } from './kinds.ts';
import type { KubeObject, SourcedObject } from './types.ts';

export { apiGroup, type KindRef } from './kinds.ts';

export interface Stage {
  /** 1-based position in the creation order. */
  number: number;
  id: string;
  title: string;
  kinds: readonly KindRef[];
}

export const STAGES: readonly Stage[] = [
  { number: 1, id: 'namespace', title: 'Namespace', kinds: [KINDS.Namespace.ref] },
  { number: 2, id: 'secrets', title: 'Secrets', kinds: [KINDS.Secret.ref] },
  { number: 3, id: 'serviceaccounts', title: 'ServiceAccounts', kinds: [KINDS.ServiceAccount.ref] },
  { number: 4, id: 'rbac', title: 'Roles and RoleBindings', kinds: [KINDS.Role.ref, KINDS.RoleBinding.ref] },
  { number: 5, id: 'dapr-configuration', title: 'Dapr Configuration', kinds: [KINDS.DaprConfiguration.ref] },
  { number: 6, id: 'dapr-components', title: 'Dapr Components', kinds: [KINDS.DaprComponent.ref] },
  { number: 7, id: 'networkpolicies', title: 'NetworkPolicies', kinds: [KINDS.NetworkPolicy.ref] },
  { number: 8, id: 'services', title: 'Services', kinds: [KINDS.Service.ref] },
  { number: 9, id: 'deployments', title: 'Deployments', kinds: [KINDS.Deployment.ref] },
  { number: 10, id: 'ingress', title: 'Ingress', kinds: [KINDS.Ingress.ref] },
];

/** Deletion is the creation order reversed (data model "Deletion Order"). */
export const DELETION_STAGES: readonly Stage[] = [...STAGES].reverse();

/**
 * The stage an object belongs to, matched by API group and kind (the version may differ:
 * networking.k8s.io/v1 and a future v2 are the same kind). Undefined when the order does not know it.
 */
export function stageOf(object: Pick<KubeObject, 'apiVersion' | 'kind'>): Stage | undefined {
  const group = apiGroup(object.apiVersion);
  return STAGES.find((s) => s.kinds.some((ref) => ref.kind === object.kind && apiGroup(ref.apiVersion) === group));
}

export function kindRefOf(object: Pick<KubeObject, 'apiVersion' | 'kind'>): KindRef | undefined {
  const group = apiGroup(object.apiVersion);
  return stageOf(object)?.kinds.find((ref) => ref.kind === object.kind && apiGroup(ref.apiVersion) === group);
}

export function knownKindsText(): string {
  return STAGES.flatMap((s) => s.kinds.map((ref) => `${ref.kind} (${ref.apiVersion})`)).join(', ');
}

export interface PlannedStage {
  stage: Stage;
  objects: SourcedObject[];
}

/**
 * Groups objects by stage in creation order, keeping file order within a stage. An object of a
 * kind the order does not know is refused: placing it by guess could create it before what it
 * depends on. Every stage is returned, empty ones included, so progress shows all ten.
 */
export function planStages(objects: readonly SourcedObject[]): PlannedStage[] {
  const unknown = objects.filter((o) => !stageOf(o.object));
  if (unknown.length > 0) {
    const list = unknown.map((o) => `  - ${o.file}:${o.line} ${o.object.kind} ${o.object.metadata.name} (${o.object.apiVersion})`).join('\n');
    throw new UsageError(
      `These objects are of a kind the creation order does not know, so their place in it is undefined; nothing was sent to a cluster:\n${list}\n` +
        `Fix: remove them from manifests/, or add their kind to a stage in lib/order.ts. Known kinds: ${knownKindsText()}.`,
    );
  }
  const seen = new Map<string, SourcedObject>();
  const duplicates: string[] = [];
  for (const o of objects) {
    const key = `${apiGroup(o.object.apiVersion)}/${objectRef(o.object)}`;
    const first = seen.get(key);
    if (first) duplicates.push(`  - ${objectRef(o.object)} at ${o.file}:${o.line} and ${first.file}:${first.line}`);
    else seen.set(key, o);
  }
  if (duplicates.length > 0) {
    // Applying both would let the later silently overwrite the earlier.
    throw new UsageError(`These objects are defined twice; nothing was sent to a cluster:\n${duplicates.join('\n')}\nFix: keep one definition of each object (or give the second another name).`);
  }
  return STAGES.map((stage) => ({ stage, objects: objects.filter((o) => stageOf(o.object) === stage) }));
}

export function objectRef(object: KubeObject): string {
  const ns = object.metadata.namespace ? `${object.metadata.namespace}/` : '';
  return `${object.kind}/${ns}${object.metadata.name}`;
}
