// Server-side apply and delete, one object at a time, with API errors turned into sentences
// that name the object and its manifest line.
import { DeployError } from '../errors.ts';
import { KINDS } from '../kinds.ts';
import { kindRefOf, objectRef, type KindRef } from '../order.ts';
import type { KubeObject } from '../types.ts';
import { networkCause, unreachableError, type Cluster } from './client.ts';
import { ApiStatusError, getJson, requestJson, resourcePath } from './raw.ts';

export const FIELD_MANAGER = 'todo-deploy';

interface ApiErrorLike {
  code?: number;
  body?: unknown;
  message?: string;
}

/** The API server's own message from a failed request (its Status body), else the error's. */
export function apiMessage(err: unknown): string {
  const e = err as ApiErrorLike;
  let body = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // plain text body
    }
  }
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  return typeof body === 'string' && body ? body : (e.message ?? String(err));
}

export function statusCode(err: unknown): number | undefined {
  const code = (err as ApiErrorLike).code;
  return typeof code === 'number' ? code : undefined;
}

/** Explains a failure to apply, with the fix for the cases people meet. */
export function applyError(cluster: Cluster, object: KubeObject, where: string, err: unknown): DeployError {
  const cause = networkCause(err);
  if (cause) return unreachableError(cluster, cause);
  const message = apiMessage(err);
  const ref = objectRef(object);
  // "Unrecognized API version and kind" is client-node's own: discovery lists the group but not the kind.
  if (/resource .* not found|the server could not find the requested resource|no matches for kind|unrecognized api version and kind/i.test(message) || (statusCode(err) === 404 && object.apiVersion.includes('dapr.io'))) {
    return new DeployError(
      `The cluster does not know ${object.apiVersion} ${object.kind} (${ref}, from ${where}). ` +
        (object.apiVersion.startsWith('dapr.io')
          ? 'The Dapr CRDs are not installed. Fix: install the Dapr control plane (`dapr init -k`, or `helm upgrade --install dapr dapr/dapr -n dapr-system --create-namespace`).'
          : 'Fix: install the CRD that defines this kind, or remove the object.'),
      { cause: err },
    );
  }
  return new DeployError(`The API server rejected ${ref} (from ${where}): ${message}`, { cause: err });
}

interface Resource {
  plural: string;
  namespaced: boolean;
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** Per cluster and API group version: the resources it serves (asked at most once). */
const discovered = new WeakMap<Cluster, Map<string, Promise<ApiResource[]>>>();

function groupVersionResources(cluster: Cluster, apiVersion: string): Promise<ApiResource[]> {
  let cache = discovered.get(cluster);
  if (!cache) discovered.set(cluster, (cache = new Map()));
  let resources = cache.get(apiVersion);
  if (!resources) {
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    resources = getJson<{ resources?: ApiResource[] }>(cluster, path).then(
      (list) => list.resources ?? [],
      (err) => {
        if (err instanceof ApiStatusError && err.code === 404) return []; // the group is not served
        throw err;
      },
    );
    cache.set(apiVersion, resources);
  }
  return resources;
}

/** A kind's resource name: from the creation order's table, else from discovery. */
async function resourceOf(cluster: Cluster, apiVersion: string, kind: string): Promise<Resource | undefined> {
  const known = kindRefOf({ apiVersion, kind });
  if (known) return known;
  const match = (await groupVersionResources(cluster, apiVersion)).find((r) => r.kind === kind && !r.name.includes('/'));
  return match ? { plural: match.name, namespaced: match.namespaced } : undefined;
}

/** The REST path of one object. */
async function objectPath(cluster: Cluster, object: KubeObject): Promise<string> {
  const resource = await resourceOf(cluster, object.apiVersion, object.kind);
  if (!resource) throw new DeployError(`no matches for kind "${object.kind}" in version "${object.apiVersion}"`);
  const base = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  const ns = resource.namespaced ? `/namespaces/${object.metadata.namespace ?? 'default'}` : '';
  return `${base}${ns}/${resource.plural}/${encodeURIComponent(object.metadata.name)}`;
}

/**
 * Server-side apply with our field manager; force takes over fields last set by hand (kubectl
 * edit). The object is sent as written (see raw.ts: client-node's models drop fields they
 * rename, such as a NetworkPolicy rule's `from`), and the stored object comes back as JSON.
 */
export async function applyObject(cluster: Cluster, object: KubeObject): Promise<KubeObject> {
  const path = await objectPath(cluster, object);
  return requestJson<KubeObject>(cluster, 'PATCH', path, { query: { fieldManager: FIELD_MANAGER, force: 'true' }, body: object, contentType: 'application/apply-patch+yaml' });
}

/** Kinds whose objects own others (a Deployment its ReplicaSets and pods). */
const OWNER_KINDS = new Set(['Deployment']);

/**
 * How a delete propagates: foreground for owners, so that a Deployment is gone only once its pods
 * are ("Deployments (stops Pods)"); background for the rest, which own nothing here, because a
 * foreground delete waits for a garbage-collector pass even with no dependents (about a second
 * each, and up to its 30 s discovery resync for a kind it has not seen yet, such as a new CRD's).
 */
export function propagationFor(kind: string): 'Foreground' | 'Background' {
  return OWNER_KINDS.has(kind) ? 'Foreground' : 'Background';
}

/**
 * Deletes an object (background propagation) and says whether it is gone: an object without
 * finalizers and without a grace period is removed by the DELETE itself, so only one that is
 * still there ('pending': finalizers, such as a Namespace's, or a Pod's grace period) needs a
 * wait. 'absent': it was gone already.
 */
export async function deleteNow(cluster: Cluster, object: KubeObject, propagationPolicy: 'Background' | 'Foreground' | 'Orphan' = 'Background'): Promise<'gone' | 'pending' | 'absent'> {
  try {
    const answer = await requestJson<KubeObject>(cluster, 'DELETE', await objectPath(cluster, object), { body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy } });
    if (answer?.kind === 'Status') return 'gone';
    const meta = answer?.metadata ?? ({} as KubeObject['metadata']);
    // Still there: marked for deletion (finalizers, a Namespace's spec.finalizers, a grace period).
    const finalizers = [...((meta.finalizers as string[] | undefined) ?? []), ...((answer?.spec?.finalizers as string[] | undefined) ?? [])];
    return meta.deletionTimestamp || finalizers.length > 0 || Number(meta.deletionGracePeriodSeconds ?? 0) > 0 ? 'pending' : 'gone';
  } catch (err) {
    if (err instanceof ApiStatusError && err.code === 404) return 'absent';
    if (err instanceof ApiStatusError) throw new DeployError(`Deleting ${objectRef(object)} failed: ${apiMessage(err)}`, { cause: err });
    throw err;
  }
}

