// What the cluster holds of the stack: one list per kind of the creation order, all at once.
// Namespaced kinds are listed in the namespace by the managed-by labels (so what is listed is
// exactly what todo-deploy may prune); the Namespace itself by name, whoever created it (up
// adopts a namespace it did not create, and down keeps it). The lists' resourceVersions let a
// watch start where the list ended.
import { DeployError } from '../errors.ts';
import { MANAGED_SELECTOR } from '../manifests.ts';
import { STAGES, type KindRef } from '../order.ts';
import type { KubeObject } from '../types.ts';
import type { Cluster } from './client.ts';
import { ApiStatusError, getJson, resourcePath } from './raw.ts';

export interface LiveList {
  kind: KindRef;
  items: KubeObject[];
  /** The list's resourceVersion (a watch from it misses nothing); undefined when the kind is not served. */
  resourceVersion?: string;
  /** False when the cluster does not serve the kind (no Dapr CRDs): nothing of it exists. */
  served: boolean;
}

export interface LiveState {
  namespace: string;
  lists: LiveList[];
  /** Every object listed, in the order of the creation order's kinds. */
  objects: KubeObject[];
}

/** Every kind of the creation order, once. */
export function orderKinds(): KindRef[] {
  return STAGES.flatMap((s) => s.kinds);
}

interface RawList {
  metadata?: { resourceVersion?: string };
  items?: KubeObject[];
}

/** One kind's objects as the API server sends them (see raw.ts); served: false on a 404 (no such kind). */
export async function listKind(cluster: Cluster, kind: KindRef, namespace: string, options: { selector?: boolean } = {}): Promise<LiveList> {
  // Without the managed-by selector: objects others make for ours (a Service's EndpointSlices).
  const query = !kind.namespaced ? { fieldSelector: `metadata.name=${namespace}` } : options.selector === false ? {} : { labelSelector: MANAGED_SELECTOR };
  try {
    const list = await getJson<RawList>(cluster, resourcePath({ kind, namespace }), query);
    const items = (list.items ?? []).map((item) => ({ ...item, apiVersion: kind.apiVersion, kind: kind.kind }));
    return { kind, items, resourceVersion: list.metadata?.resourceVersion, served: true };
  } catch (err) {
    if (!(err instanceof ApiStatusError)) throw err;
    if (err.code === 404) return { kind, items: [], served: false };
    throw new DeployError(`Listing ${kind.kind} objects${kind.namespaced ? ` in namespace ${namespace}` : ''} failed: ${err.message}`);
  }
}

/**
 * Lists every kind of the creation order concurrently: one request per kind, no discovery.
 * With namespaceFirst, the Namespace is listed first and, when it does not exist, nothing else
 * (an absent namespace holds nothing): one request for a first deploy instead of eleven.
 */
export async function readLive(cluster: Cluster, namespace: string, options: { namespaceFirst?: boolean } = {}): Promise<LiveState> {
  const kinds = orderKinds();
  let lists: LiveList[];
  if (options.namespaceFirst) {
    const [nsKind, ...rest] = [kinds.find((k) => !k.namespaced)!, ...kinds.filter((k) => k.namespaced)];
    const ns = await listKind(cluster, nsKind, namespace);
    lists = ns.items.length === 0 ? [ns, ...rest.map((kind) => ({ kind, items: [], served: true }))] : [ns, ...(await Promise.all(rest.map((kind) => listKind(cluster, kind, namespace))))];
  } else {
    lists = await Promise.all(kinds.map((kind) => listKind(cluster, kind, namespace)));
  }
  return { namespace, lists, objects: lists.flatMap((l) => l.items) };
}
