// Reading what `npm run status` reports: the stack's objects (one list per kind of the creation
// order), its pods and EndpointSlices, the release history, and whether each Ingress answers
// over HTTP. lib/status.ts puts it into the data model's words.
import { request } from 'node:http';
import { KINDS, ingressAddress } from '../kinds.ts';
import { MANAGED_SELECTOR } from '../manifests.ts';
import { RELEASE_NAME } from '../release/record.ts';
import { releaseStore } from '../release/store.ts';
import { statusReport, type StatusReport } from '../status.ts';
import type { KubeObject } from '../types.ts';
import type { Cluster } from './client.ts';
import { listObjects } from './apply.ts';
import { readLive } from './live.ts';

/** True when http://<address>/ answers at all (any status) for the host, within the timeout. */
export function answersHttp(address: string, host: string | undefined, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: address, port: 80, path: '/', method: 'GET', headers: host ? { host } : {}, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function readStatus(cluster: Cluster, namespace: string, options: { probeIngress?: boolean } = {}): Promise<StatusReport> {
  const [live, pods, slices, history] = await Promise.all([
    readLive(cluster, namespace),
    listObjects(cluster, KINDS.Pod.ref.apiVersion, KINDS.Pod.ref.kind, namespace, MANAGED_SELECTOR),
    listObjects(cluster, KINDS.EndpointSlice.ref.apiVersion, KINDS.EndpointSlice.ref.kind, namespace),
    releaseStore(cluster, namespace, RELEASE_NAME).history(),
  ]);
  const reachable: Record<string, boolean> = {};
  if (options.probeIngress !== false) {
    for (const ing of live.objects.filter((o: KubeObject) => o.kind === 'Ingress')) {
      const address = ingressAddress(ing);
      if (address) reachable[ing.metadata.name] = await answersHttp(address, ing.spec?.rules?.[0]?.host);
    }
  }
  return statusReport({ namespace, objects: live.objects, pods: pods?.items ?? [], endpointSlices: slices?.items ?? [], history, reachable });
}