/** Deletes every object of a kind in a namespace that a label selector matches (one request). */
export async function deleteMatching(cluster: Cluster, kind: KindRef, namespace: string, labelSelector: string): Promise<void> {
  await requestJson(cluster, 'DELETE', resourcePath({ kind, namespace }), { query: { labelSelector }, body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' } });
}

/** Deletes an object (see propagationFor). Returns false when it was already gone. */
export async function deleteObject(cluster: Cluster, object: KubeObject): Promise<boolean> {
  try {
    await cluster.objects.delete(object, undefined, undefined, undefined, undefined, propagationFor(object.kind));
    return true;
  } catch (err) {
    if (statusCode(err) === 404) return false;
    const cause = networkCause(err);
    if (cause) throw unreachableError(cluster, cause);
    throw new DeployError(`Deleting ${objectRef(object)} failed: ${apiMessage(err)}`, { cause: err });
  }
}

/** A list's objects (apiVersion and kind set on each) and its resourceVersion; undefined when the cluster does not serve the kind. */
type Listed = { items: KubeObject[]; resourceVersion?: string } | undefined;

/** Lists objects of a kind; undefined when the cluster does not serve the kind (for example no Dapr CRDs). */
export async function listObjects(
  cluster: Cluster,
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  labelSelector?: string,
  fieldSelector?: string,
): Promise<Listed> {
  const ref = tableRef(apiVersion, kind);
  if (!ref) return listThroughClient(cluster, { apiVersion, kind, namespace, labelSelector, fieldSelector });
  try {
    // A kind of the table: its path is known, so no discovery request, and the kept-alive connection of raw.ts.
    const list = await getJson<{ metadata?: { resourceVersion?: string }; items?: KubeObject[] }>(cluster, resourcePath({ kind: ref, namespace }), { labelSelector, fieldSelector });
    const items = (list.items ?? []).map((item) => ({ ...item, apiVersion, kind }));
    return { items, resourceVersion: list.metadata?.resourceVersion };
  } catch (err) {
    // Network failures arrive as raw.ts's unreachableError already.
    if (!(err instanceof ApiStatusError)) throw err;
    if (err.code === 404) return undefined;
    throw new DeployError(`Listing ${kind} objects${namespace ? ` in namespace ${namespace}` : ''} failed: ${apiMessage(err)}`, { cause: err });
  }
}

/** The kind table's reference for an apiVersion and kind, when the table has it. */
function tableRef(apiVersion: string, kind: string): KindRef | undefined {
  return kindRefOf({ apiVersion, kind }) ?? Object.values(KINDS).find((k) => k.ref.apiVersion === apiVersion && k.ref.kind === kind)?.ref;
}

/** A kind the table does not know: client-node finds its path by discovery. */
async function listThroughClient(
  cluster: Cluster,
  { apiVersion, kind, namespace, labelSelector, fieldSelector }: { apiVersion: string; kind: string; namespace?: string; labelSelector?: string; fieldSelector?: string },
): Promise<Listed> {
  try {
    const list = await cluster.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, fieldSelector, labelSelector);
    const items = (list.items as KubeObject[]).map((item) => ({ ...item, apiVersion, kind }));
    return { items, resourceVersion: list.metadata?.resourceVersion };
  } catch (err) {
    const cause = networkCause(err);
    if (cause) throw unreachableError(cluster, cause);
    if (statusCode(err) === 404 || /Unrecognized API version and kind|not found|could not find/i.test(apiMessage(err))) return undefined;
    throw new DeployError(`Listing ${kind} objects${namespace ? ` in namespace ${namespace}` : ''} failed: ${apiMessage(err)}`, { cause: err });
  }
}
