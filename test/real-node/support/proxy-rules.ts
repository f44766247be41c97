// Whether kube-proxy has programmed each Service's ready endpoints on the node (its iptables
// DNAT rules in the node's network namespace) at a given moment: the suite looks right after
// up exits, to see whether a request sent then can reach every backend pod (a 502 was once seen
// there; see the smoke case).
import { execFileSync } from 'node:child_process';
import { DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { inNetns } from '../../../lib/controlplane/node/network.ts';

export interface ServiceEndpoint {
  /** namespace/service:port-name, as kube-proxy's rule comments name it. */
  service: string;
  address: string;
  port: number;
}

/** The ready endpoints of every Service in a namespace, from its EndpointSlices. */
export async function readyEndpoints(kc: KubeConfig, namespace: string): Promise<ServiceEndpoint[]> {
  const slices = (await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace })).items;
  return slices.flatMap((s) => {
    const service = s.metadata?.labels?.['kubernetes.io/service-name'];
    if (!service) return [];
    return (s.ports ?? []).flatMap((p) =>
      (s.endpoints ?? []).filter((e) => e.conditions?.ready).flatMap((e) => e.addresses.map((address) => ({ service: `${namespace}/${service}${p.name ? `:${p.name}` : ''}`, address, port: p.port! }))),
    );
  });
}

/** The node's NAT rules, as kube-proxy wrote them. */
export function natRules(): string {
  const [cmd, ...args] = inNetns(['iptables-save', '-t', 'nat']);
  return execFileSync(cmd!, args, { encoding: 'utf8' });
}

/** The endpoints no DNAT rule of their Service leads to yet. Pure. */
export function unprogrammed(rules: string, endpoints: readonly ServiceEndpoint[]): ServiceEndpoint[] {
  const lines = rules.split('\n').filter((l) => l.includes('-j DNAT'));
  const named = (l: string, service: string) => l.includes(`--comment "${service}"`) || l.includes(`--comment ${service} `);
  return endpoints.filter((e) => !lines.some((l) => named(l, e.service) && l.includes(`--to-destination ${e.address}:${e.port}`)));
}
