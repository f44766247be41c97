// Every object in a namespace, of every kind the API server serves (custom resources
// included), found through API discovery: what `down` must know before it deletes a
// namespace, since deleting the namespace deletes all of it.
//
// Discovery is two requests where the server offers aggregated discovery (Kubernetes 1.30 and
// later: every group's resources in one answer for /api and one for /apis), else one per API
// group as before. The lists go straight to the paths discovery gives, on raw.ts's kept-alive
// connection, all at once: no second discovery by the client library per kind.
import type { KubeObject } from '../types.ts';
import type { Cluster } from './client.ts';
import { getJson, requestJson, resourcePath } from './raw.ts';

interface Resource {
  /** The plural, as in the path. */
  name: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

interface ResourceList {
  groupVersion: string;
  resources: Resource[];
}

/** apidiscovery.k8s.io/v2 APIGroupDiscoveryList, the parts read here. */
interface AggregatedDiscovery {
  kind?: string;
  items?: {
    metadata?: { name?: string };
    /** In order of preference: the first is the group's preferred version. */
    versions?: { version: string; resources?: { resource: string; responseKind?: { kind?: string }; scope?: string; verbs?: string[] }[] }[];
  }[];
}

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Each group at its preferred version from one aggregated discovery document; undefined when the server does not offer it. Pure. */
export function fromAggregated(doc: AggregatedDiscovery): ResourceList[] | undefined {
  if (doc.kind !== 'APIGroupDiscoveryList' || !Array.isArray(doc.items)) return undefined;
  return doc.items.flatMap((group) => {
    const preferred = group.versions?.[0];
    if (!preferred) return [];
    const name = group.metadata?.name ?? '';
    return [{
      groupVersion: name ? `${name}/${preferred.version}` : preferred.version,
      resources: (preferred.resources ?? []).map((r) => ({ name: r.resource, kind: r.responseKind?.kind ?? '', namespaced: r.scope === 'Namespaced', verbs: r.verbs ?? [] })),
    }];
  });
}

/** Every group at its preferred version, with its resources. */
async function discover(cluster: Cluster): Promise<ResourceList[]> {
  const accept = `${AGGREGATED},application/json`;
  const [core, groups] = await Promise.all([requestJson<AggregatedDiscovery>(cluster, 'GET', '/api', { accept }), requestJson<AggregatedDiscovery>(cluster, 'GET', '/apis', { accept })]);
  const aggregated = [fromAggregated(core), fromAggregated(groups)];
  if (aggregated[0] && aggregated[1]) return aggregated.flatMap((a) => a ?? []);
  // An older server: its group list, then each group's resources.
  const names = groups as unknown as { groups?: { preferredVersion: { groupVersion: string } }[] };
  const versions = ['v1', ...(names.groups ?? []).map((g) => g.preferredVersion.groupVersion)];
  const lists = await Promise.all(
    // A group whose discovery fails (an aggregated API that is down) cannot hold objects we could list.
    versions.map((gv) => getJson<ResourceList>(cluster, gv === 'v1' ? '/api/v1' : `/apis/${gv}`).catch(() => undefined)),
  );
  return lists.filter((l): l is ResourceList => l !== undefined);
}

/** Namespaced kinds that can be listed, one entry per kind at its group's preferred version, with its plural. */
export async function listableNamespacedKinds(cluster: Cluster): Promise<{ apiVersion: string; kind: string; plural: string }[]> {
  return (await discover(cluster)).flatMap((list) =>
    (list.resources ?? [])
      .filter((r) => r.namespaced && !r.name.includes('/') && r.verbs.includes('list'))
      .map((r) => ({ apiVersion: list.groupVersion, kind: r.kind, plural: r.name })),
  );
}

/** Every object in the namespace, of every listable kind. */
export async function namespaceObjects(cluster: Cluster, namespace: string): Promise<KubeObject[]> {
  const kinds = await listableNamespacedKinds(cluster);
  const lists = await Promise.all(
    kinds.map(async (k) => {
      // A kind that cannot be listed (an aggregated API that is down) holds nothing we could see.
      const list = await getJson<{ items?: KubeObject[] }>(cluster, resourcePath({ kind: { ...k, namespaced: true }, namespace })).catch(() => undefined);
      return (list?.items ?? []).map((item) => ({ ...item, apiVersion: k.apiVersion, kind: k.kind }));
    }),
  );
  return lists.flat();
}
