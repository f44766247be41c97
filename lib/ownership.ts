// What todo-deploy owns, and so what `up` may change and `down` may delete. Pure: the rules are
// decided on objects read from the cluster, and tested without one.
//
// - A namespace is todo-deploy's only when it carries the managed-by labels, which `up` sets
//   on a namespace it creates. An existing namespace without them is the user's: `up` deploys
//   into it without relabelling it, and refuses only when its Pod Security level is stricter
//   than the stack's pods are made for (the fix says how to relax it, or to use another
//   namespace); `down` keeps it.
// - In a namespace todo-deploy created, an object it did not create is the user's: `down`
//   lists such objects and keeps the namespace (deleting the namespace would delete them)
//   unless --force is given.
import { isManaged } from './manifests.ts';
import { LOCK_NAME } from './release/lock.ts';
import { RELEASE_NAME } from './release/record.ts';
import type { KubeObject } from './types.ts';
import { objectRef } from './order.ts';

export { isManaged };

export const POD_SECURITY_ENFORCE = 'pod-security.kubernetes.io/enforce';
const LEVELS = ['privileged', 'baseline', 'restricted'] as const;

/** Pod Security level of a namespace; a namespace without the label admits everything. */
function level(ns: KubeObject | undefined): number {
  const value = ns?.metadata.labels?.[POD_SECURITY_ENFORCE] ?? 'privileged';
  const at = (LEVELS as readonly string[]).indexOf(value);
  return at === -1 ? LEVELS.length : at; // an unknown level: treat as the strictest
}

export type NamespacePlan =
  | { action: 'create'; note?: undefined }
  | { action: 'apply'; note?: undefined }
  | { action: 'keep'; note: string }
  | { action: 'refuse'; reason: string };

/**
 * What `up` does with its Namespace object, given what the cluster holds: create it, apply it
 * (ours already), or leave the user's namespace as it is; refuse when the user's namespace
 * enforces a stricter Pod Security level than the stack's namespace asks for.
 */
export function planNamespace(planned: KubeObject, existing: KubeObject | undefined): NamespacePlan {
  if (!existing) return { action: 'create' };
  if (isManaged(existing)) return { action: 'apply' };
  const name = planned.metadata.name;
  if (level(existing) > level(planned)) {
    const want = planned.metadata.labels?.[POD_SECURITY_ENFORCE] ?? 'privileged';
    return {
      action: 'refuse',
      reason:
        `Namespace ${name} exists and is not todo-deploy's, and it enforces Pod Security "${existing.metadata.labels?.[POD_SECURITY_ENFORCE]}" where the stack needs "${want}" ` +
        `(the Dapr sidecar is injected into pods there). todo-deploy does not relabel a namespace it did not create; nothing was applied. ` +
        `Fix: relax it yourself (\`kubectl label namespace ${name} ${POD_SECURITY_ENFORCE}=${want} --overwrite\`), or deploy into another namespace (--namespace).`,
    };
  }
  return { action: 'keep', note: `namespace ${name} exists and is not todo-deploy's: deploying into it without changing it (down will keep it)` };
}

/** Kinds whose objects are made by the cluster itself, never by a user. */
const GENERATED_KINDS = new Set(['Event', 'Endpoints', 'EndpointSlice', 'ControllerRevision', 'PodMetrics']);

/**
 * True for an object a user (or another tool) put in the namespace, as opposed to one
 * todo-deploy created, one derived from another object (owner references: a Deployment's
 * ReplicaSets and pods), or one the cluster creates in every namespace. Pure.
 */
export function isUserObject(object: KubeObject): boolean {
  if (isManaged(object) || GENERATED_KINDS.has(object.kind)) return false;
  if (((object.metadata.ownerReferences as unknown[] | undefined) ?? []).length > 0) return false;
  const { kind, metadata } = object;
  if (kind === 'ConfigMap' && metadata.name === 'kube-root-ca.crt') return false;
  if (kind === 'ServiceAccount' && metadata.name === 'default') return false;
  if (kind === 'Secret' && object.type === 'kubernetes.io/service-account-token') return false;
  // todo-deploy's own bookkeeping: the release records (Helm's format) and the run lock.
  if (kind === 'Secret' && object.type === 'helm.sh/release.v1' && metadata.labels?.name === RELEASE_NAME) return false;
  if (kind === 'Lease' && metadata.name === LOCK_NAME) return false;
  return true;
}

/** The sentence `down` says when it keeps its namespace for the user's objects. */
export function keptNamespaceText(namespace: string, userObjects: KubeObject[]): string {
  const shown = userObjects.slice(0, 10).map(objectRef).join(', ');
  const more = userObjects.length > 10 ? ` and ${userObjects.length - 10} more` : '';
  return (
    `namespace ${namespace} kept: it holds ${userObjects.length} object(s) todo-deploy did not create (${shown}${more}), which deleting it would delete. ` +
    `Fix: move or delete them yourself, or run down again with --force to delete the namespace with them.`
  );
}
