// Whether kube-proxy has routed each Service's ready endpoints on the real node: its iptables
// DNAT rules in the node's network namespace. A Service's gate passes once its EndpointSlice
// lists a ready endpoint; kube-proxy writes the rule for it after that, on its own schedule
// (at least minSyncPeriod after its last sync), and until then a connection to the Service's
// address is refused. `up` on the real node prints the app's URL only once every ready endpoint
// of the namespace's Services is routed, so what it prints works when it says so.
import { execFileSync } from 'node:child_process';
import { listObjects } from '../../kube/apply.ts';
import type { Cluster } from '../../kube/client.ts';
import type { KubeObject } from '../../types.ts';
import { inNetns } from './network.ts';
import { waitUntilNoneLeft, type Settled } from './settle.ts';

export interface ServiceEndpoint {
  /** namespace/service:port-name, as kube-proxy's rule comments name it. */
  service: string;
  address: string;
  port: number;
}

/** The ready endpoints of every Service in a namespace, from its EndpointSlices. */
export async function readyEndpoints(cluster: Cluster, namespace: string): Promise<ServiceEndpoint[]> {
  return endpointsOf((await listObjects(cluster, 'discovery.k8s.io/v1', 'EndpointSlice', namespace))?.items ?? [], namespace);
}

/** The ready endpoints kube-proxy is to route, from EndpointSlices. Pure. */
export function endpointsOf(slices: readonly KubeObject[], namespace: string): ServiceEndpoint[] {
  return slices.flatMap((s: any) => {
    const labels = s.metadata?.labels ?? {};
    const service = labels['kubernetes.io/service-name'];
    // kube-proxy routes neither headless Services nor slices another proxy serves; the node is IPv4 only.
    if (!service || 'service.kubernetes.io/headless' in labels || 'service.kubernetes.io/service-proxy-name' in labels || s.addressType !== 'IPv4') return [];
    return ((s.ports ?? []) as any[]).flatMap((p) =>
      ((s.endpoints ?? []) as any[]).filter((e) => e.conditions?.ready).flatMap((e) => (e.addresses as string[]).map((address) => ({ service: `${namespace}/${service}${p.name ? `:${p.name}` : ''}`, address, port: p.port as number }))),
    );
  });
}

/** The node's NAT rules, as kube-proxy wrote them. */
export function natRules(): string {
  const [cmd, ...args] = inNetns(['iptables-save', '-t', 'nat']);
  return execFileSync(cmd!, args, { encoding: 'utf8' });
}

/** The endpoints no DNAT rule of their Service leads to yet (iptables-save quotes a comment with a / or :). Pure. */
export function unrouted(rules: string, endpoints: readonly ServiceEndpoint[]): ServiceEndpoint[] {
  const lines = rules.split('\n').filter((l) => l.includes('-j DNAT'));
  const named = (l: string, service: string) => l.includes(`--comment "${service}"`) || l.includes(`--comment ${service} `);
  return endpoints.filter((e) => !lines.some((l) => named(l, e.service) && l.includes(`--to-destination ${e.address}:${e.port}`)));
}

const key = (e: ServiceEndpoint) => `${e.service} ${e.address}:${e.port}`;

export const describeEndpoints = (endpoints: readonly ServiceEndpoint[]) => endpoints.map(key).join(', ');

/**
 * Waits until kube-proxy routes every ready endpoint of the namespace's Services; returns how
 * long that took and what was not routed at first (empty when all was). Throws at the deadline.
 */
export async function waitForServiceRoutes(cluster: Cluster, namespace: string, options: { deadlineMs: number; explain: () => string; rules?: () => string }): Promise<Settled<ServiceEndpoint>> {
  const rules = options.rules ?? natRules;
  return waitUntilNoneLeft(
    async (previous) => {
      const ready = await readyEndpoints(cluster, namespace);
      if (!previous) return unrouted(rules(), ready);
      // Only endpoints still ready count (a pod that went meanwhile is no longer waited for).
      const still = new Set(ready.map(key));
      return unrouted(rules(), previous.filter((e) => still.has(key(e))));
    },
    {
      deadlineMs: options.deadlineMs,
      timeout: (left) => new Error(`kube-proxy on the real node has not routed ${describeEndpoints(left)} within ${Math.round(options.deadlineMs / 1000)} s of their Services' gates passing, so the app's Services do not reach those pods yet. ${options.explain()}`),
    },
  );
}
