// What `up` may leave alone: the plan diffed against the live objects (one list per kind, read
// once, concurrently), and the gates those same lists already answer. An unchanged object is
// not applied again; the gate of an unchanged object whose listed state already passes (a
// Deployment rolled out, the namespace Active, the Ingress with its address) is not watched.
// Every other object is applied and every other gate watched as before, so each stage is still
// gated. The endpoint gates are answered from one list of the namespace's EndpointSlices when
// no Deployment changed.
import { diffObjects, objectKey, type DiffEntry } from './diff.ts';
import type { KindRef } from './kinds.ts';
import type { Gate } from './readiness.ts';
import type { KubeObject } from './types.ts';

export interface ListedKind {
  kind: Pick<KindRef, 'apiVersion' | 'kind'>;
  items: readonly KubeObject[];
}

export interface Changes {
  entries: DiffEntry[];
  /** The lists the diff was made from (plus any listed later, e.g. EndpointSlices). */
  lists: ListedKind[];
}

/** The classification of planned objects against the listed ones (prune candidates left out: pruning is its own step). */
export function changesOf(planned: readonly KubeObject[], lists: ListedKind[], fieldManager: string): Changes {
  const live = lists.flatMap((l) => l.items);
  return { entries: diffObjects(planned, live, fieldManager).filter((e) => e.action !== 'prune'), lists };
}

/** True when applying the object would change nothing. */
export function isUnchanged(changes: Changes, object: KubeObject): boolean {
  const key = objectKey(object);
  return changes.entries.some((e) => e.action === 'unchanged' && objectKey({ apiVersion: e.apiVersion, kind: e.kind, metadata: { name: e.name, namespace: e.namespace } }) === key);
}

/** Equality-based label selector ("a=b,c=d") against labels. Pure. */
export function matchesSelector(labels: Record<string, string> | undefined, selector: string): boolean {
  return selector
    .split(',')
    .map((term) => term.trim())
    .filter(Boolean)
    .every((term) => {
      const [key, value] = term.split('=');
      return value !== undefined && labels?.[key!.trim()] === value.trim();
    });
}

/**
 * True when the lists already answer the gate with done: the gate's kind was listed, and its
 * verdict over the listed objects it targets says done. False means: watch as usual.
 */
export function answeredByLists(gate: Gate, lists: readonly ListedKind[]): boolean {
  const { kind, namespace, name, labelSelector } = gate.target;
  const listed = lists.find((l) => l.kind.kind === kind.kind && l.kind.apiVersion.split('/')[0] === kind.apiVersion.split('/')[0]);
  if (!listed) return false;
  const items = listed.items.filter(
    (o) =>
      (!kind.namespaced || !namespace || o.metadata.namespace === namespace) &&
      (!name || o.metadata.name === name) &&
      (!labelSelector || matchesSelector(o.metadata.labels, labelSelector)),
  );
  try {
    return gate.evaluate(items).done;
  } catch {
    return false;
  }
}
