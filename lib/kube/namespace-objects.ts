// Every object in a namespace, of every kind the API server serves (custom resources
// included), found through API discovery: what `down` must know before it deletes a
// namespace, since deleting the namespace deletes all of it.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { DeployError } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import { listObjects } from './apply.ts';
import type { Cluster } from './client.ts';

interface ResourceList {
  groupVersion: string;
  resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
}

/** GET of a discovery document, with the kubeconfig's credentials and CA. */
async function getJson<T>(cluster: Cluster, path: string): Promise<T> {
  const url = new URL(path, cluster.server);
  const options: RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await cluster.kc.applyToHTTPSOptions(options);
  return new Promise<T>((resolve, reject) => {
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = send(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) return reject(new DeployError(`API discovery ${path} answered HTTP ${res.statusCode}.`));
        try {
          resolve(JSON.parse(body) as T);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`API discovery ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Namespaced kinds that can be listed, one entry per kind at its group's preferred version. */
export async function listableNamespacedKinds(cluster: Cluster): Promise<{ apiVersion: string; kind: string }[]> {
  const groups = await getJson<{ groups: { preferredVersion: { groupVersion: string } }[] }>(cluster, '/apis');
  const versions = ['v1', ...groups.groups.map((g) => g.preferredVersion.groupVersion)];
  const lists = await Promise.all(
    // A group whose discovery fails (an aggregated API that is down) cannot hold objects we could list.
    versions.map((gv) => getJson<ResourceList>(cluster, gv === 'v1' ? '/api/v1' : `/apis/${gv}`).catch(() => undefined)),
  );
  return lists.flatMap((list) =>
    (list?.resources ?? [])
      .filter((r) => r.namespaced && !r.name.includes('/') && r.verbs.includes('list'))
      .map((r) => ({ apiVersion: list!.groupVersion, kind: r.kind })),
  );
}

/** Every object in the namespace, of every listable kind. */
export async function namespaceObjects(cluster: Cluster, namespace: string): Promise<KubeObject[]> {
  const kinds = await listableNamespacedKinds(cluster);
  const lists = await Promise.all(kinds.map((k) => listObjects(cluster, k.apiVersion, k.kind, namespace).catch(() => undefined)));
  return lists.flatMap((l) => l?.items ?? []);
}
